import Foundation
import HTTPTypes
import NzilaCore
import NzilaDatabase
import PostgresNIO
import Testing

@Suite("KYC tiers and evidence")
struct KYCTests {
    @Test("evidence is recorded with the number sealed at rest; tiers move only with their evidence; unsealing is audited; history kept")
    func tiers() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "kyc")
            let member = f.members[0]
            func post(_ path: String, _ json: [String: Any], token: String? = nil) async throws -> Planes.Reply {
                try await planes.data(.post, "/v1/members/\(member.id)/kyc\(path)", token: token ?? f.staffToken, tenant: f.slug, json: json)
            }
            let passportNumber = "AB1234567"
            let passport = try await post("/documents", ["kind": "passport", "number": passportNumber, "issuing_country": "ng", "expires_on": "2031-05-01"])
            #expect(passport.status == .created, "\(passport.text)")
            #expect(passport.json["number_masked"] as? String == "•••• 4567" && passport.json["issuing_country"] as? String == "NG")
            #expect(!passport.text.contains(passportNumber), "the number never comes back in full")
            let documentID = try #require(passport.json["id"] as? String)

            // At rest: only the sealed bytes and a four-character hint; the data key itself is sealed too.
            let stored = try await harness.owner.transaction(logger: harness.logger) { connection in
                try await connection.query("SELECT set_config('app.tenant_id', \(f.tenantID), true)", logger: harness.logger)
                return try await connection.query(
                    PostgresQuery(unsafeSQL: """
                        SELECT encode(d.number_sealed, 'escape'), d.number_hint, length(k.sealed_key)
                        FROM t_\(f.slug).kyc_documents d JOIN t_\(f.slug).tenant_data_keys k ON k.id = d.key_id
                        """), logger: harness.logger
                ).first((String, String, Int).self)
            }
            #expect(stored?.0.contains(passportNumber) == false && stored?.1 == "4567" && (stored?.2 ?? 0) > 32)

            // Tier 2 needs an identity document and a selfie match.
            let early = try await post("/tier", ["tier": 2, "reason": "ID checked at the branch"])
            #expect(early.status == .unprocessableContent && early.problemCode == "kyc-evidence-missing" && early.text.contains("selfie_match"))
            #expect(try await post("/documents", ["kind": "selfie_match", "notes": "Liveness check passed"]).status == .created)
            let moved = try await post("/tier", ["tier": 2, "reason": "ID checked at the branch"])
            #expect(moved.status == .ok && moved.json["tier"] as? Int == 2, "\(moved.text)")
            let history = try #require(moved.json["history"] as? [[String: Any]])
            #expect(history.count == 1 && history[0]["from_tier"] as? Int == 1 && history[0]["to_tier"] as? Int == 2)
            #expect((history[0]["document_ids"] as? [String])?.contains(documentID) == true)

            // Validation names every field; an expired document is not evidence.
            let bad = try await post("/documents", ["kind": "passport", "number": "x", "issuing_country": "Nigeria", "expires_on": "2020-01-01"])
            let fields = Set(((bad.json["errors"] as? [[String: Any]]) ?? []).compactMap { $0["field"] as? String })
            #expect(bad.status == .unprocessableContent && fields == ["number", "issuing_country", "expires_on"], "\(bad.text)")
            #expect(try await post("/documents", ["kind": "proof_of_address", "number": "123456"]).status == .unprocessableContent)

            // The member sees their own tier and masked evidence; another member sees nothing.
            let own = try await planes.data(.get, "/v1/members/\(member.id)/kyc", token: member.token, tenant: f.slug)
            #expect(own.status == .ok && own.json["tier"] as? Int == 2 && !own.text.contains(passportNumber))
            let other = try await planes.data(.get, "/v1/members/\(member.id)/kyc", token: f.members[1].token, tenant: f.slug)
            #expect(other.status == .notFound)
            #expect(try await post("/documents", ["kind": "selfie_match"], token: member.token).status == .forbidden)

            // Unsealing: the full number, for a role that may, and audited.
            let revealed = try await post("/documents/\(documentID)/reveal", [:])
            #expect(revealed.status == .ok && revealed.json["number"] as? String == passportNumber && revealed.headers[.cacheControl] == "no-store")
            let audits = try await harness.owner.statement(
                """
                SELECT count(*)::int FROM control.audit_log WHERE tenant_id = \(UUID(uuidString: f.tenantID)!)
                    AND action = 'POST /v1/members/{id}/kyc/documents/{id}/reveal'
                """, logger: harness.logger
            ) { try await $0.first(Int.self) }
            #expect(audits == 1)
            // A sealed number opens only as the document it was sealed for.
            try await harness.owner.transaction(logger: harness.logger) { connection in
                try await connection.query("SELECT set_config('app.tenant_id', \(f.tenantID), true)", logger: harness.logger)
                try await connection.query(PostgresQuery(unsafeSQL: """
                    ALTER TABLE t_\(f.slug).kyc_documents DISABLE TRIGGER kyc_documents_immutable;
                    """), logger: harness.logger)
                try await connection.query(PostgresQuery(unsafeSQL: """
                    UPDATE t_\(f.slug).kyc_documents SET member_id = '\(f.members[1].id)' WHERE id = '\(documentID)'
                    """), logger: harness.logger)
                try await connection.query(PostgresQuery(unsafeSQL: """
                    ALTER TABLE t_\(f.slug).kyc_documents ENABLE TRIGGER kyc_documents_immutable;
                    """), logger: harness.logger)
            }
            let moved2 = try await planes.data(
                .post, "/v1/members/\(f.members[1].id)/kyc/documents/\(documentID)/reveal", token: f.staffToken, tenant: f.slug, json: [:])
            #expect(moved2.status == .conflict && moved2.problemCode == "sealed-data-mismatch", "\(moved2.status)")
        }
    }
}
