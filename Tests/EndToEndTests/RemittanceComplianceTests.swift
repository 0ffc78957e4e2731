import Banking
import Ledger
import DataPlane
import Foundation
import HTTPTypes
import NzilaCore
import NzilaDatabase
import Remittance
import Testing

@Suite("Remittances under compliance: funding webhooks, holds and cases, refusals, limits, EFT reports")
struct RemittanceComplianceTests {
    @Test("a signed funding webhook funds an order once; forged, stale and replayed events change nothing; unfunded orders expire")
    func fundingWebhook() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "rwh")
            let placed = try await planes.remit(f, funding: "webhook")
            #expect(placed.status == .created && placed.json["state"] as? String == "awaiting_funding", "\(placed.text)")
            let id = try #require(placed.json["id"] as? String)
            let total = try #require((placed.json["total_debit"] as? [String: Any])?["amount"] as? Int)
            let secret = planes.data.webhookSecret(tenant: try await planes.tenantRef(f), provider: "interac-sandbox")
            func deliver(_ event: [String: Any], secret: String = secret, at time: Date = Date()) async throws -> Planes.Reply {
                let raw = try JSONSerialization.data(withJSONObject: event, options: [.sortedKeys])
                let signature = WebhookSignature.header(secret: secret, timestamp: Int64(time.timeIntervalSince1970), body: raw)
                return try await Planes.send(
                    planes.dp, .post, "/v1/webhooks/funding/interac-sandbox", tenant: f.slug, raw: raw,
                    headers: [.contentType: "application/json", FundingWebhookRoutes.signatureHeader: signature])
            }
            let event: [String: Any] = ["event_id": "evt-\(id)", "remittance_id": id, "amount": total, "currency": "CAD"]
            #expect(try await deliver(event, secret: String(repeating: "0", count: 64)).status == .unauthorized, "forged")
            #expect(try await deliver(event, at: Date().addingTimeInterval(-600)).status == .unauthorized, "outside the window")
            let unsigned = try await Planes.send(
                planes.dp, .post, "/v1/webhooks/funding/interac-sandbox", tenant: f.slug, raw: try JSONSerialization.data(withJSONObject: event),
                headers: [.contentType: "application/json"])
            #expect(unsigned.status == .unauthorized && unsigned.problemCode == "unauthorized")
            #expect(try await planes.order(f, id).json(["state"]) == "awaiting_funding")

            let funded = try await deliver(event)
            #expect(funded.status == .ok && funded.json["outcome"] as? String == "funded", "\(funded.status) \(funded.text)")
            #expect((funded.json["remittance"] as? [String: Any])?["state"] as? String == "converting")
            let again = try await deliver(event)
            #expect(again.status == .ok && again.json["outcome"] as? String == "duplicate")
            try await planes.drain(f)
            #expect(try await planes.order(f, id).json(["state"]) == "delivered")

            // Money that does not match is recorded, and funds nothing.
            let short = try await planes.remit(f, funding: "webhook")
            let shortID = try #require(short.json["id"] as? String)
            let mismatch = try await deliver(["event_id": "evt-short", "remittance_id": shortID, "amount": 1, "currency": "CAD"])
            #expect(mismatch.json["outcome"] as? String == "amount-mismatch")
            #expect(try await planes.order(f, shortID).json(["state"]) == "awaiting_funding")
            // Nobody pays: the worker cancels it once its window has passed (two hours later on the platform clock).
            planes.clock.advance(seconds: 2 * 3_600)
            let state = try await PayoutStep(partners: planes.data.partners, keys: planes.data.dataKeys)
                .run(UUID(uuidString: shortID)!, session: try await planes.session(f), now: { planes.clock.now() })
            #expect(state == .cancelled)
            #expect(try await planes.clearingBalances(f).values.allSatisfy { $0 == 0 })
            #expect(try await planes.ledgerFindings(f).isEmpty)
        }
    }

    @Test("a sixth transfer within the hour holds the order with a case: release sends it, rejection refunds it, cancel voids the hold")
    func holdsAndCases() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "rho")
            try await planes.deposit(f, member: 0, minor: 50_000)
            for _ in 0..<5 {
                let allowed = try await planes.remit(f, sendMinor: 1_000)
                #expect(allowed.json["state"] as? String == "converting", "\(allowed.text)")
            }
            let start = try await planes.balance(f, member: 0).ledger
            func held() async throws -> (id: String, caseID: String, total: Int) {
                let placed = try await planes.remit(f, sendMinor: 1_000)
                #expect(placed.status == .created && placed.json["state"] as? String == "held", "\(placed.text)")
                let reasons = placed.json["hold_reasons"] as? [String] ?? []
                #expect(reasons.contains { $0.hasPrefix("velocity") }, "\(reasons)")
                return (try #require(placed.json["id"] as? String), try #require(placed.json["case_id"] as? String),
                        try #require((placed.json["total_debit"] as? [String: Any])?["amount"] as? Int))
            }
            func decide(_ caseID: String, _ decision: String) async throws -> Planes.Reply {
                try await planes.data(.post, "/v1/compliance/cases/\(caseID)/decision", token: f.staffToken, tenant: f.slug,
                                      json: ["decision": decision, "reason": "checked with the member by phone"])
            }
            let first = try await held()
            var balance = try await planes.balance(f, member: 0)
            #expect(balance.ledger == start && balance.available == start - first.total, "held, not taken")
            let theCase = try await planes.data(.get, "/v1/compliance/cases/\(first.caseID)", token: f.staffToken, tenant: f.slug)
            #expect(theCase.json["remittance_id"] as? String == first.id && theCase.json["kind"] as? String == "aml", "\(theCase.text)")
            #expect(try await decide(first.caseID, "release").status == .ok)
            #expect(try await planes.order(f, first.id).json(["state"]) == "converting")
            balance = try await planes.balance(f, member: 0)
            #expect(balance.ledger == start - first.total && balance.available == balance.ledger, "taken on release")
            try await planes.drain(f)
            let sent = try await planes.order(f, first.id)
            #expect(planes.states(sent) == ["created", "awaiting_funding", "funded", "screening", "held", "released", "converting", "disbursing", "delivered"])

            let second = try await held()
            #expect(try await decide(second.caseID, "reject").status == .ok)
            let rejected = try await planes.order(f, second.id)
            #expect(Array(planes.states(rejected).suffix(3)) == ["held", "rejected", "refunded"])
            // The officer reports it: the STR carries the remittance it held.
            let str = try await planes.data(.post, "/v1/compliance/cases/\(second.caseID)/str", token: f.staffToken, tenant: f.slug,
                                            json: ["grounds": "Six transfers in an hour to the same number, unexplained by the member."])
            #expect(str.status == .created, "\(str.text)")
            let reported = ((str.json["report"] as? [String: Any])?["details_of_suspicion"] as? [String: Any])?["remittance"] as? [String: Any]
            #expect(reported?["id"] as? String == second.id && reported?["amount_minor"] as? Int == 1_000 && reported?["state"] as? String == "refunded",
                    "\(str.text)")
            balance = try await planes.balance(f, member: 0)
            #expect(balance.ledger == start - first.total && balance.available == balance.ledger, "the hold is gone")

            let third = try await held()
            let cancelled = try await planes.data(
                .post, "/v1/remittances/\(third.id)/cancel", token: f.members[0].token, tenant: f.slug, json: ["reason": "changed my mind"],
                headers: [.idempotencyKey: UUID().uuidString])
            #expect(cancelled.status == .ok && cancelled.json["state"] as? String == "cancelled", "\(cancelled.text)")
            #expect(try await planes.balance(f, member: 0).available == start - first.total)
            let late = try await planes.data(
                .post, "/v1/remittances/\(first.id)/cancel", token: f.members[0].token, tenant: f.slug, json: [:], headers: [.idempotencyKey: UUID().uuidString])
            #expect(late.status == .conflict && late.problemCode == "invalid-transition")
            try await planes.drain(f)
            #expect(try await planes.clearingBalances(f).values.allSatisfy { $0 == 0 })
            #expect(try await planes.ledgerFindings(f).isEmpty)
        }
    }

    @Test("refusals write nothing but a blocked screening: sanctioned names, identity below tier 2, limits; limits show used and remaining")
    func refusalsAndLimits() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "rre")
            try await planes.deposit(f, member: 0, minor: 500_000)
            let blocked = try await planes.remit(f, name: "Oleg Deripaska")
            #expect(blocked.status == .unprocessableContent && blocked.problemCode == "screening-blocked", "\(blocked.text)")
            let queue = try await planes.data(.get, "/v1/compliance/cases", token: f.staffToken, tenant: f.slug)
            #expect(((queue.json["data"] as? [[String: Any]]) ?? []).contains { ($0["summary"] as? String)?.contains("Oleg Deripaska") == true }, "\(queue.text)")

            let bigQuote = try await planes.remit(f, sendMinor: 100_000)
            #expect(bigQuote.problemCode == "kyc-tier-required", "1,000 CAD needs tier 2: \(bigQuote.text)")
            #expect(try await planes.remit(f, sendMinor: 30_000).status == .created)
            let over = try await planes.remit(f, sendMinor: 25_000)
            #expect(over.problemCode == "kyc-limit-exceeded", "\(over.text)")
            let list = try await planes.data(.get, "/v1/remittances", token: f.members[0].token, tenant: f.slug)
            #expect((list.json["data"] as? [[String: Any]])?.count == 1, "refusals leave no order")
            #expect(try await planes.balance(f, member: 0).ledger == 500_000 - 30_000 - 449, "only the allowed order took money (fee 2.99 + 0.50%)")

            let limits = try await planes.data(.get, "/v1/members/\(f.members[0].id)/limits", token: f.members[0].token, tenant: f.slug)
            let month = try #require(limits.json["thirty_days"] as? [String: Any])
            #expect(limits.json["tier"] as? Int == 1 && month["limit_minor"] as? Int == 50_000 && month["used_minor"] as? Int == 30_000
                    && month["remaining_minor"] as? Int == 20_000, "\(limits.text)")
            #expect(try await planes.data(.get, "/v1/members/\(f.members[0].id)/limits", token: f.members[1].token, tenant: f.slug).status == .notFound)
            #expect(try await planes.data(.get, "/v1/members/\(f.members[0].id)/limits", token: f.staffToken, tenant: f.slug).status == .ok)
            try await planes.drain(f)
            #expect(try await planes.ledgerFindings(f).isEmpty)
        }
    }

    @Test("the 24-hour rule: two transfers that together reach 10,000 CAD are reported once, as an EFTR with its deadline")
    func eftReport() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "ref")
            try await planes.deposit(f, member: 0, minor: 1_500_000)
            let member = f.members[0].id
            for document in [
                ["kind": "passport", "number": "A7654321", "issuing_country": "NG", "expires_on": "2032-01-01"], ["kind": "selfie_match"],
                ["kind": "proof_of_address"], ["kind": "source_of_funds"], ["kind": "edd_interview", "notes": "interviewed at the branch"],
            ] {
                let added = try await planes.data(.post, "/v1/members/\(member)/kyc/documents", token: f.staffToken, tenant: f.slug, json: document)
                try #require(added.status == .created, "\(added.text)")
            }
            let tier = try await planes.data(.post, "/v1/members/\(member)/kyc/tier", token: f.staffToken, tenant: f.slug, json: ["tier": 4, "reason": "EDD done"])
            try #require(tier.status == .ok, "\(tier.text)")
            var ids: [String] = []
            for amount in [600_000, 400_000] {
                let placed = try await planes.remit(f, sendMinor: amount)
                #expect(placed.json["state"] as? String == "held", "large amounts and structuring hold: \(placed.text)")
                let caseID = try #require(placed.json["case_id"] as? String)
                let released = try await planes.data(.post, "/v1/compliance/cases/\(caseID)/decision", token: f.staffToken, tenant: f.slug,
                                                     json: ["decision": "release", "reason": "source of funds on file"])
                #expect(released.status == .ok)
                try await planes.drain(f)
                ids.append(try #require(placed.json["id"] as? String))
            }
            let reports = try await planes.data(.get, "/v1/compliance/reports", token: f.staffToken, tenant: f.slug)
            let eftrs = ((reports.json["data"] as? [[String: Any]]) ?? []).filter { $0["kind"] as? String == "eftr" }
            #expect(eftrs.count == 1, "\(reports.text)")
            let report = try #require(eftrs.first?["report"] as? [String: Any])
            #expect(report["reason"] as? String == "24-hour-rule" && report["total_amount_cad_minor"] as? Int == 1_000_000)
            let covered = ((report["transactions"] as? [[String: Any]]) ?? []).compactMap { $0["remittance_id"] as? String }
            #expect(Set(covered) == Set(ids))
            #expect(eftrs.first?["due_at"] as? String != nil && (report["submission"] as? [String: Any])?["deadline"] as? String != nil)
            #expect(try await planes.clearingBalances(f).values.allSatisfy { $0 == 0 })
            #expect(try await planes.ledgerFindings(f).isEmpty)
        }
    }
}
