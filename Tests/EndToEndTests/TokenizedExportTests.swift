import ControlPlane
import Foundation
import NzilaCore
import NzilaDatabase
import PostgresNIO
import Testing

/// Issue 26: `nzila tenants export --tokenize-pii` — a staging copy of a serving tenant with every name, email, number
/// and address replaced by a token of the same shape, consistent within the export, that imports like any export.
@Suite("Tokenized exports")
struct TokenizedExportTests {
    @Test("no personal value of the tenant is left in the copy; tokens keep their shape and agree across tables; the copy imports")
    func tokenized() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "pii")
            let member = f.members[0]
            let profile = try await planes.data(.get, "/v1/members/\(member.id)", token: f.staffToken, tenant: f.slug)
            let email = try #require(profile.json["email"] as? String)
            let fullName = try #require(profile.json["full_name"] as? String)
            let document = try await planes.data(
                .post, "/v1/members/\(member.id)/kyc/documents", token: f.staffToken, tenant: f.slug,
                json: ["kind": "passport", "number": "A07731234", "issuing_country": "NG", "expires_on": "2031-05-01", "notes": "Seen at the Dartmouth branch by Chidi"])
            try #require(document.status == .created, "\(document.text)")
            try await planes.deposit(f, member: 0, minor: 50_000)
            let order = try await planes.remit(f, sendMinor: 10_000, name: "Ngozi Eze", extra: ["device_id": "ios-7F3A-22B9"])
            try #require(order.status == .created, "\(order.text)")

            let tenant = try #require(UUID(uuidString: f.tenantID))
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nzila-test-exports")
            let (archive, manifest, hash) = try await TenantArchive.export(
                tenant: tenant, slug: try TenantSlug(f.slug), tables: harness.catalog.tenantTables, into: folder, client: harness.owner,
                logger: harness.logger, tokenizer: PIITokenizer(), lock: false)
            _ = try archive.verify(expectedManifest: hash)
            var text = ""
            for entry in manifest.tables { text += try String(contentsOf: archive.folder.appendingPathComponent(entry.file), encoding: .utf8) }
            // Values long enough that a token or an id cannot contain them by chance (a four-digit hint could).
            for secret in [email, fullName, "Ngozi Eze", "ngozi eze", "+2348031234567", "2348031234567", "A07731234", "Dartmouth branch", "by Chidi", "ios-7F3A-22B9", "$argon2"] {
                #expect(!text.contains(secret), "\(secret) is still in the copy")
            }
            func rows(_ table: String) throws -> [[String: Any]] {
                try String(contentsOf: archive.folder.appendingPathComponent("tables/\(table).jsonl"), encoding: .utf8).split(separator: "\n")
                    .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            }
            let members = try rows("members")
            let copied = try #require(members.first { $0["id"] as? String == member.id })
            let tokenEmail = try #require(copied["email"] as? String), tokenName = try #require(copied["full_name"] as? String)
            #expect(tokenEmail.count == email.count && tokenEmail.contains("@") && tokenEmail == tokenEmail.lowercased())
            #expect(tokenName.count == fullName.count && copied["password_hash"] as? String == "tokenized")
            // The member's onboarding screening names them: the same token there as in members.
            let subjects = try rows("screenings").compactMap { ($0["subject"] as? [String: Any])?["name"] as? String }
            #expect(subjects.contains(tokenName), "\(subjects) / \(tokenName)")
            // Screening results keep the name as normalized words (camelCase keys): tokenized too.
            let words = try rows("screenings").flatMap { row -> [String] in
                ((row["result"] as? [String: Any])?["normalizedName"] as? [String] ?? []) + (row["normalized_name"] as? [String] ?? [])
            }
            #expect(!words.isEmpty && !words.contains("ngozi") && !words.contains(fullName.split(separator: " ").first!.lowercased()), "\(words)")
            let recipient = try #require(try rows("remittances").first?["recipient"] as? [String: Any])
            #expect((recipient["name"] as? String)?.count == "Ngozi Eze".count && recipient["country"] as? String == "NG")
            #expect(try rows("kyc_documents").first?["number_hint"] as? String != "1234")

            // It restores as a tenant of its own.
            let tools = TenantLifecycleTools(
                client: harness.owner, provisioner: Provisioner(migrator: Migrator(catalog: harness.catalog, logger: harness.logger), poolGroups: harness.poolGroups),
                projectRoot: harness.root, clock: planes.control.clock, logger: harness.logger)
            let restored = try await tools.importArchive(archive, as: try TenantSlug("\(f.slug)_stg"), name: nil, actor: "test")
            let count = try await harness.owner.transaction(logger: harness.logger) { connection in
                try await connection.query("SELECT set_config('app.tenant_id', \(restored.id.rawValue.uuidString), true)", logger: harness.logger)
                return try await connection.query(
                    PostgresQuery(unsafeSQL: "SELECT count(*)::int FROM t_\(f.slug)_stg.members WHERE email = '\(tokenEmail)'"), logger: harness.logger
                ).first(Int.self)
            }
            #expect(count == 1)
        }
    }

    @Test("every text or JSON column of a tenant schema with a personal-sounding name is tokenized, or said not to be personal")
    func declared() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "piicols")
            let columns = try await harness.owner.statement(
                """
                SELECT table_name || '.' || column_name FROM information_schema.columns
                WHERE table_schema = \("t_\(f.slug)") AND data_type IN ('text', 'jsonb', 'ARRAY', 'character varying')
                  AND column_name ~ '(name|email|phone|msisdn|hint|device|address|recipient|subject|note|comment|description|account|number|birth|result|summary|reason|title|body|thesis|memo|text|detail)'
                ORDER BY 1
                """, logger: harness.logger
            ) { try await $0.all(String.self) }
            let tokenized = Set(TenantPII.columns.map { "\($0.table).\($0.column)" })
            let undeclared = columns.filter { !tokenized.contains($0) && TenantPII.notPersonal[$0] == nil }
            #expect(undeclared.isEmpty, "declare these in TenantPII: \(undeclared)")
            let all = try await harness.owner.statement(
                "SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = \("t_\(f.slug)")", logger: harness.logger
            ) { try await $0.all(String.self) }
            #expect(tokenized.subtracting(all).isEmpty, "declared but not there: \(tokenized.subtracting(all))")
        }
    }
}
