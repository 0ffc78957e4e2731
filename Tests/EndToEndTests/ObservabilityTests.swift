import Foundation
import HTTPTypes
import Logging
import NzilaCore
import Synchronization
import Testing

@Suite("Request logs and metrics")
struct ObservabilityTests {
    final class Lines: Sendable {
        let all = Mutex<[String]>([])
        func add(_ line: String) { all.withLock { $0.append(line) } }
    }

    @Test("one JSON line per request with its id, route template, status, duration, tenant, caller and round trips; no secret ever logged")
    func logs() async throws {
        let harness = try await Harness.get()
        let lines = Lines()
        var logger = Logger(label: "nzila.data-plane.test") { JSONLogHandler(label: $0, write: { lines.add($0) }) }
        logger.logLevel = .info
        // The tenant's rate limits, read once, stay cached for the whole test however slow the machine
        // (their 30 s lifetime is real time): the GET below is then exactly its one round trip.
        try await harness.withPlanes(data: { $0.rateLimitConfigSeconds = 86_400 }, dataLogger: logger) { planes in
            let f = try await planes.provisionFixture(prefix: "log")
            let password = "member password 0!"
            let login = try await Planes.send(planes.dp, .post, "/v1/auth/login", tenant: f.slug, json: ["email": "member0@\(f.slug).test", "password": password])
            let refresh = try #require(login.json["refresh_token"] as? String)
            let documentNumber = "ZX9876543"
            let document = try await planes.data(
                .post, "/v1/members/\(f.members[0].id)/kyc/documents", token: f.staffToken, tenant: f.slug,
                json: ["kind": "passport", "number": documentNumber, "issuing_country": "CA", "expires_on": "2031-01-01"])
            #expect(document.status == .created)
            let documentID = try #require(document.json["id"] as? String)
            let revealed = try await planes.data(.post, "/v1/members/\(f.members[0].id)/kyc/documents/\(documentID)/reveal", token: f.staffToken, tenant: f.slug, json: [:])
            #expect(revealed.text.contains(documentNumber), "the reveal itself answers the number")
            let get = try await planes.data(.get, "/v1/accounts/\(f.members[0].accountID)", token: f.members[0].token, tenant: f.slug)
            let requestID = try #require(get.headers[.requestID])

            let logged = lines.all.withLock { $0 }
            for secret in [password, f.members[0].token, f.staffToken, refresh, documentNumber, harness.adminPassword] {
                #expect(!logged.contains { $0.contains(secret) }, "a secret reached the log")
            }
            let entries = logged.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            #expect(entries.count == logged.count, "every line is JSON")
            let line = try #require(entries.first { $0["request_id"] as? String == requestID }, "\(logged.suffix(3))")
            #expect(line["msg"] as? String == "request" && line["route"] as? String == "/v1/accounts/{id}" && line["status"] as? String == "200")
            #expect(line["tenant"] as? String == f.slug && line["principal"] as? String == f.members[0].id && line["role"] as? String == "member")
            #expect(Double(line["duration_ms"] as? String ?? "") != nil && line["level"] as? String == "info" && line["ts"] as? String != nil)
            #expect(Int(line["db_round_trips"] as? String ?? "") == 1, "GET /v1/accounts/{id} is one round trip: \(line)")
            let reveal = try #require(entries.first { $0["route"] as? String == "/v1/members/{id}/kyc/documents/{document}/reveal" })
            #expect(Int(reveal["db_round_trips"] as? String ?? "") ?? 0 >= 4 && reveal["role"] as? String == "tenant_admin")
            #expect(!logged.contains { $0.contains(f.members[0].accountID) }, "raw paths (and their ids) are not logged")
        }
    }

    @Test("GET /metrics needs the metrics token; the exposition parses and carries route templates, statuses and the tenant")
    func metrics() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes(data: { $0.metricsToken = "metrics-test-token" }) { planes in
            let f = try await planes.provisionFixture(prefix: "met")
            try await planes.deposit(f, member: 0, minor: 1_000)
            for _ in 0..<3 { _ = try await planes.data(.get, "/v1/accounts/\(f.members[0].accountID)", token: f.members[0].token, tenant: f.slug) }
            _ = try await planes.data(.get, "/v1/accounts/\(UUID())", token: f.members[0].token, tenant: f.slug)
            #expect(try await Planes.send(planes.dp, .get, "/metrics").status == .unauthorized)
            #expect(try await Planes.send(planes.dp, .get, "/metrics", token: "wrong").status == .unauthorized)
            let reply = try await Planes.send(planes.dp, .get, "/metrics", token: "metrics-test-token")
            #expect(reply.status == .ok && reply.headers[.contentType]?.hasPrefix("text/plain") == true)
            let sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$/
            var samples: [String] = []
            for line in reply.text.split(separator: "\n") where !line.hasPrefix("#") {
                #expect(line.wholeMatch(of: sample) != nil, "not a Prometheus sample: \(line)")
                samples.append(String(line))
            }
            let ok = samples.first { $0.hasPrefix("nzila_http_requests_total{") && $0.contains("route=\"/v1/accounts/{id}\"") && $0.contains("tenant=\"\(f.slug)\"")
                && $0.contains("status=\"200\"") && $0.contains("plane=\"data\"") }
            #expect(ok.map { Double($0.split(separator: " ").last ?? "") ?? 0 >= 3 } == true, "\(samples.filter { $0.contains(f.slug) })")
            #expect(samples.contains { $0.hasPrefix("nzila_http_requests_total{") && $0.contains("status=\"404\"") && $0.contains("tenant=\"\(f.slug)\"") })
            #expect(samples.contains { $0.hasPrefix("nzila_http_request_duration_seconds_bucket{") })
            #expect(samples.contains { $0.hasPrefix("nzila_ledger_journals_total{") })
            #expect(samples.contains { $0.hasPrefix("nzila_db_transactions_in_flight{") } && samples.contains { $0.hasPrefix("nzila_db_connection_wait_seconds_bucket{") })
            let uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/
            #expect(!samples.contains { $0.contains(uuid) }, "no id is ever a label")
        }
    }
}
