import Foundation
import NzilaCore
import Testing

@Suite("Remittance quotes through the data plane")
struct QuoteEndToEndTests {
    @Test("a member quotes from a send or a receive amount with every component; locked 30 minutes; refusals name their field")
    func quotes() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "quo")
            let member = f.members[0]
            func quote(_ json: [String: Any], token: String? = nil) async throws -> Planes.Reply {
                try await planes.data(.post, "/v1/quotes", token: token ?? member.token, tenant: f.slug, json: json)
            }
            let sent = try await quote(["corridor": "CAD-NGN", "method": "mobile_money", "send_amount": 10_000])
            #expect(sent.status == .created, "\(sent.text)")
            let q = try #require(sent.json["quote"] as? [String: Any])
            func minor(_ key: String) -> Int? { (q[key] as? [String: Any])?["amount"] as? Int }
            // Default template: 2.99 + 0.50% of 100.00 = 3.49; spread 150 bps on the file's 1131.2045.
            #expect(minor("send") == 10_000 && minor("fee") == 349 && minor("total_debit") == 10_349, "\(q)")
            #expect(q["mid_rate"] as? String == "1131.2045000000" && q["customer_rate"] as? String == "1114.2364325000")
            #expect(minor("receive") == 11_142_364, "100.00 CAD × 1114.2364325 = 111,423.64 NGN, rounded down")
            #expect((q["fee_band"] as? [String: Any])?["bps"] as? Int == 50 && q["spread_bps"] as? Int == 150)
            #expect(sent.json["member_id"] as? String == member.id)
            let id = try #require(sent.json["id"] as? String)
            let created = try #require((sent.json["created_at"] as? String).flatMap { ISO8601DateFormatter.withFractions.date(from: $0) })
            let expires = try #require((sent.json["expires_at"] as? String).flatMap { ISO8601DateFormatter.withFractions.date(from: $0) })
            #expect(abs(expires.timeIntervalSince(created) - 1_800) < 2)

            let again = try await planes.data(.get, "/v1/quotes/\(id)", token: member.token, tenant: f.slug)
            #expect(again.status == .ok && NSDictionary(dictionary: again.json["quote"] as? [String: Any] ?? [:]).isEqual(to: q))
            #expect(try await planes.data(.get, "/v1/quotes/\(id)", token: f.members[1].token, tenant: f.slug).status == .notFound)
            #expect(try await planes.data(.get, "/v1/quotes/\(id)", token: f.staffToken, tenant: f.slug).status == .ok)

            let received = try await quote(["corridor": "CAD-XOF", "method": "mobile_money", "receive_amount": 100_000])
            let r = try #require(received.json["quote"] as? [String: Any])
            #expect(received.status == .created && ((r["receive"] as? [String: Any])?["amount"] as? Int ?? 0) >= 100_000 && r["basis"] as? String == "receive")

            for (json, field) in [
                (["corridor": "CAD-XXX", "method": "mobile_money", "send_amount": 1_000], "corridor"),
                (["corridor": "CAD-ZAR", "method": "mobile_money", "send_amount": 1_000], "method"),
                (["corridor": "CAD-NGN", "method": "mobile_money", "send_amount": 1_000, "receive_amount": 5], "send_amount"),
                (["corridor": "CAD-NGN", "method": "mobile_money", "send_amount": -5], "send_amount"),
            ] as [([String: Any], String)] {
                let reply = try await quote(json)
                #expect(reply.status == .unprocessableContent && reply.text.contains("\"\(field)\""), "\(json): \(reply.text)")
            }
            #expect(try await quote(["corridor": "CAD-ZAR", "method": "bank_deposit", "send_amount": 1_000]).problemCode == "corridor-not-offered")
            // The default template offers the East African corridors the platform ships.
            for (corridor, method) in [("CAD-UGX", "mobile_money"), ("CAD-UGX", "bank_deposit"), ("CAD-RWF", "mobile_money"), ("CAD-RWF", "bank_deposit")] {
                let offered = try await quote(["corridor": corridor, "method": method, "send_amount": 10_000])
                #expect(offered.status == .created, "\(corridor) by \(method): \(offered.text)")
            }
            #expect(try await quote(["corridor": "CAD-NGN", "method": "mobile_money", "send_amount": 999]).problemCode == "amount-out-of-range")
            #expect(try await quote(["corridor": "CAD-NGN", "method": "mobile_money", "send_amount": 1_000, "member_id": f.members[1].id]).status == .unprocessableContent)
            let forOther = try await quote(["corridor": "CAD-NGN", "method": "bank_deposit", "send_amount": 50_000, "member_id": member.id], token: f.staffToken)
            #expect(forOther.status == .created && forOther.json["member_id"] as? String == member.id)
        }
    }
}

extension ISO8601DateFormatter {
    static var withFractions: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
