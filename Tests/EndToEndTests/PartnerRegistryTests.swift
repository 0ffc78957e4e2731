import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NzilaCore
import NzilaDatabase
import NzilaPartners
import PostgresNIO
import Remittance
import Testing

/// Issue 25: payout partners as configuration. A connection of the platform's registry (`control.partner_connections`)
/// with its credential by reference, built into a data plane's partners, chosen by one tenant's `payouts` section and
/// not by another's; the balance check `nzila partners test` makes.
@Suite("Payout partners by configuration")
struct PartnerRegistryTests {
    @Test("a tenant's payouts section routes a corridor to a registry connection; another tenant keeps the corridor's partners")
    func routedByConfiguration() async throws {
        let harness = try await Harness.get()
        let calls = HTTPPartnerTests.Calls()
        try await HTTPPartnerTests.partnerAPI(calls).test(.live) { api in
            let name = "flw-\(UUID().uuidString.prefix(8).lowercased())"
            let missing = "\(name)-nokey"
            try await harness.owner.statement(
                """
                INSERT INTO control.partner_connections (name, kind, base_url, credential, methods, timeout_ms, attempts)
                VALUES (\(name), 'transfers', \("http://127.0.0.1:\(api.port!)"), 'env:NZILA_TEST_FLW_KEY', ARRAY['mobile_money'], 15000, 2),
                       (\(missing), 'transfers', \("http://127.0.0.1:\(api.port!)"), 'env:NZILA_TEST_ABSENT_KEY', ARRAY['mobile_money'], 15000, 2)
                """, logger: harness.logger) { _ in }
            // The table refuses a secret where a reference belongs, and a sandbox name.
            for (bad, credential) in [("flw-plain", "sk_live_123"), ("sandbox-x", "env:KEY")] {
                await #expect(throws: (any Error).self) {
                    try await harness.owner.statement(
                        """
                        INSERT INTO control.partner_connections (name, kind, base_url, credential, methods, timeout_ms, attempts)
                        VALUES (\(bad), 'transfers', 'https://api.example.com', \(credential), ARRAY['mobile_money'], 1000, 1)
                        """, logger: harness.logger) { _ in }
                }
            }
            // Read as data planes read it: through PgBouncer as the data plane's login (nzila_app).
            let connections = try await PartnerConnection.all(client: harness.registry, logger: harness.logger).filter { $0.name.hasPrefix(name) }
            #expect(connections.map(\.name) == [name, missing])
            #expect(connections.first?.credential == .environment("NZILA_TEST_FLW_KEY"))
            // The credential is read from where the reference points; a connection whose credential is absent is left out.
            let partners = PayoutPartners.configured(connections, environment: ["NZILA_TEST_FLW_KEY": "test-key"], logger: harness.logger)
            #expect(partners.partner(named: name) != nil && partners.partner(named: missing) == nil && partners.partner(named: "sandbox-momo") != nil)
            let http = try #require(partners.partner(named: name) as? HTTPPayoutPartner)
            #expect(try await http.check() == 200)
            let wrongKey = try #require(try connections[0].partner(environment: ["NZILA_TEST_FLW_KEY": "other"]) as? HTTPPayoutPartner)
            #expect(try await wrongKey.check() == 401)
            #expect(throws: CredentialReference.Unresolved.self) { try connections[1].partner(environment: [:]) }

            try await harness.withPlanes(partners: partners) { planes in
                let routed = try await planes.provisionFixture(prefix: "prr")
                let plain = try await planes.provisionFixture(prefix: "prp")
                let path = "/v1/tenants/\(routed.slug)/config"
                let current = try await planes.control(.get, path, token: routed.staffToken)
                var config = try #require(current.json["config"] as? [String: Any])
                let ifMatch: HTTPFields = [HTTPField.Name("If-Match")!: current.headers[HTTPField.Name("ETag")!] ?? ""]
                // A list the platform cannot read is refused with where it is wrong, and nothing is written.
                config["payouts"] = ["routes": [["corridor": "CAD-NGN", "method": "teleport", "partners": [name, "Bad Name"]]]]
                let refused = try await planes.control(.put, path, token: routed.staffToken, json: ["config": config, "reason": "Partners"], headers: ifMatch)
                #expect(refused.status == .unprocessableContent, "\(refused.text)")
                #expect(refused.text.contains("payouts.routes[0].method") && refused.text.contains("payouts.routes[0].partners[1]"), "\(refused.text)")
                // A partner the registry does not have would fail and refund every order of the corridor: refused by name.
                config["payouts"] = ["routes": [["corridor": "CAD-NGN", "method": "mobile_money", "partners": ["\(name)-typo", "sandbox-momo"]]]]
                let unknown = try await planes.control(.put, path, token: routed.staffToken, json: ["config": config, "reason": "Partners"], headers: ifMatch)
                #expect(unknown.status == .unprocessableContent, "\(unknown.text)")
                #expect(unknown.text.contains("config.payouts.routes[0].partners[0]") && unknown.text.contains("names no partner connection"), "\(unknown.text)")
                #expect(!unknown.text.contains("partners[1]"), "a built-in sandbox partner is known: \(unknown.text)")
                config["payouts"] = ["routes": [["corridor": "CAD-NGN", "method": "mobile_money", "partners": [name, "sandbox-momo"]]]]
                let saved = try await planes.control(.put, path, token: routed.staffToken, json: ["config": config, "reason": "Our partner"], headers: ifMatch)
                #expect(saved.status == .ok, "\(saved.text)")

                func payout(_ f: Planes.Fixture) async throws -> String {
                    try await planes.deposit(f, member: 0, minor: 50_000)
                    let placed = try await planes.remit(f, name: "Ada Bello")
                    #expect(placed.status == .created, "\(placed.text)")
                    let id = try #require(placed.json["id"] as? String)
                    try await planes.drain(f)
                    #expect(try await planes.order(f, id)["state"] as? String == "delivered")
                    return try await planes.session(f).run { db in
                        try await db.query("SELECT partner FROM partner_attempts WHERE remittance_id = \(UUID(uuidString: id)!) ORDER BY attempt").all(String.self)
                    }.joined(separator: ",")
                }
                #expect(try await payout(routed) == name)
                #expect(calls.counts.withLock { $0["Ada Bello"] } == 1)
                #expect(try await payout(plain) == "sandbox-momo")
                #expect(calls.counts.withLock { $0["Ada Bello"] } == 1)
            }
            try await harness.owner.statement(
                "DELETE FROM control.partner_connections WHERE name IN (\(name), \(missing))", logger: harness.logger) { _ in }
        }
    }

    @Test("nzila partners add, list, test and remove: audited, the credential a reference in the database, the log and the output")
    func command() async throws {
        let harness = try await Harness.get()
        let binary = harness.root.appendingPathComponent(".build/debug/nzila")
        try #require(FileManager.default.isExecutableFile(atPath: binary.path), "build the nzila executable first")
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("nzila-partners-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: state) }
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
        // The command is awaited, never waited for on a thread of the test's pool: the stand-in partner it calls answers
        // from that pool. Its output goes to a file (a pipe read only at the end could fill and stall it).
        @Sendable func nzila(_ arguments: [String], key: String? = nil) async throws -> (status: Int32, output: String) {
            let process = Process()
            process.executableURL = binary
            process.arguments = ["partners"] + arguments + ["--state", state.path]
            var environment = ProcessInfo.processInfo.environment
            environment["NZILA_DIRECT_URL"] = environment["NZILA_TEST_DIRECT_URL"]
            environment["NZILA_PGBOUNCER_URL"] = environment["NZILA_TEST_PGBOUNCER_URL"]
            environment["NZILA_HOME"] = harness.root.path
            environment["NZILA_LOG_LEVEL"] = "debug"
            environment["NZILA_TEST_PARTNER_KEY"] = key
            process.environment = environment
            let log = state.appendingPathComponent("output-\(UUID().uuidString).txt")
            FileManager.default.createFile(atPath: log.path, contents: nil)
            let output = try FileHandle(forWritingTo: log)
            defer { try? output.close() }
            process.standardOutput = output
            process.standardError = output
            let status: Int32 = try await withCheckedThrowingContinuation { continuation in
                process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
                do {
                    try process.run()
                } catch {
                    process.terminationHandler = nil
                    continuation.resume(throwing: error)
                }
            }
            return (status, try String(contentsOf: log, encoding: .utf8))
        }
        let calls = HTTPPartnerTests.Calls()
        try await HTTPPartnerTests.partnerAPI(calls).test(.live) { api in
            let name = "cli-\(UUID().uuidString.prefix(8).lowercased())"
            let add = ["add", name, "--base-url", "http://127.0.0.1:\(api.port!)", "--credential", "env:NZILA_TEST_PARTNER_KEY", "--methods", "mobile_money"]
            let added = try await nzila(add)
            #expect(added.status == 0 && added.output.contains("added \(name)"), "\(added.output)")
            #expect(try await nzila(add).status != 0, "adding it again needs --replace")
            #expect(try await nzila(add + ["--replace", "--timeout-ms", "5000"]).output.contains("changed \(name)"))
            let secret = try await nzila(["add", "cli-secret", "--base-url", "https://api.example.com", "--credential", "sk_live_123", "--methods", "mobile_money"])
            #expect(secret.status != 0 && secret.output.contains("env:NAME"), "\(secret.output)")
            #expect(try await nzila(["add", "cli-http", "--base-url", "http://api.example.com", "--credential", "env:K", "--methods", "mobile_money"]).status != 0)
            let thx = "\(name)-thx"
            let quotations = try await nzila([
                "add", thx, "--kind", "quotations", "--base-url", "http://127.0.0.1:\(api.port!)", "--credential", "file:/run/secrets/thx",
                "--callback-secret", "env:NZILA_TEST_THX_CALLBACK", "--methods", "cash_pickup", "--payer", "CAD-XAF/cash_pickup=4521",
                "--tenant", "cu_one", "--tenant", "cu_two"])
            #expect(quotations.status == 0, "\(quotations.output)")
            let noPayer = try await nzila(["add", "\(name)-np", "--kind", "quotations", "--base-url", "https://api.example.com", "--credential", "env:K", "--methods", "cash_pickup"])
            #expect(noPayer.status != 0 && noPayer.output.contains("needs a payer"), "\(noPayer.output)")
            let listedBoth = try await nzila(["list"])
            #expect(listedBoth.output.contains("callbacks signed with env:NZILA_TEST_THX_CALLBACK  payers CAD-XAF/cash_pickup=4521  tenants cu_one, cu_two"), "\(listedBoth.output)")
            #expect(try await nzila(["remove", thx]).status == 0)
            let listed = try await nzila(["list"])
            #expect(listed.output.contains("\(name)  transfers") && listed.output.contains("credential env:NZILA_TEST_PARTNER_KEY") && listed.output.contains("timeout 5000 ms"), "\(listed.output)")
            let tested = try await nzila(["test", name], key: "test-key")
            #expect(tested.status == 0 && tested.output.contains("\(name): ok (HTTP 200"), "\(tested.output)")
            let wrong = try await nzila(["test", name], key: "a-wrong-key-value")
            #expect(wrong.status != 0 && wrong.output.contains("refused the credential env:NZILA_TEST_PARTNER_KEY"), "\(wrong.output)")
            #expect(!wrong.output.contains("a-wrong-key-value") && !tested.output.contains("test-key"), "a credential never printed or logged")
            let unset = try await nzila(["test", name])
            #expect(unset.status != 0 && unset.output.contains("env:NZILA_TEST_PARTNER_KEY is not set"), "\(unset.output)")
            #expect(try await nzila(["remove", name]).output.contains("removed \(name)"))
            #expect(try await nzila(["remove", name]).status != 0)
            let audit = try await harness.owner.statement(
                "SELECT action, detail::text FROM control.audit_log WHERE target = \("partner:\(name)") ORDER BY id", logger: harness.logger
            ) { try await $0.all((String, String).self) }
            #expect(audit.map(\.0) == ["partner.add", "partner.update", "partner.remove"], "\(audit)")
            #expect(audit.allSatisfy { !$0.1.contains("test-key") } && audit[0].1.contains("env:NZILA_TEST_PARTNER_KEY"))
        }
    }

    @Test("connections are checked in words before anything is written; credentials are references, never values")
    func connectionRules() throws {
        let good = PartnerConnection(
            name: "flw-prod", kind: "transfers", baseURL: "https://api.flutterwave.example/v3", credential: .environment("FLW_KEY"),
            methods: ["mobile_money", "bank_deposit"], timeoutMs: 10_000, attempts: 3)
        #expect(good.problems.isEmpty)
        func problems(name: String = "flw-prod", kind: String = "transfers", url: String = "https://api.example.com", methods: [String] = ["mobile_money"],
                      timeout: Int = 1_000, attempts: Int = 1) -> [String] {
            PartnerConnection(name: name, kind: kind, baseURL: url, credential: .file("/run/secrets/flw"), methods: methods, timeoutMs: timeout, attempts: attempts).problems
        }
        #expect(problems(name: "Flw Prod").count == 1 && problems(name: "sandbox-momo").count == 1)
        #expect(problems(kind: "carrier-pigeon").count == 1)
        #expect(problems(url: "http://api.example.com").count == 1, "plain HTTP off this machine")
        #expect(problems(url: "http://127.0.0.1:8080").isEmpty && problems(url: "https://user:pw@api.example.com").count == 1)
        #expect(problems(methods: []).count == 1 && problems(methods: ["mobile_money", "mobile_money"]).count == 1 && problems(methods: ["teleport"]).count == 1)
        #expect(problems(timeout: 50).count == 1 && problems(attempts: 9).count == 1)
        // A quotations (Thunes-style) API needs its payer per corridor and method; a transfers API takes none.
        func payers(_ kind: String, _ payers: [String: Int]) -> [String] {
            PartnerConnection(
                name: "thx", kind: kind, baseURL: "https://api.example.com", credential: .environment("K"), methods: ["cash_pickup"], timeoutMs: 1_000,
                attempts: 1, callbackSecret: .environment("CB"), payers: payers).problems
        }
        #expect(payers("quotations", ["CAD-XAF/cash_pickup": 4521]).isEmpty)
        #expect(payers("quotations", [:]).count == 1 && payers("transfers", ["CAD-XAF/cash_pickup": 1]).count == 1)
        #expect(payers("quotations", ["CAD-XAF/mobile_money": 1]).count == 1, "a method the connection does not serve")
        #expect(payers("quotations", ["cad-xaf/cash_pickup": 1, "CAD-XAF/cash_pickup": 0]).count == 2)
        #expect(CredentialReference("env:FLW_KEY") == .environment("FLW_KEY") && CredentialReference("file:/run/secrets/flw") == .file("/run/secrets/flw"))
        for secret in ["sk_live_51H", "env:lower", "file:relative", "FLW_KEY", "env:A B"] { #expect(CredentialReference(secret) == nil, "\(secret)") }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("nzila-credential-\(UUID().uuidString)")
        try "  s3cr3t-value\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(try CredentialReference.file(file.path).resolve(environment: [:]) == "s3cr3t-value")
        #expect(try CredentialReference.environment("K").resolve(environment: ["K": "v"]) == "v")
        // A missing credential is named by its reference, never by a value.
        do {
            _ = try CredentialReference.environment("K").resolve(environment: ["K": " "])
            Issue.record("an empty credential resolved")
        } catch {
            #expect("\(error)" == "the credential env:K is not set")
        }
    }
}
