import Foundation
import HTTPTypes
import NzilaCore
import NzilaDatabase
import PostgresNIO
import Testing

/// The portal's loan, tontine and identity pages over plain HTTP (the browser walks are in
/// PortalBrowserTests): each action goes through the API route with its permission and idempotency,
/// so what the page did is read back through the API.
@Suite("Portal pages: loans, tontines, identity")
struct PortalPagesTests {
    typealias Visitor = PortalSessionTests.Visitor

    @Test("an admin decides and disburses a referred loan from its page, once under a replayed form; a teller sees no action; the dashboard shows loans behind")
    func loans() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "webl")
            let product = try await planes.loanProduct(f)
            try await planes.setConfigSection(f, "lending", ["approve_at": 700, "decline_below": 300])
            let member = f.members[1]
            let applied = try await planes.apply(f, product, member)
            try #require(applied.json["state"] as? String == "referred", "\(applied.text)")
            let loan = try #require(applied.json["id"] as? String)

            var admin = Visitor(planes: planes, tenant: f.slug)
            #expect(try await admin.login("admin@\(f.slug).test", "staff password 123").status == .seeOther)
            let dashboard = try await admin.send(.get, "/portal/")
            #expect(dashboard.status == .ok && dashboard.text.contains("id=\"h-loans\"") && dashboard.text.contains("/portal/loans?bucket=91%2B"))
            let list = try await admin.send(.get, "/portal/loans?state=referred")
            #expect(list.status == .ok && list.text.contains("/portal/loans/\(loan)"))
            let declined = try await admin.send(.get, "/portal/loans?state=declined")
            #expect(!declined.text.contains("/portal/loans/\(loan)"), "the filter is the API's")
            let detail = try await admin.send(.get, "/portal/loans/\(loan)")
            #expect(detail.status == .ok && detail.text.contains("id=\"loan-score\"") && detail.text.contains("loan-decision-form"))
            let csrf = try #require(Visitor.csrf(detail))

            // A decision needs a reason, named by the API.
            let bare = try await admin.send(.post, "/portal/loans/\(loan)/decision", form: ["_csrf": csrf, "decision": "approved"])
            #expect(bare.status == .unprocessableContent && bare.text.contains("<code>reason</code>"))
            let approved = try await admin.send(.post, "/portal/loans/\(loan)/decision", form: ["_csrf": csrf, "decision": "approved", "reason": "Known to the branch"])
            #expect(approved.status == .seeOther && approved.headers[.location] == "/portal/loans/\(loan)?done=loan_approved")

            let before = try await planes.data(.get, "/v1/accounts/\(member.accountID)", token: f.staffToken, tenant: f.slug)
            let balanceBefore = try #require((before.json["ledger_balance"] as? [String: Any])?["amount"] as? Int)
            let ready = try await admin.send(.get, "/portal/loans/\(loan)")
            let key = try #require(ready.text.firstMatch(of: /name="idempotency_key" value="([^"]+)"/).map { String($0.1) })
            for _ in 0..<2 {
                let disbursed = try await admin.send(.post, "/portal/loans/\(loan)/disburse", form: ["_csrf": csrf, "idempotency_key": key])
                #expect(disbursed.status == .seeOther && disbursed.headers[.location] == "/portal/loans/\(loan)?done=loan_disbursed", "\(disbursed.text.suffix(1_000))")
            }
            let record = try await planes.loan(f, loan)
            #expect(record["state"] as? String == "disbursed")
            let net = try #require((record["disbursed_amount"] as? [String: Any])?["amount"] as? Int)
            let after = try await planes.data(.get, "/v1/accounts/\(member.accountID)", token: f.staffToken, tenant: f.slug)
            #expect((after.json["ledger_balance"] as? [String: Any])?["amount"] as? Int == balanceBefore + net, "paid once: \(after.text)")

            // A teller reads loans but may not decide or disburse: no form, and a post is the API's 403.
            let created = try await planes.control(
                .post, "/v1/tenants/\(f.slug)/staff", token: try await planes.adminToken(),
                json: ["email": "teller@\(f.slug).test", "password": "staff password 123", "role": "teller"])
            try #require(created.status == .created)
            var teller = Visitor(planes: planes, tenant: f.slug)
            #expect(try await teller.login("teller@\(f.slug).test", "staff password 123").status == .seeOther)
            let seen = try await teller.send(.get, "/portal/loans/\(loan)")
            #expect(seen.status == .ok && !seen.text.contains("disburse-form") && !seen.text.contains("loan-decision-form"))
            let tellerCSRF = try #require(Visitor.csrf(seen))
            let refused = try await teller.send(.post, "/portal/loans/\(loan)/decision", form: ["_csrf": tellerCSRF, "decision": "declined", "reason": "no"])
            #expect(refused.status == .forbidden)
        }
    }

    @Test("circles list and show their members and cycles; an identity number is revealed only on an audited post, to a role that may")
    func tontinesAndReveal() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "webt")
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = .gmt
            let due = calendar.date(byAdding: .day, value: 10, to: planes.clock.now())!
            let day = ISO8601DateFormatter.string(from: due, timeZone: .gmt, formatOptions: [.withFullDate])
            let circle = try await planes.data(
                .post, "/v1/tontines", token: f.members[0].token, tenant: f.slug,
                json: ["name": "Njangi du samedi", "contribution": ["amount": 10_000, "currency": "CAD"], "frequency": "weekly", "max_members": 5,
                       "first_due_date": day, "payout_account_id": f.members[0].accountID])
            try #require(circle.status == .created, "\(circle.text)")
            let id = try #require(circle.json["id"] as? String)

            var admin = Visitor(planes: planes, tenant: f.slug)
            #expect(try await admin.login("admin@\(f.slug).test", "staff password 123").status == .seeOther)
            let list = try await admin.send(.get, "/portal/tontines")
            #expect(list.status == .ok && list.text.contains("Njangi du samedi") && list.text.contains("/portal/tontines/\(id)"))
            let detail = try await admin.send(.get, "/portal/tontines/\(id)")
            #expect(detail.status == .ok && detail.text.contains("/portal/members/\(f.members[0].id)") && detail.text.contains("CAD 100.00"))

            // Identity evidence: masked on the page; the full number only in the answer to the reveal post.
            let number = "P\(Int.random(in: 1_000_000...9_999_999))"
            let added = try await planes.data(
                .post, "/v1/members/\(f.members[1].id)/kyc/documents", token: f.staffToken, tenant: f.slug,
                json: ["kind": "passport", "number": number, "issuing_country": "CM", "expires_on": "2031-01-01"])
            try #require(added.status == .created, "\(added.text)")
            let document = try #require(added.json["id"] as? String)
            let page = try await admin.send(.get, "/portal/members/\(f.members[1].id)")
            #expect(page.status == .ok && !page.text.contains(number) && page.text.contains("reveal-\(document)"))
            let csrf = try #require(Visitor.csrf(page))
            let revealed = try await admin.send(.post, "/portal/members/\(f.members[1].id)/kyc/\(document)/reveal", form: ["_csrf": csrf])
            #expect(revealed.status == .ok && revealed.text.contains("<strong id=\"revealed-number\">\(number)</strong>"))
            #expect(revealed.headers[.cacheControl] == "no-store")
            let again = try await admin.send(.get, "/portal/members/\(f.members[1].id)")
            #expect(!again.text.contains(number), "shown once, never kept on the page")
            let audits = try await harness.owner.statement(
                """
                SELECT count(*)::int FROM control.audit_log WHERE tenant_id = \(UUID(uuidString: f.tenantID)!)
                    AND action = 'POST /v1/members/{id}/kyc/documents/{id}/reveal'
                """, logger: harness.logger
            ) { try await $0.first(Int.self) }
            #expect(audits == 1, "the reveal is audited, as through the API")
        }
    }
}
