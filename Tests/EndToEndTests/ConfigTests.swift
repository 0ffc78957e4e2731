import Foundation
import HTTPTypes
import NzilaCore
import NzilaDatabase
import NzilaValues
import PostgresNIO
import Testing

@Suite("Tenant configuration")
struct ConfigTests {
    @Test("the tenant schema admits every configuration section the platform declares")
    func everySectionStorable() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "confkeys")
            let tenant = try await planes.tenantRef(f)
            let definition = try await planes.harness.owner.statement(
                """
                SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
                WHERE c.conname = 'tenant_config_key_check' AND n.nspname = \(tenant.slug.schemaName)
                """, logger: planes.harness.logger
            ) { try await $0.first(String.self) }
            let text = try #require(definition)
            for key in ConfigSections.all.map({ $0.key }) {
                #expect(text.contains("'\(key)'"), "tenant_config refuses the \(key) section: \(text)")
            }
        }
    }

    @Test("versions with ETag and If-Match, field-named validation, diff, rollback, domains enforced on the data plane, audited and immutable")
    func versionedConfiguration() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "conf")
            let other = try await planes.provisionFixture(prefix: "conf_other")
            let admin = try await planes.adminToken()
            let ifMatch = HTTPField.Name("If-Match")!
            let path = "/v1/tenants/\(f.slug)/config"
            let first = try await planes.control(.get, path, token: f.staffToken)
            #expect(first.status == .ok && first.headers[HTTPField.Name("ETag")!] == "\"1\"", "\(first.text)")
            #expect(first.json["version"] as? Int == 1 && (first.json["reason"] as? String)?.hasPrefix("Provisioned") == true)
            var config = try #require(first.json["config"] as? [String: Any])
            #expect(Set(config.keys) == ["branding", "domains", "fees", "kyc_limits", "compliance"])

            func put(_ document: Any, reason: String = "Pricing review", etag: String? = "\"1\"", token: String? = nil) async throws -> Planes.Reply {
                try await planes.control(
                    .put, path, token: token ?? f.staffToken, json: ["config": document, "reason": reason], headers: etag.map { [ifMatch: $0] } ?? [:])
            }
            #expect(try await put(config, etag: nil).status == .preconditionRequired)
            // Every bad field is named, with the config. prefix.
            var bad = config
            var branding = bad["branding"] as! [String: Any]
            branding["primary_color"] = "teal"
            bad["branding"] = branding
            bad["domains"] = ["banking", "gambling"]
            let refused = try await put(bad, reason: "")
            let fields = Set((refused.json["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String })
            #expect(refused.status == .unprocessableContent && fields == ["config.branding.primary_color", "config.domains[1]", "reason"], "\(refused.text)")

            // A tenant admin changes the spread and turns banking off; the data plane sees both at once.
            var fees = config["fees"] as! [String: Any]
            fees["fx_spread_bps"] = 175
            config["fees"] = fees
            config["domains"] = ["remittance"]
            let second = try await put(config)
            #expect(second.status == .ok && second.json["version"] as? Int == 2 && second.headers[HTTPField.Name("ETag")!] == "\"2\"", "\(second.text)")
            #expect(try await put(config, etag: "\"1\"").status == .preconditionFailed)
            #expect(try await put(config, etag: "\"2\"").json["version"] as? Int == 2, "an unchanged document makes no version")
            let own = try await harness.owner.withTransaction(logger: harness.logger) { connection in
                try await connection.query("SELECT set_config('app.tenant_id', \(f.tenantID), true)", logger: harness.logger)
                return try await connection.query(
                    PostgresQuery(unsafeSQL: "SELECT (value->>'fx_spread_bps')::int, version FROM t_\(f.slug).tenant_config WHERE key = 'fees'"),
                    logger: harness.logger
                ).first((Int, Int).self)
            }
            #expect(own?.0 == 175 && own?.1 == 2)
            var disabled: Planes.Reply?
            _ = try await eventually {
                disabled = try await planes.data(.get, "/v1/accounts", token: f.staffToken, tenant: f.slug)
                return disabled?.status == .forbidden
            }
            #expect(disabled?.problemCode == "domain-disabled", "\(disabled?.text ?? "")")
            #expect(try await planes.data(.get, "/v1/accounts", token: other.staffToken, tenant: other.slug).status == .ok)

            // Versions, one version, the diff.
            #expect(try await planes.control(.get, "\(path)/versions/2", token: admin).json["config"].flatMap { ($0 as? [String: Any])?["domains"] as? [String] } == ["remittance"])
            #expect(try await planes.control(.get, "\(path)/versions/9", token: admin).status == .notFound)
            let diff = try await planes.control(.get, "\(path)/diff?from=1&to=2", token: admin)
            let changes = diff.json["changes"] as? [[String: Any]] ?? []
            #expect(changes.contains { $0["path"] as? String == "fees.fx_spread_bps" && $0["before"] as? Int == 150 && $0["after"] as? Int == 175 }, "\(diff.text)")
            #expect(try await planes.control(.get, "\(path)/diff?from=x&to=2", token: admin).problemCode == "validation-failed")

            // Rollback: a new version equal to version 1; banking is back.
            let rollback = ["version": 1, "reason": "Spread change not approved"] as [String: Any]
            #expect(try await planes.control(.post, "\(path)/rollback", token: admin, json: rollback).status == .preconditionRequired)
            let third = try await planes.control(.post, "\(path)/rollback", token: admin, json: rollback, headers: [ifMatch: "\"2\""])
            #expect(third.json["version"] as? Int == 3 && third.json["rolled_back_from"] as? Int == 1, "\(third.text)")
            #expect((try await planes.control(.get, "\(path)/diff?from=1&to=3", token: admin).json["changes"] as? [Any])?.isEmpty == true)
            var back: HTTPResponse.Status?
            _ = try await eventually {
                back = try await planes.data(.get, "/v1/accounts", token: f.staffToken, tenant: f.slug).status
                return back == .ok
            }
            #expect(back == .ok)
            let versions = try await planes.control(.get, "\(path)/versions?limit=2", token: f.staffToken)
            let rows = versions.json["data"] as? [[String: Any]] ?? []
            #expect(rows.compactMap { $0["version"] as? Int } == [3, 2] && versions.json["next_cursor"] is String)
            #expect(rows.compactMap { $0["author_role"] as? String } == ["platform_admin", "tenant_admin"])
            let rest = try await planes.control(.get, "\(path)/versions?limit=2&cursor=\(versions.json["next_cursor"] as? String ?? "")", token: f.staffToken)
            #expect((rest.json["data"] as? [[String: Any]])?.compactMap { $0["version"] as? Int } == [1])

            // Who may: another tenant's admin sees nothing; staff below tenant admin read but do not write.
            #expect(try await planes.control(.get, path, token: other.staffToken).status == .notFound)
            let tellerEmail = "teller@\(f.slug).test"
            _ = try await planes.control(
                .post, "/v1/tenants/\(f.slug)/staff", token: admin, json: ["email": tellerEmail, "password": "staff password 123", "role": "teller"])
            let teller = try await planes.login(planes.cp, email: tellerEmail, password: "staff password 123")
            #expect(try await planes.control(.get, path, token: teller).status == .ok)
            #expect(try await put(config, etag: "\"3\"", token: teller).status == .forbidden)

            // Audited, and versions never change.
            let audit = try await harness.owner.statement(
                "SELECT action FROM control.audit_log WHERE target = \("tenant:\(f.slug)") AND action LIKE 'config.%' ORDER BY id", logger: harness.logger
            ) { try await $0.all(String.self) }
            #expect(audit == ["config.update", "config.rollback"])
            let tamper: String?
            do {
                try await harness.owner.statement("UPDATE control.tenant_config_versions SET reason = 'nothing happened'", logger: harness.logger) { _ in }
                tamper = nil
            } catch { tamper = DatabaseErrors.sqlState(error) }
            #expect(tamper == "42501")
        }
    }
}
