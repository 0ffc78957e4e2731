import Foundation
import NzilaCore
import PostgresNIO
import Testing

/// Issue 26: every remittance is scored by the fraud model, its score and features kept with the decision; a tenant
/// that sets `compliance.aml.fraud_hold_bps` sends scores from that probability to the case queue.
@Suite("Fraud scoring")
struct FraudScoringTests {
    @Test("scored in shadow mode by default (kept, nothing held); with a tenant threshold a high score holds the order with a case naming the model")
    func scoring() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "fraud")
            try await planes.deposit(f, member: 0, minor: 200_000)
            func decision(_ id: String) async throws -> [String: Any] {
                let text = try await harness.owner.transaction(logger: harness.logger) { connection in
                    try await connection.query("SELECT set_config('app.tenant_id', \(f.tenantID), true)", logger: harness.logger)
                    return try await connection.query(
                        PostgresQuery(unsafeSQL: "SELECT decision::text FROM t_\(f.slug).remittances WHERE id = '\(id)'"), logger: harness.logger
                    ).first(String.self)
                }
                let stored = try #require(text)
                return try #require(try JSONSerialization.jsonObject(with: Data(stored.utf8)) as? [String: Any])
            }
            // Shadow mode: a first order, then a second to someone new from a new device minutes later — scored high, not held.
            let first = try await planes.remit(f, sendMinor: 10_000, name: "Ada Bello")
            let second = try await planes.remit(f, sendMinor: 15_000, name: "Kwame Mensah", extra: ["device_id": "laptop-unknown-1"])
            #expect(first.json["state"] as? String == "converting" && second.json["state"] as? String == "converting", "\(second.text)")
            let secondID = try #require(second.json["id"] as? String)
            let shadow = try await decision(secondID)
            let fraud = try #require(shadow["fraud"] as? [String: Any])
            #expect(fraud["model"] as? String == "nzila-gbt-v1" && fraud["hold_bps"] is NSNull)
            #expect((fraud["probability"] as? Double ?? 0) > 0.5, "\(fraud)")
            let features = try #require(fraud["features"] as? [String: Any])
            #expect(features["new_device"] as? Double == 1 && features["new_recipient"] as? Double == 1 && features["amount_cad"] as? Double == 150)
            #expect(((fraud["top"] as? [[String: Any]]) ?? []).count == 3)
            let firstID = try #require(first.json["id"] as? String)
            let calm = try #require(try await decision(firstID)["fraud"] as? [String: Any])
            #expect((calm["probability"] as? Double ?? 1) < 0.5, "a first order to a first recipient: \(calm)")

            // The tenant holds from 50%: the same pattern is held, with a case whose reason names the model.
            try await planes.setConfigSection(f, "compliance", ["aml": ["fraud_hold_bps": 5_000]])
            let third = try await planes.remit(f, sendMinor: 10_000, name: "Efua Owusu", extra: ["device_id": "laptop-unknown-2"])
            #expect(third.json["state"] as? String == "held", "\(third.text)")
            let thirdID = try #require(third.json["id"] as? String)
            let held = try await decision(thirdID)
            #expect((held["hold_reasons"] as? [String])?.contains { $0.hasPrefix("fraud-model: probability ") && $0.contains("(at least 50% holds)") } == true, "\(held)")
            #expect((held["fraud"] as? [String: Any])?["hold_bps"] as? Int == 5_000)
            let cases = try await planes.data(.get, "/v1/compliance/cases?status=open", token: f.staffToken, tenant: f.slug)
            #expect(cases.text.contains("fraud-model"), "\(cases.text.prefix(600))")

            // The threshold is checked: not below 10%, not above 99%.
            let path = "/v1/tenants/\(f.slug)/config"
            let current = try await planes.control(.get, path, token: f.staffToken)
            var config = try #require(current.json["config"] as? [String: Any])
            config["compliance"] = ["aml": ["fraud_hold_bps": 9_950]]
            let refused = try await planes.control(
                .put, path, token: f.staffToken, json: ["config": config, "reason": "too lax"],
                headers: [.init("If-Match")!: current.headers[.init("ETag")!] ?? ""])
            #expect(refused.status == .unprocessableContent && refused.text.contains("fraud_hold_bps"), "\(refused.text)")
        }
    }
}
