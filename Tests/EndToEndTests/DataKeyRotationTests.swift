import Compliance
import DataPlane
import Foundation
import NzilaCore
import NzilaDatabase
import PostgresNIO
import Testing

/// Issue 26: `nzila keys rotate-data-key` — a tenant's sealed fields move to a new data key in batches while it
/// serves; an interrupted rotation resumes; old keys go only when nothing refers to them.
@Suite("Data key rotation")
struct DataKeyRotationTests {
    struct Stop: Error {}

    @Test("fields sealed before a rotation open after it; a rotation stopped part-way resumes under the same key; old keys go once unused and superseded")
    func rotate() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "rotate")
            let member = f.members[0]
            func document(_ number: String) async throws -> String {
                let reply = try await planes.data(
                    .post, "/v1/members/\(member.id)/kyc/documents", token: f.staffToken, tenant: f.slug,
                    json: ["kind": "passport", "number": number, "issuing_country": "NG", "expires_on": "2031-05-01"])
                try #require(reply.status == .created, "\(reply.text)")
                return try #require(reply.json["id"] as? String)
            }
            func reveal(_ id: String) async throws -> String? {
                let reply = try await planes.data(
                    .post, "/v1/members/\(member.id)/kyc/documents/\(id)/reveal", token: f.staffToken, tenant: f.slug, json: [:])
                return reply.json["number"] as? String
            }
            let numbers = ["A01234567", "B07654321", "C05550123"]
            var documents: [String] = []
            for number in numbers { documents.append(try await document(number)) }
            // A KYC file, sealed in the document store.
            let photo = KYCFileTests.jpeg(900, marker: "ROTATED-PHOTO")
            let uploaded = try await KYCFileTests.upload(planes, f, member: member.id, token: f.staffToken, bytes: photo)
            try #require(uploaded.status == .created, "\(uploaded.text)")
            let fileID = try #require(uploaded.json["id"] as? String)
            func file() async throws -> (objectKey: String, keyID: Int)? {
                try await harness.owner.transaction(logger: harness.logger) { connection in
                    try await connection.query("SELECT set_config('app.tenant_id', \(f.tenantID), true)", logger: harness.logger)
                    return try await connection.query(
                        PostgresQuery(unsafeSQL: "SELECT object_key, key_id FROM t_\(f.slug).kyc_files WHERE id = '\(fileID)'"), logger: harness.logger
                    ).first((String, Int).self)
                }
            }
            func revealFile() async throws -> Data {
                try await planes.data(
                    .post, "/v1/members/\(member.id)/kyc/files/\(fileID)/reveal", token: f.staffToken, tenant: f.slug, json: ["reason": "rotation check"]).body
            }
            let before = try #require(try await file())
            try await planes.deposit(f, member: 0, minor: 50_000)
            let order = try await planes.remit(f, sendMinor: 10_000)
            try #require(order.status == .created, "\(order.text)")
            let orderID = try #require(order.json["id"] as? String)

            func keyIDs() async throws -> [Int] {
                try await harness.owner.transaction(logger: harness.logger) { connection in
                    try await connection.query("SELECT set_config('app.tenant_id', \(f.tenantID), true)", logger: harness.logger)
                    return try await connection.query(
                        PostgresQuery(unsafeSQL: """
                            SELECT key_id FROM t_\(f.slug).kyc_documents WHERE number_sealed IS NOT NULL
                            UNION ALL SELECT key_id FROM t_\(f.slug).remittances WHERE recipient_sealed IS NOT NULL ORDER BY 1
                            """), logger: harness.logger
                    ).all(Int.self)
                }
            }
            #expect(try await keyIDs() == [1, 1, 1, 1])
            let tenant = try #require(UUID(uuidString: f.tenantID))
            var rotation = DataKeyRotation(columns: DataPlane.sealedColumns, provider: harness.keys, logger: harness.logger)
            rotation.objects = [KYCFileResealing(stores: [Harness.localDocuments])]
            rotation.batchSize = 1
            rotation.settle = .zero
            let now: @Sendable () -> Date = { planes.clock.now() }

            // Stopped after its first batch, as a crash would: that row is under key 2, the rest under key 1, all open.
            await #expect(throws: Stop.self) {
                _ = try await rotation.run(client: harness.owner, tenant: tenant, schema: "t_\(f.slug)", now: now) { _ in throw Stop() }
            }
            #expect(try await keyIDs() == [1, 1, 1, 2])
            for (id, number) in zip(documents, numbers) { #expect(try await reveal(id) == number) }

            // Run again: the same rotation is finished, not another started; key 1 is kept (superseded just now).
            let batches = BatchCounter()
            let resumed = try await rotation.run(client: harness.owner, tenant: tenant, schema: "t_\(f.slug)", now: now) { _ in batches.add() }
            #expect(resumed.keyID == 2 && resumed.resumed && resumed.deleted.isEmpty && resumed.kept == [1], "\(resumed)")
            #expect(resumed.resealed.values.reduce(0, +) == 4 && batches.value == 4 && resumed.resealed["kyc_files objects"] == 1, "\(resumed.resealed)")
            #expect(try await keyIDs() == [2, 2, 2, 2])
            for (id, number) in zip(documents, numbers) { #expect(try await reveal(id) == number, "opens after the rotation") }
            // The file: a new object under the new key, the old one gone, the same bytes revealed.
            let after = try #require(try await file())
            #expect(after.keyID == 2 && after.objectKey == before.objectKey + "-k2", "\(after)")
            #expect(try await Harness.localDocuments.get(before.objectKey) == nil)
            #expect(try await revealFile() == photo)
            // The worker opens the recipient under the new key to pay it out.
            try await planes.drain(f)
            let paid = try await planes.order(f, orderID)
            #expect(paid["state"] as? String == "delivered", "\(paid)")

            // A later rotation, over ten minutes on: key 1 is gone (nothing refers to it), key 2 stays a while longer.
            planes.clock.advance(seconds: 11 * 60)
            let again = try await rotation.run(client: harness.owner, tenant: tenant, schema: "t_\(f.slug)", now: now)
            #expect(again.keyID == 3 && !again.resumed && again.deleted == [1] && again.kept == [2], "\(again)")
            #expect(try await keyIDs() == [3, 3, 3, 3])
            #expect(try await file()?.objectKey == before.objectKey + "-k3")
            #expect(try await revealFile() == photo)
            for (id, number) in zip(documents, numbers) { #expect(try await reveal(id) == number) }

            // A sealed value that does not open (altered at rest) stops the batch whole, naming the row.
            try await harness.owner.transaction(logger: harness.logger) { connection in
                try await connection.query("SELECT set_config('app.tenant_id', \(f.tenantID), true)", logger: harness.logger)
                try await connection.query(
                    PostgresQuery(unsafeSQL: "UPDATE t_\(f.slug).kyc_documents SET number_sealed = number_sealed || '\\x00'::bytea WHERE id = '\(documents[0])'"),
                    logger: harness.logger)
            }
            await #expect(throws: DataKeyRotation.Failure.self) {
                _ = try await rotation.run(client: harness.owner, tenant: tenant, schema: "t_\(f.slug)", now: now)
            }
            let tampered = try await harness.owner.transaction(logger: harness.logger) { connection in
                try await connection.query("SELECT set_config('app.tenant_id', \(f.tenantID), true)", logger: harness.logger)
                return try await connection.query(
                    PostgresQuery(unsafeSQL: "SELECT key_id FROM t_\(f.slug).kyc_documents WHERE id = '\(documents[0])'"), logger: harness.logger
                ).first(Int.self)
            }
            #expect(tampered == 3, "the row that does not open is left as it was")
            // The intact documents open, whichever key their batch left them under.
            let intact = [try await reveal(documents[1]), try await reveal(documents[2])]
            #expect(intact == [numbers[1], numbers[2]])
        }
    }

    @Test("every column of a tenant schema sealed under the data key is declared for rotation, with its key column")
    func declared() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "sealedcols")
            // Columns named *_sealed in tables with a foreign key to tenant_data_keys (webhook secrets and push tokens are
            // sealed under the platform key instead, and KYC file objects live in the document store).
            let found = try await harness.owner.statement(
                """
                SELECT c.table_name || '.' || c.column_name FROM information_schema.columns c
                WHERE c.table_schema = \("t_\(f.slug)") AND c.column_name LIKE '%\\_sealed' AND c.data_type = 'bytea'
                  AND EXISTS (SELECT 1 FROM pg_constraint k WHERE k.contype = 'f'
                              AND k.conrelid = (quote_ident(c.table_schema) || '.' || quote_ident(c.table_name))::regclass
                              AND k.confrelid = (quote_ident(c.table_schema) || '.tenant_data_keys')::regclass)
                ORDER BY 1
                """, logger: harness.logger
            ) { try await $0.all(String.self) }
            #expect(found == DataPlane.sealedColumns.map { "\($0.table).\($0.sealed)" }.sorted())
        }
    }
}

final class BatchCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
