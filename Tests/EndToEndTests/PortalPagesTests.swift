import Foundation
import HTTPTypes
import NzilaCore
import NzilaDatabase
import NzilaTestSupport
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
            // The member's page lists the loan; the API's member filter is exact.
            let memberPage = try await admin.send(.get, "/portal/members/\(member.id)")
            #expect(memberPage.status == .ok && memberPage.text.contains("id=\"member-loans\"") && memberPage.text.contains("/portal/loans/\(loan)"))
            let others = try await planes.data(.get, "/v1/loans?member_id=\(f.members[0].id)", token: f.staffToken, tenant: f.slug)
            #expect(others.status == .ok && !others.text.contains(loan), "\(others.text)")
            let own = try await planes.data(.get, "/v1/loans?member_id=\(member.id)", token: f.members[0].token, tenant: f.slug)
            #expect(own.status == .ok && !own.text.contains(loan), "a member reads only their own, whatever they name")
            let badMember = try await planes.data(.get, "/v1/loans?member_id=nope", token: f.staffToken, tenant: f.slug)
            #expect(badMember.status == .unprocessableContent)
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
            let organizer = try await admin.send(.get, "/portal/members/\(f.members[0].id)")
            #expect(organizer.status == .ok && organizer.text.contains("id=\"tontine-record\""))

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

    @Test("an officer drafts an STR from a confirmed case and reads it; the audit page shows the credit union's own entries only, to roles that may read them")
    func reportsAndAudit() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "webr")
            let other = try await planes.provisionFixture(prefix: "webo")
            let admin = try await planes.adminToken()
            for (email, role) in [("officer@\(f.slug).test", "compliance_officer"), ("teller@\(f.slug).test", "teller")] {
                let created = try await planes.control(.post, "/v1/tenants/\(f.slug)/staff", token: admin, json: ["email": email, "password": "staff password 123", "role": role])
                try #require(created.status == .created, "\(created.text)")
            }
            let screening = try await planes.data(
                .post, "/v1/compliance/screenings", token: f.staffToken, tenant: f.slug, json: ["name": "Ayman al-Zawahiri", "member_id": f.members[0].id])
            try #require(screening.status == .created, "\(screening.text)")
            let queue = try await planes.data(.get, "/v1/compliance/cases", token: f.staffToken, tenant: f.slug)
            let caseID = try #require((queue.json["data"] as? [[String: Any]])?.first?["id"] as? String, "\(queue.text)")

            var officer = Visitor(planes: planes, tenant: f.slug)
            #expect(try await officer.login("officer@\(f.slug).test", "staff password 123").status == .seeOther)
            let screened = try await officer.send(.get, "/portal/members/\(f.members[0].id)")
            #expect(screened.status == .ok && screened.text.contains("id=\"screenings\"") && screened.text.contains("Ayman al-Zawahiri"))
            let listed = try await planes.data(.get, "/v1/compliance/screenings?member_id=\(f.members[0].id)", token: f.staffToken, tenant: f.slug)
            let purposes = (listed.json["data"] as? [[String: Any]] ?? []).compactMap { $0["purpose"] as? String }
            #expect(purposes == ["manual", "onboarding"], "newest first, this member's only: \(listed.text)")
            let second = try await planes.data(.get, "/v1/compliance/screenings?member_id=\(f.members[1].id)", token: f.staffToken, tenant: f.slug)
            #expect(second.status == .ok && !second.text.contains("Zawahiri") && !second.text.contains(f.members[0].id), "\(second.text)")
            let open = try await officer.send(.get, "/portal/compliance/cases/\(caseID)")
            #expect(open.status == .ok && !open.text.contains("str-form"), "an open case has no STR form")
            let csrf = try #require(Visitor.csrf(open))
            let early = try await officer.send(.post, "/portal/compliance/cases/\(caseID)/str", form: ["_csrf": csrf, "grounds": String(repeating: "x", count: 40)])
            #expect(early.status == .conflict, "the API's rule: only a confirmed case")
            let rejected = try await officer.send(.post, "/portal/compliance/cases/\(caseID)/decision", form: ["_csrf": csrf, "decision": "reject", "reason": "Confirmed listed person"])
            #expect(rejected.status == .seeOther)
            let confirmed = try await officer.send(.get, "/portal/compliance/cases/\(caseID)")
            #expect(confirmed.text.contains("id=\"str-form\""))
            let short = try await officer.send(.post, "/portal/compliance/cases/\(caseID)/str", form: ["_csrf": csrf, "grounds": "too short"])
            #expect(short.status == .unprocessableContent && short.text.contains("<code>grounds</code>"))
            let grounds = "Name matches the consolidated list; funds moved within days of enrolment."
            let drafted = try await officer.send(.post, "/portal/compliance/cases/\(caseID)/str", form: ["_csrf": csrf, "grounds": grounds])
            let location = try #require(drafted.headers[.location], "\(drafted.status) \(drafted.text.suffix(800))")
            let report = try #require(location.firstMatch(of: /\/portal\/compliance\/reports\/([0-9a-f-]{36})\?done=report_drafted/).map { String($0.1) })
            let api = try await planes.data(.get, "/v1/compliance/reports/\(report)", token: f.staffToken, tenant: f.slug)
            #expect(api.status == .ok && api.json["case_id"] as? String == caseID && api.text.contains("funds moved within days"), "\(api.text)")
            let shown = try await officer.send(.get, location)
            #expect(shown.status == .ok && shown.text.contains("id=\"report-grounds\">\(grounds)</p>") && shown.text.contains("report-document"))
            let list = try await officer.send(.get, "/portal/compliance/reports")
            #expect(list.status == .ok && list.text.contains("/portal/compliance/reports/\(report)"))

            // The audit page: the admin sees this credit union's entries (the STR draft among them),
            // never another's, even when asking for it; a teller has no link and gets a 403.
            var tenantAdmin = Visitor(planes: planes, tenant: f.slug)
            #expect(try await tenantAdmin.login("admin@\(f.slug).test", "staff password 123").status == .seeOther)
            let audit = try await tenantAdmin.send(.get, "/portal/audit?action=\(StaffSiteTestEscape.query("POST /v1/compliance/cases/{id}/str"))")
            #expect(audit.status == .ok && audit.text.contains("POST /v1/compliance/cases/{id}/str"), "\(audit.text.suffix(1_500))")
            let asked = try await tenantAdmin.send(.get, "/portal/audit?tenant=\(other.slug)")
            #expect(asked.status == .ok && !asked.text.contains(other.slug) && !asked.text.contains("f-tenant"), "the tenant filter is not the portal's to set")
            let all = try await tenantAdmin.send(.get, "/portal/audit")
            #expect(all.text.contains("id=\"audit\"") && !all.text.contains(other.tenantID))
            var teller = Visitor(planes: planes, tenant: f.slug)
            #expect(try await teller.login("teller@\(f.slug).test", "staff password 123").status == .seeOther)
            let home = try await teller.send(.get, "/portal/")
            #expect(!home.text.contains("href=\"/portal/audit\"") && !home.text.contains("href=\"/portal/webhooks\""))
            #expect(try await teller.send(.get, "/portal/audit").status == .forbidden)
        }
    }

    @Test("webhook endpoints: a failing delivery shows its attempts; retry from the page delivers it; a disabled endpoint is enabled from its page")
    func webhooks() async throws {
        let harness = try await Harness.get()
        try await WebhookTests.withStack(harness) { planes, receiver, port in
            let f = try await planes.provisionFixture(prefix: "webw")
            receiver.answer("portal", 503)
            let created = try await WebhookTests.endpoint(planes, f, url: "http://127.0.0.1:\(port)/hooks/portal", types: ["account.*"])
            let id = try #require(created.json["id"] as? String, "\(created.text)")
            try await planes.deposit(f, member: 0, minor: 4_321)
            let failed = try #require(try await eventually {
                let all = try await WebhookTests.deliveries(planes, f, id)
                return (all.first?["attempt_log"] as? [[String: Any]])?.first?["status_code"] as? Int == 503 ? all[0] : nil
            }, "the first attempt was never made")
            let delivery = try #require(failed["id"] as? String)

            var admin = Visitor(planes: planes, tenant: f.slug)
            #expect(try await admin.login("admin@\(f.slug).test", "staff password 123").status == .seeOther)
            let list = try await admin.send(.get, "/portal/webhooks")
            #expect(list.status == .ok && list.text.contains("/portal/webhooks/\(id)") && !list.text.contains("whsec_"))
            let page = try await admin.send(.get, "/portal/webhooks/\(id)")
            #expect(page.status == .ok && page.text.contains("id=\"delivery-\(delivery)\"") && page.text.contains("HTTP 503"))
            #expect(page.text.contains("account.balance_changed.v1") && !page.text.contains("enable-form"))
            let csrf = try #require(Visitor.csrf(page))
            receiver.answer("portal", 200)
            let retried = try await admin.send(.post, "/portal/webhooks/\(id)/deliveries/\(delivery)/retry", form: ["_csrf": csrf])
            #expect(retried.status == .seeOther && retried.headers[.location] == "/portal/webhooks/\(id)?done=webhook_retried", "\(retried.text.suffix(800))")
            let delivered = try await eventually {
                try await WebhookTests.deliveries(planes, f, id).first { $0["id"] as? String == delivery && $0["status"] as? String == "succeeded" }
            }
            #expect(delivered != nil, "the retried delivery reached the receiver")
            let after = try await admin.send(.get, "/portal/webhooks/\(id)")
            #expect(after.text.contains("HTTP 200") && !after.text.contains("deliveries/\(delivery)/retry"), "a delivered one has no retry")

            // Disabled (as the dispatcher does after 3 days of failures): the page offers to enable it again.
            try await harness.owner.withTransaction(logger: harness.logger) { connection in
                try await connection.query("SELECT set_config('app.tenant_id', \(f.tenantID), true)", logger: harness.logger)
                try await connection.query(
                    "UPDATE \(unescaped: "t_\(f.slug)").webhook_endpoints SET status = 'disabled', disabled_reason = 'paused by staff' WHERE id = \(UUID(uuidString: id)!)",
                    logger: harness.logger)
            }
            let disabled = try await admin.send(.get, "/portal/webhooks/\(id)")
            #expect(disabled.text.contains("id=\"enable-form\"") && disabled.text.contains("paused by staff"))
            let enabled = try await admin.send(.post, "/portal/webhooks/\(id)/enable", form: ["_csrf": csrf])
            #expect(enabled.status == .seeOther)
            let record = try await planes.data(.get, "/v1/webhook-endpoints/\(id)", token: f.staffToken, tenant: f.slug)
            #expect(record.json["status"] as? String == "enabled", "\(record.text)")
        }
    }

    @Test("the dashboard shows members' money in and out today and the tontine cycles due this week, as the API sums them; bad days are named")
    func dashboardFigures() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "webd")
            let other = try await planes.provisionFixture(prefix: "webx")
            func cad(_ fixture: Planes.Fixture) async throws -> (moneyIn: Int, moneyOut: Int, kinds: [String: (Int, Int)]) {
                let reply = try await planes.data(.get, "/v1/ledger/flows", token: fixture.staffToken, tenant: fixture.slug)
                try #require(reply.status == .ok, "\(reply.text)")
                let flow = (reply.json["currencies"] as? [[String: Any]] ?? []).first { $0["currency"] as? String == "CAD" } ?? [:]
                func amount(_ object: Any?) -> Int { (object as? [String: Any])?["amount"] as? Int ?? 0 }
                var kinds: [String: (Int, Int)] = [:]
                for kind in flow["kinds"] as? [[String: Any]] ?? [] { kinds[kind["kind"] as? String ?? ""] = (amount(kind["money_in"]), amount(kind["money_out"])) }
                return (amount(flow["money_in"]), amount(flow["money_out"]), kinds)
            }
            let before = try await cad(f)
            let otherBefore = try await cad(other)
            try await planes.deposit(f, member: 0, minor: 12_345)
            let out = try await planes.data(
                .post, "/v1/withdrawals", token: f.staffToken, tenant: f.slug, json: ["account_id": f.members[0].accountID, "amount": 2_000, "currency": "CAD"],
                headers: [.idempotencyKey: UUID().uuidString])
            try #require(out.status == .created, "\(out.text)")
            let moved = try await planes.data(
                .post, "/v1/transfers", token: f.staffToken, tenant: f.slug,
                json: ["from_account_id": f.members[0].accountID, "to_account_id": f.members[1].accountID, "amount": 1_000, "currency": "CAD"],
                headers: [.idempotencyKey: UUID().uuidString])
            try #require(moved.status == .created, "\(moved.text)")
            let after = try await cad(f)
            #expect(after.moneyIn - before.moneyIn == 12_345 && after.moneyOut - before.moneyOut == 2_000, "\(before) → \(after)")
            #expect((after.kinds["deposit"]?.0 ?? 0) - (before.kinds["deposit"]?.0 ?? 0) == 12_345)
            #expect(after.kinds["transfer"] == nil, "a transfer between members is neither in nor out")
            let otherAfter = try await cad(other)
            #expect(otherAfter.moneyIn == otherBefore.moneyIn && otherAfter.moneyOut == otherBefore.moneyOut, "another credit union's figures do not move")
            let bad = try await planes.data(.get, "/v1/ledger/flows?from=2026-13-01&to=soon", token: f.staffToken, tenant: f.slug)
            #expect(bad.status == .unprocessableContent && bad.text.contains("\"from\"") && bad.text.contains("\"to\""), "\(bad.text)")
            let backwards = try await planes.data(.get, "/v1/ledger/flows?from=2026-12-06&to=2026-12-01", token: f.staffToken, tenant: f.slug)
            #expect(backwards.status == .unprocessableContent)

            // A running circle whose first cycle falls due in two days: due this week, one contribution of two in.
            let today = try DayRange.day(of: planes.clock.now().timeIntervalSince1970)
            let due = today.adding(days: 2)!.description
            let (people, circle, _) = try await planes.startedCircle(f, count: 2, extra: ["first_due_date": due])
            let paid = try await planes.contribute(f, circle, cycle: 1, people[1])
            try #require(paid.status == .created || paid.status == .ok, "\(paid.text)")
            let cycles = try await planes.data(.get, "/v1/tontine-cycles", token: f.staffToken, tenant: f.slug)
            let listed = cycles.json["data"] as? [[String: Any]] ?? []
            #expect(listed.count == 1 && listed.first?["cycle"] as? Int == 1 && listed.first?["due_date"] as? String == due, "\(cycles.text)")
            #expect(listed.first?["contributed"] as? Int == 1 && listed.first?["members"] as? Int == 2 && listed.first?["tontine_id"] as? String == circle)
            let later = try await planes.data(.get, "/v1/tontine-cycles?from=\(today.adding(days: 3)!)&to=\(today.adding(days: 8)!)", token: f.staffToken, tenant: f.slug)
            #expect((later.json["data"] as? [Any])?.isEmpty == true, "the window is the API's: \(later.text)")
            let elsewhere = try await planes.data(.get, "/v1/tontine-cycles", token: other.staffToken, tenant: other.slug)
            #expect((elsewhere.json["data"] as? [Any])?.isEmpty == true)
            let badStatus = try await planes.data(.get, "/v1/tontine-cycles?status=late", token: f.staffToken, tenant: f.slug)
            #expect(badStatus.status == .unprocessableContent && badStatus.text.contains("status"))

            var admin = Visitor(planes: planes, tenant: f.slug)
            #expect(try await admin.login("admin@\(f.slug).test", "staff password 123").status == .seeOther)
            let dashboard = try await admin.send(.get, "/portal/")
            #expect(dashboard.status == .ok && dashboard.text.contains("id=\"h-money\"") && dashboard.text.contains("id=\"money-net-CAD\""))
            #expect(dashboard.text.contains("id=\"h-cycles\"") && dashboard.text.contains("/portal/tontine-cycles?from=\(due)&amp;to=\(due)"), "\(dashboard.text.suffix(3_000))")
            let page = try await admin.send(.get, "/portal/tontine-cycles?from=\(due)&to=\(due)")
            #expect(page.status == .ok && page.text.contains("/portal/tontines/\(circle)") && page.text.contains("1 / 2"))
        }
    }
}

/// Query escaping as the portal's links do it, for a test's own URLs.
enum StaffSiteTestEscape {
    static func query(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~/"))) ?? ""
    }
}
