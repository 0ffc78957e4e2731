import Foundation
import HTTPTypes
import NzilaCore
import Testing

@Suite("Permission matrix")
struct MatrixTests {
    enum Plane: String { case control, data }

    /// One secured route of either plane: a request every role sends, and who may use it.
    struct Case {
        let plane: Plane
        let method: HTTPRequest.Method
        /// The documented path template.
        let template: String
        /// The concrete path sent.
        let path: String
        var body: [String: Any]? = nil
        var idempotent = false
        /// The matrix permission the route checks.
        let permission: Permission
        /// Members may also use it, on their own data.
        var members = false
    }

    @Test("every secured route of both planes, for every role: allowed exactly as policies/staff_roles.yaml says, refused with 401/403 otherwise")
    func routeByRoute() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "mx")
            let admin = try await planes.adminToken()
            var tokens: [Role: String] = [.platformAdmin: admin, .tenantAdmin: f.staffToken, .member: f.members[0].token]
            for role in [Role.teller, .complianceOfficer, .auditor] {
                let email = "\(role.rawValue)@\(f.slug).test"
                let made = try await planes.control(
                    .post, "/v1/tenants/\(f.slug)/staff", token: admin, json: ["email": email, "password": "staff password 123", "role": role.rawValue])
                try #require(made.status == .created, "\(made.text)")
                tokens[role] = try await planes.login(planes.cp, email: email, password: "staff password 123")
            }
            let (a, b) = (f.members[0], f.members[1])
            #expect(try await planes.data(
                .post, "/v1/deposits", token: f.staffToken, tenant: f.slug, json: ["account_id": a.accountID, "amount": 100_000, "currency": "CAD"],
                headers: [.idempotencyKey: UUID().uuidString]).status == .created)
            let spare = try await planes.data(
                .post, "/v1/accounts", token: f.staffToken, tenant: f.slug, json: ["kind": "savings", "currency": "CAD", "member_id": b.id])
            let spareID = try #require(spare.json["id"] as? String)
            let nowhere = UUID().uuidString.lowercased()
            let s = f.slug
            let cases: [Case] = [
                Case(plane: .data, method: .get, template: "/v1/members", path: "/v1/members", permission: .readMembers),
                Case(plane: .data, method: .post, template: "/v1/members", path: "/v1/members", body: ["email": "", "full_name": "New Member", "password": "member password 9!"], permission: .createMember),
                Case(plane: .data, method: .get, template: "/v1/members/{id}", path: "/v1/members/\(a.id)", permission: .readMembers, members: true),
                Case(plane: .data, method: .post, template: "/v1/accounts", path: "/v1/accounts", body: ["kind": "savings", "currency": "CAD", "member_id": a.id], permission: .openAccount, members: true),
                Case(plane: .data, method: .get, template: "/v1/accounts", path: "/v1/accounts", permission: .readAccounts, members: true),
                Case(plane: .data, method: .get, template: "/v1/accounts/{id}", path: "/v1/accounts/\(a.accountID)", permission: .readAccounts, members: true),
                Case(plane: .data, method: .get, template: "/v1/accounts/{id}/entries", path: "/v1/accounts/\(a.accountID)/entries", permission: .readLedger, members: true),
                Case(plane: .data, method: .get, template: "/v1/ledger/flows", path: "/v1/ledger/flows", permission: .readLedger),
                Case(plane: .data, method: .get, template: "/v1/accounts/{id}/status-changes", path: "/v1/accounts/\(a.accountID)/status-changes", permission: .readAccounts, members: true),
                Case(plane: .data, method: .post, template: "/v1/accounts/{id}/status", path: "/v1/accounts/\(spareID)/status", body: ["status": "frozen", "reason": "Matrix"], permission: .freezeAccount),
                Case(plane: .data, method: .post, template: "/v1/deposits", path: "/v1/deposits", body: ["account_id": a.accountID, "amount": 1, "currency": "CAD"], idempotent: true, permission: .postCash),
                Case(plane: .data, method: .post, template: "/v1/withdrawals", path: "/v1/withdrawals", body: ["account_id": a.accountID, "amount": 1, "currency": "CAD"], idempotent: true, permission: .postCash),
                Case(plane: .data, method: .post, template: "/v1/transfers", path: "/v1/transfers", body: ["from_account_id": a.accountID, "to_account_id": b.accountID, "amount": 1, "currency": "CAD"], idempotent: true, permission: .transferAny, members: true),
                Case(plane: .data, method: .post, template: "/v1/conversions", path: "/v1/conversions", body: ["from_account_id": a.accountID, "to_account_id": b.accountID, "amount": 1, "currency": "CAD"], idempotent: true, permission: .transferAny, members: true),
                Case(plane: .data, method: .post, template: "/v1/holds", path: "/v1/holds", body: ["account_id": a.accountID, "amount": 1, "currency": "CAD"], idempotent: true, permission: .transferAny, members: true),
                Case(plane: .data, method: .get, template: "/v1/holds/{id}", path: "/v1/holds/\(nowhere)", permission: .readLedger, members: true),
                Case(plane: .data, method: .post, template: "/v1/holds/{id}/capture", path: "/v1/holds/\(nowhere)/capture", body: [:], idempotent: true, permission: .transferAny, members: true),
                Case(plane: .data, method: .post, template: "/v1/holds/{id}/void", path: "/v1/holds/\(nowhere)/void", body: [:], idempotent: true, permission: .transferAny, members: true),
                Case(plane: .data, method: .get, template: "/v1/journals/{id}", path: "/v1/journals/\(nowhere)", permission: .readLedger, members: true),
                Case(plane: .data, method: .post, template: "/v1/journals/{id}/reverse", path: "/v1/journals/\(nowhere)/reverse", body: [:], idempotent: true, permission: .reverseJournal),
                Case(plane: .data, method: .post, template: "/v1/compliance/screenings", path: "/v1/compliance/screenings", body: ["name": "Matrix Person"], permission: .screenNames),
                Case(plane: .data, method: .get, template: "/v1/compliance/screenings", path: "/v1/compliance/screenings?member_id=\(a.id)", permission: .readCompliance),
                Case(plane: .data, method: .get, template: "/v1/compliance/screenings/{id}", path: "/v1/compliance/screenings/\(nowhere)", permission: .readCompliance),
                Case(plane: .data, method: .get, template: "/v1/compliance/cases", path: "/v1/compliance/cases", permission: .readCompliance),
                Case(plane: .data, method: .post, template: "/v1/quotes", path: "/v1/quotes", body: ["corridor": "CAD-NGN", "method": "mobile_money", "send_amount": 1_000], permission: .sendRemittances, members: true),
                Case(plane: .data, method: .get, template: "/v1/quotes/{id}", path: "/v1/quotes/\(nowhere)", permission: .sendRemittances, members: true),
                Case(plane: .data, method: .post, template: "/v1/remittances", path: "/v1/remittances", body: [:], idempotent: true, permission: .sendRemittances, members: true),
                Case(plane: .data, method: .get, template: "/v1/remittances", path: "/v1/remittances", permission: .readRemittances, members: true),
                Case(plane: .data, method: .get, template: "/v1/remittances/{id}", path: "/v1/remittances/\(nowhere)", permission: .readRemittances, members: true),
                Case(plane: .data, method: .get, template: "/v1/remittances/{id}/funding", path: "/v1/remittances/\(nowhere)/funding", permission: .readRemittances, members: true),
                Case(plane: .data, method: .post, template: "/v1/remittances/{id}/cancel", path: "/v1/remittances/\(nowhere)/cancel", body: [:], idempotent: true, permission: .sendRemittances, members: true),
                Case(plane: .data, method: .post, template: "/v1/tontines", path: "/v1/tontines", body: [:], permission: .manageTontines, members: true),
                Case(plane: .data, method: .get, template: "/v1/tontines", path: "/v1/tontines", permission: .manageTontines, members: true),
                Case(plane: .data, method: .get, template: "/v1/tontines/{id}", path: "/v1/tontines/\(nowhere)", permission: .manageTontines, members: true),
                Case(plane: .data, method: .get, template: "/v1/tontine-cycles", path: "/v1/tontine-cycles", permission: .manageTontines),
                Case(plane: .data, method: .post, template: "/v1/tontines/{id}/join", path: "/v1/tontines/\(nowhere)/join", body: [:], permission: .manageTontines, members: true),
                Case(plane: .data, method: .post, template: "/v1/tontines/{id}/members", path: "/v1/tontines/\(nowhere)/members", body: [:], permission: .manageTontines),
                Case(plane: .data, method: .post, template: "/v1/tontines/{id}/start", path: "/v1/tontines/\(nowhere)/start", body: [:], permission: .manageTontines, members: true),
                Case(plane: .data, method: .post, template: "/v1/tontines/{id}/contributions", path: "/v1/tontines/\(nowhere)/contributions", body: [:], idempotent: true, permission: .manageTontines, members: true),
                Case(plane: .data, method: .post, template: "/v1/tontines/{id}/swaps", path: "/v1/tontines/\(nowhere)/swaps", body: [:], permission: .manageTontines, members: true),
                Case(plane: .data, method: .post, template: "/v1/tontines/{id}/swaps/{swap_id}/accept", path: "/v1/tontines/\(nowhere)/swaps/\(nowhere)/accept", permission: .manageTontines, members: true),
                Case(plane: .data, method: .post, template: "/v1/tontines/{id}/swaps/{swap_id}/decline", path: "/v1/tontines/\(nowhere)/swaps/\(nowhere)/decline", permission: .manageTontines, members: true),
                Case(plane: .data, method: .post, template: "/v1/tontines/{id}/disputes", path: "/v1/tontines/\(nowhere)/disputes", body: [:], permission: .manageTontines, members: true),
                Case(plane: .data, method: .post, template: "/v1/tontines/{id}/disputes/{dispute_id}/resolve", path: "/v1/tontines/\(nowhere)/disputes/\(nowhere)/resolve", body: [:], idempotent: true, permission: .manageTontines),
                Case(plane: .data, method: .post, template: "/v1/tontines/{id}/cycles/{cycle}/advance", path: "/v1/tontines/\(nowhere)/cycles/1/advance", body: [:], idempotent: true, permission: .manageTontines),
                Case(plane: .data, method: .post, template: "/v1/tontines/{id}/dissolve", path: "/v1/tontines/\(nowhere)/dissolve", body: [:], idempotent: true, permission: .manageTontines),
                Case(plane: .data, method: .post, template: "/v1/loan-products", path: "/v1/loan-products", body: [:], permission: .manageLoans),
                Case(plane: .data, method: .get, template: "/v1/loan-products", path: "/v1/loan-products", permission: .readLoans, members: true),
                Case(plane: .data, method: .get, template: "/v1/loan-products/{id}", path: "/v1/loan-products/\(nowhere)", permission: .readLoans, members: true),
                Case(plane: .data, method: .put, template: "/v1/loan-products/{id}", path: "/v1/loan-products/\(nowhere)", body: [:], permission: .manageLoans),
                Case(plane: .data, method: .post, template: "/v1/loan-quotes", path: "/v1/loan-quotes", body: [:], permission: .readLoans, members: true),
                Case(plane: .data, method: .post, template: "/v1/loans", path: "/v1/loans", body: [:], idempotent: true, permission: .manageLoans, members: true),
                Case(plane: .data, method: .get, template: "/v1/loans", path: "/v1/loans", permission: .readLoans, members: true),
                Case(plane: .data, method: .get, template: "/v1/loans/{id}", path: "/v1/loans/\(nowhere)", permission: .readLoans, members: true),
                Case(plane: .data, method: .post, template: "/v1/loans/{id}/decision", path: "/v1/loans/\(nowhere)/decision", body: [:], permission: .manageLoans),
                Case(plane: .data, method: .post, template: "/v1/loans/{id}/disburse", path: "/v1/loans/\(nowhere)/disburse", idempotent: true, permission: .manageLoans),
                Case(plane: .data, method: .get, template: "/v1/loans/{id}/schedule", path: "/v1/loans/\(nowhere)/schedule", permission: .readLoans, members: true),
                Case(plane: .data, method: .post, template: "/v1/loans/{id}/repayments", path: "/v1/loans/\(nowhere)/repayments", body: [:], idempotent: true, permission: .manageLoans, members: true),
                Case(plane: .data, method: .get, template: "/v1/loans/{id}/payoff", path: "/v1/loans/\(nowhere)/payoff", permission: .readLoans, members: true),
                Case(plane: .data, method: .post, template: "/v1/loans/{id}/payoff", path: "/v1/loans/\(nowhere)/payoff", body: [:], idempotent: true, permission: .manageLoans, members: true),
                Case(plane: .data, method: .post, template: "/v1/loans/{id}/write-off", path: "/v1/loans/\(nowhere)/write-off", body: [:], permission: .manageLoans),
                Case(plane: .data, method: .get, template: "/v1/members/{id}/tontine-record", path: "/v1/members/\(a.id)/tontine-record", permission: .readMembers, members: true),
                Case(plane: .data, method: .get, template: "/v1/members/{id}/limits", path: "/v1/members/\(a.id)/limits", permission: .readMembers, members: true),
                Case(plane: .data, method: .get, template: "/v1/members/{id}/kyc", path: "/v1/members/\(a.id)/kyc", permission: .readMembers, members: true),
                Case(plane: .data, method: .post, template: "/v1/members/{id}/kyc/documents", path: "/v1/members/\(a.id)/kyc/documents", body: ["kind": "proof_of_address"], permission: .manageKYC),
                Case(plane: .data, method: .post, template: "/v1/members/{id}/kyc/documents/{document}/reveal", path: "/v1/members/\(a.id)/kyc/documents/\(nowhere)/reveal", body: [:], permission: .revealKYC),
                Case(plane: .data, method: .post, template: "/v1/members/{id}/kyc/verifications", path: "/v1/members/\(a.id)/kyc/verifications", permission: .manageKYC, members: true),
                Case(plane: .data, method: .get, template: "/v1/members/{id}/kyc/verifications", path: "/v1/members/\(a.id)/kyc/verifications", permission: .readMembers, members: true),
                Case(plane: .data, method: .post, template: "/v1/members/{id}/kyc/files", path: "/v1/members/\(a.id)/kyc/files", body: [:], permission: .manageKYC, members: true),
                Case(plane: .data, method: .get, template: "/v1/members/{id}/kyc/files", path: "/v1/members/\(a.id)/kyc/files", permission: .readMembers, members: true),
                Case(plane: .data, method: .get, template: "/v1/members/{id}/kyc/files/{file}", path: "/v1/members/\(a.id)/kyc/files/\(nowhere)", permission: .readMembers),
                Case(plane: .data, method: .post, template: "/v1/members/{id}/kyc/files/{file}/reveal", path: "/v1/members/\(a.id)/kyc/files/\(nowhere)/reveal", body: ["reason": "Matrix"], permission: .revealKYC),
                Case(plane: .data, method: .get, template: "/v1/members/{id}/devices", path: "/v1/members/\(a.id)/devices", permission: .readCompliance),
                Case(plane: .data, method: .get, template: "/v1/members/{id}/risk", path: "/v1/members/\(a.id)/risk", permission: .readCompliance),
                Case(plane: .data, method: .put, template: "/v1/members/{id}/risk/profile", path: "/v1/members/\(a.id)/risk/profile", body: ["pep": "none", "pep_associate": false], permission: .manageKYC),
                Case(plane: .data, method: .post, template: "/v1/members/{id}/bank-links/link-token", path: "/v1/members/\(a.id)/bank-links/link-token", permission: .openAccount, members: true),
                Case(plane: .data, method: .post, template: "/v1/members/{id}/bank-links", path: "/v1/members/\(a.id)/bank-links", body: ["public_token": "public-matrix"], permission: .openAccount, members: true),
                Case(plane: .data, method: .get, template: "/v1/members/{id}/bank-links", path: "/v1/members/\(a.id)/bank-links", permission: .readAccounts, members: true),
                Case(plane: .data, method: .get, template: "/v1/members/{id}/bank-links/{link}/balance", path: "/v1/members/\(a.id)/bank-links/\(nowhere)/balance", permission: .readAccounts, members: true),
                Case(plane: .data, method: .delete, template: "/v1/members/{id}/bank-links/{link}", path: "/v1/members/\(a.id)/bank-links/\(nowhere)", permission: .openAccount, members: true),
                Case(plane: .data, method: .post, template: "/v1/members/{id}/kyc/tier", path: "/v1/members/\(a.id)/kyc/tier", body: ["tier": 1, "reason": "Matrix"], permission: .manageKYC),
                Case(plane: .data, method: .get, template: "/v1/compliance/cases/{id}", path: "/v1/compliance/cases/\(nowhere)", permission: .readCompliance),
                Case(plane: .data, method: .post, template: "/v1/compliance/cases/{id}/assign", path: "/v1/compliance/cases/\(nowhere)/assign", body: [:], permission: .manageCases),
                Case(plane: .data, method: .post, template: "/v1/compliance/cases/{id}/comments", path: "/v1/compliance/cases/\(nowhere)/comments", body: ["comment": "Matrix"], permission: .manageCases),
                Case(plane: .data, method: .post, template: "/v1/compliance/cases/{id}/decision", path: "/v1/compliance/cases/\(nowhere)/decision", body: ["decision": "release", "reason": "Matrix"], permission: .manageCases),
                Case(plane: .data, method: .post, template: "/v1/compliance/cases/{id}/str", path: "/v1/compliance/cases/\(nowhere)/str", body: ["grounds": "Matrix grounds for suspicion, long enough."], permission: .manageCases),
                Case(plane: .data, method: .get, template: "/v1/compliance/reports", path: "/v1/compliance/reports", permission: .readCompliance),
                Case(plane: .data, method: .get, template: "/v1/compliance/reports/{id}", path: "/v1/compliance/reports/\(nowhere)", permission: .readCompliance),
                Case(plane: .control, method: .post, template: "/v1/tenants", path: "/v1/tenants", body: [:], idempotent: true, permission: .manageTenants),
                Case(plane: .control, method: .get, template: "/v1/tenants", path: "/v1/tenants", permission: .manageTenants),
                Case(plane: .control, method: .get, template: "/v1/tenants/{slug}", path: "/v1/tenants/\(s)", permission: .readTenant),
                Case(plane: .control, method: .post, template: "/v1/tenants/{slug}/staff", path: "/v1/tenants/\(s)/staff", body: [:], permission: .createStaff),
                Case(plane: .control, method: .post, template: "/v1/tenants/{slug}/suspend", path: "/v1/tenants/\(s)/suspend", body: [:], permission: .manageTenants),
                Case(plane: .control, method: .post, template: "/v1/tenants/{slug}/resume", path: "/v1/tenants/\(s)/resume", body: [:], permission: .manageTenants),
                Case(plane: .control, method: .post, template: "/v1/tenants/{slug}/offboard", path: "/v1/tenants/\(s)/offboard", body: [:], permission: .manageTenants),
                Case(plane: .control, method: .get, template: "/v1/tenants/{slug}/config", path: "/v1/tenants/\(s)/config", permission: .readConfig),
                Case(plane: .control, method: .put, template: "/v1/tenants/{slug}/config", path: "/v1/tenants/\(s)/config", body: [:], permission: .writeConfig),
                Case(plane: .control, method: .get, template: "/v1/tenants/{slug}/config/versions", path: "/v1/tenants/\(s)/config/versions", permission: .readConfig),
                Case(plane: .data, method: .post, template: "/v1/devices", path: "/v1/devices",
                     body: ["platform": "fcm", "token": "matrix-device-token-0001", "member_id": a.id], permission: .createMember, members: true),
                Case(plane: .data, method: .get, template: "/v1/devices", path: "/v1/devices?member_id=\(a.id)", permission: .readMembers, members: true),
                Case(plane: .data, method: .delete, template: "/v1/devices/{id}", path: "/v1/devices/\(nowhere)", permission: .createMember, members: true),
                Case(plane: .data, method: .get, template: "/v1/members/{id}/notification-preferences", path: "/v1/members/\(a.id)/notification-preferences",
                     permission: .readMembers, members: true),
                Case(plane: .data, method: .put, template: "/v1/members/{id}/notification-preferences", path: "/v1/members/\(a.id)/notification-preferences",
                     body: ["locale": "fr-CA"], permission: .createMember, members: true),
                Case(plane: .data, method: .get, template: "/v1/notifications", path: "/v1/notifications", permission: .readMembers, members: true),
                Case(plane: .data, method: .get, template: "/v1/market/instruments", path: "/v1/market/instruments", permission: .readTrading, members: true),
                Case(plane: .data, method: .post, template: "/v1/trading/account", path: "/v1/trading/account", body: ["member_id": a.id],
                     permission: .manageTrading, members: true),
                Case(plane: .data, method: .get, template: "/v1/trading/account", path: "/v1/trading/account?member_id=\(a.id)", permission: .readTrading, members: true),
                Case(plane: .data, method: .post, template: "/v1/trading/orders", path: "/v1/trading/orders",
                     body: ["symbol": "RY", "side": "buy", "type": "market", "qty": 100, "time_in_force": "day", "member_id": a.id],
                     permission: .manageTrading, members: true),
                Case(plane: .data, method: .get, template: "/v1/trading/orders", path: "/v1/trading/orders", permission: .readTrading, members: true),
                Case(plane: .data, method: .get, template: "/v1/trading/positions", path: "/v1/trading/positions?member_id=\(a.id)", permission: .readTrading, members: true),
                Case(plane: .data, method: .get, template: "/v1/trading/activities", path: "/v1/trading/activities?member_id=\(a.id)", permission: .readTrading, members: true),
                Case(plane: .data, method: .get, template: "/v1/trading/orders/{id}", path: "/v1/trading/orders/\(nowhere)", permission: .readTrading, members: true),
                Case(plane: .data, method: .post, template: "/v1/trading/watchlists", path: "/v1/trading/watchlists", body: ["name": "x", "member_id": a.id],
                     permission: .manageTrading, members: true),
                Case(plane: .data, method: .get, template: "/v1/trading/watchlists", path: "/v1/trading/watchlists?member_id=\(a.id)", permission: .readTrading, members: true),
                Case(plane: .data, method: .get, template: "/v1/trading/watchlists/{id}", path: "/v1/trading/watchlists/\(nowhere)", permission: .readTrading, members: true),
                Case(plane: .data, method: .put, template: "/v1/trading/watchlists/{id}", path: "/v1/trading/watchlists/\(nowhere)", body: ["name": "x", "symbols": []],
                     permission: .manageTrading, members: true),
                Case(plane: .data, method: .delete, template: "/v1/trading/watchlists/{id}", path: "/v1/trading/watchlists/\(nowhere)", permission: .manageTrading, members: true),
                Case(plane: .data, method: .post, template: "/v1/trading/watchlists/{id}/symbols", path: "/v1/trading/watchlists/\(nowhere)/symbols", body: ["symbol": "RY"],
                     permission: .manageTrading, members: true),
                Case(plane: .data, method: .delete, template: "/v1/trading/watchlists/{id}/symbols/{symbol}", path: "/v1/trading/watchlists/\(nowhere)/symbols/RY",
                     permission: .manageTrading, members: true),
                Case(plane: .data, method: .post, template: "/v1/trading/alerts", path: "/v1/trading/alerts",
                     body: ["symbol": "RY", "condition": "crosses_above", "price": "1", "member_id": a.id], permission: .manageTrading, members: true),
                Case(plane: .data, method: .get, template: "/v1/trading/alerts", path: "/v1/trading/alerts?member_id=\(a.id)", permission: .readTrading, members: true),
                Case(plane: .data, method: .get, template: "/v1/trading/alerts/{id}", path: "/v1/trading/alerts/\(nowhere)", permission: .readTrading, members: true),
                Case(plane: .data, method: .delete, template: "/v1/trading/alerts/{id}", path: "/v1/trading/alerts/\(nowhere)", permission: .manageTrading, members: true),
                Case(plane: .data, method: .post, template: "/v1/trading/alerts/{id}/rearm", path: "/v1/trading/alerts/\(nowhere)/rearm", permission: .manageTrading,
                     members: true),
                Case(plane: .data, method: .put, template: "/v1/trading/profile", path: "/v1/trading/profile",
                     body: ["display_name": "Matrix \(UUID().uuidString.prefix(6))", "member_id": a.id], permission: .manageTrading, members: true),
                Case(plane: .data, method: .get, template: "/v1/trading/profile", path: "/v1/trading/profile?member_id=\(a.id)", permission: .readTrading, members: true),
                Case(plane: .data, method: .get, template: "/v1/trading/leaderboard", path: "/v1/trading/leaderboard", permission: .readTrading, members: true),
                Case(plane: .data, method: .post, template: "/v1/trading/ideas", path: "/v1/trading/ideas",
                     body: ["symbol": "RY", "direction": "long", "thesis": "Banks", "member_id": a.id], permission: .manageTrading, members: true),
                Case(plane: .data, method: .get, template: "/v1/trading/ideas", path: "/v1/trading/ideas", permission: .readTrading, members: true),
                Case(plane: .data, method: .get, template: "/v1/trading/feed", path: "/v1/trading/feed?member_id=\(a.id)", permission: .readTrading, members: true),
                Case(plane: .data, method: .get, template: "/v1/trading/ideas/{id}", path: "/v1/trading/ideas/\(nowhere)", permission: .readTrading, members: true),
                Case(plane: .data, method: .post, template: "/v1/trading/ideas/{id}/comments", path: "/v1/trading/ideas/\(nowhere)/comments",
                     body: ["body": "x", "member_id": a.id], permission: .manageTrading, members: true),
                Case(plane: .data, method: .post, template: "/v1/trading/ideas/{id}/hide", path: "/v1/trading/ideas/\(nowhere)/hide", body: ["reason": "x"],
                     permission: .manageTrading),
                Case(plane: .data, method: .post, template: "/v1/trading/comments/{id}/hide", path: "/v1/trading/comments/\(nowhere)/hide", body: ["reason": "x"],
                     permission: .manageTrading),
                Case(plane: .data, method: .post, template: "/v1/trading/follows", path: "/v1/trading/follows",
                     body: ["member_id": nowhere, "follower_id": a.id], permission: .manageTrading, members: true),
                Case(plane: .data, method: .get, template: "/v1/trading/follows", path: "/v1/trading/follows?member_id=\(a.id)", permission: .readTrading, members: true),
                Case(plane: .data, method: .delete, template: "/v1/trading/follows/{id}", path: "/v1/trading/follows/\(nowhere)?follower_id=\(a.id)",
                     permission: .manageTrading, members: true),
                Case(plane: .data, method: .post, template: "/v1/trading/competitions", path: "/v1/trading/competitions",
                     body: ["name": "Matrix", "starts_at": "2030-01-07T14:00:00Z", "ends_at": "2030-01-11T21:00:00Z", "starting_cash": ["amount": 100_000, "currency": "CAD"]],
                     permission: .manageTrading),
                Case(plane: .data, method: .get, template: "/v1/trading/competitions", path: "/v1/trading/competitions", permission: .readTrading, members: true),
                Case(plane: .data, method: .get, template: "/v1/trading/competitions/{id}", path: "/v1/trading/competitions/\(nowhere)", permission: .readTrading,
                     members: true),
                Case(plane: .data, method: .post, template: "/v1/trading/competitions/{id}/join", path: "/v1/trading/competitions/\(nowhere)/join",
                     body: ["member_id": a.id], permission: .manageTrading, members: true),
                Case(plane: .data, method: .get, template: "/v1/trading/competitions/{id}/leaderboard", path: "/v1/trading/competitions/\(nowhere)/leaderboard",
                     permission: .readTrading, members: true),
                Case(plane: .data, method: .get, template: "/v1/academy/courses", path: "/v1/academy/courses", permission: .readTrading, members: true),
                Case(plane: .data, method: .get, template: "/v1/academy/courses/{id}", path: "/v1/academy/courses/order-mechanics", permission: .readTrading,
                     members: true),
                Case(plane: .data, method: .get, template: "/v1/academy/lessons/{id}", path: "/v1/academy/lessons/market-vs-limit", permission: .readTrading,
                     members: true),
                Case(plane: .data, method: .post, template: "/v1/academy/lessons/{id}/complete", path: "/v1/academy/lessons/market-vs-limit/complete?member_id=\(a.id)",
                     permission: .manageTrading, members: true),
                Case(plane: .data, method: .post, template: "/v1/academy/quizzes/{id}/attempts", path: "/v1/academy/quizzes/market-vs-limit/attempts",
                     body: ["answers": [1, 1], "member_id": a.id], permission: .manageTrading, members: true),
                Case(plane: .data, method: .post, template: "/v1/academy/lessons/{id}/scenario/runs", path: "/v1/academy/lessons/market-vs-limit/scenario/runs",
                     body: ["member_id": a.id], permission: .manageTrading, members: true),
                Case(plane: .data, method: .post, template: "/v1/trading/copies", path: "/v1/trading/copies",
                     body: ["leader_member_id": nowhere, "amount": ["amount": 100_000, "currency": "CAD"], "stop_loss_pct": 50, "member_id": a.id], idempotent: true,
                     permission: .manageTrading, members: true),
                Case(plane: .data, method: .get, template: "/v1/trading/copies", path: "/v1/trading/copies", permission: .readTrading, members: true),
                Case(plane: .data, method: .get, template: "/v1/trading/copies/{id}", path: "/v1/trading/copies/\(nowhere)", permission: .readTrading, members: true),
                Case(plane: .data, method: .get, template: "/v1/trading/copies/{id}/log", path: "/v1/trading/copies/\(nowhere)/log", permission: .readTrading,
                     members: true),
                Case(plane: .data, method: .post, template: "/v1/trading/copies/{id}/stop", path: "/v1/trading/copies/\(nowhere)/stop", body: ["close_positions": true],
                     permission: .manageTrading, members: true),
                Case(plane: .data, method: .get, template: "/v1/trading/portfolio/history", path: "/v1/trading/portfolio/history?member_id=\(a.id)",
                     permission: .readTrading, members: true),
                Case(plane: .data, method: .get, template: "/v1/trading/portfolio/analytics", path: "/v1/trading/portfolio/analytics?member_id=\(a.id)",
                     permission: .readTrading, members: true),
                Case(plane: .data, method: .post, template: "/v1/trading/orders/{id}/cancel", path: "/v1/trading/orders/\(nowhere)/cancel",
                     permission: .manageTrading, members: true),
                Case(plane: .data, method: .post, template: "/v1/trading/orders/{id}/replace", path: "/v1/trading/orders/\(nowhere)/replace", body: ["qty": 10],
                     permission: .manageTrading, members: true),
                Case(plane: .data, method: .get, template: "/v1/market/quotes", path: "/v1/market/quotes?symbols=RY", permission: .readTrading, members: true),
                Case(plane: .data, method: .get, template: "/v1/market/bars", path: "/v1/market/bars?symbol=RY&from=2026-01-05&to=2026-01-09",
                     permission: .readTrading, members: true),
                Case(plane: .data, method: .post, template: "/v1/webhook-endpoints", path: "/v1/webhook-endpoints",
                     body: ["url": "https://hooks.example.com/nzila", "event_types": ["*"]], permission: .manageWebhooks),
                Case(plane: .data, method: .get, template: "/v1/webhook-endpoints", path: "/v1/webhook-endpoints", permission: .manageWebhooks),
                Case(plane: .data, method: .get, template: "/v1/webhook-endpoints/{id}", path: "/v1/webhook-endpoints/\(nowhere)", permission: .manageWebhooks),
                Case(plane: .data, method: .delete, template: "/v1/webhook-endpoints/{id}", path: "/v1/webhook-endpoints/\(nowhere)", permission: .manageWebhooks),
                Case(plane: .data, method: .post, template: "/v1/webhook-endpoints/{id}/rotate", path: "/v1/webhook-endpoints/\(nowhere)/rotate", permission: .manageWebhooks),
                Case(plane: .data, method: .post, template: "/v1/webhook-endpoints/{id}/enable", path: "/v1/webhook-endpoints/\(nowhere)/enable", permission: .manageWebhooks),
                Case(plane: .data, method: .get, template: "/v1/webhook-endpoints/{id}/deliveries", path: "/v1/webhook-endpoints/\(nowhere)/deliveries", permission: .manageWebhooks),
                Case(plane: .data, method: .post, template: "/v1/webhook-deliveries/{id}/retry", path: "/v1/webhook-deliveries/\(nowhere)/retry", permission: .manageWebhooks),
                Case(plane: .control, method: .get, template: "/v1/tenants/{slug}/config/versions/{version}", path: "/v1/tenants/\(s)/config/versions/1", permission: .readConfig),
                Case(plane: .control, method: .get, template: "/v1/tenants/{slug}/config/diff", path: "/v1/tenants/\(s)/config/diff", permission: .readConfig),
                Case(plane: .control, method: .post, template: "/v1/tenants/{slug}/config/rollback", path: "/v1/tenants/\(s)/config/rollback", body: [:], permission: .writeConfig),
                Case(plane: .control, method: .get, template: "/v1/tenants/{slug}/domains", path: "/v1/tenants/\(s)/domains", permission: .readConfig),
                Case(plane: .control, method: .post, template: "/v1/tenants/{slug}/domains", path: "/v1/tenants/\(s)/domains", body: [:], permission: .writeConfig),
                Case(plane: .control, method: .delete, template: "/v1/tenants/{slug}/domains/{hostname}", path: "/v1/tenants/\(s)/domains/none.example", permission: .writeConfig),
                Case(plane: .control, method: .get, template: "/v1/audit", path: "/v1/audit", permission: .readAudit),
                Case(plane: .control, method: .get, template: "/v1/fleet/migrations", path: "/v1/fleet/migrations", permission: .manageTenants),
                Case(plane: .control, method: .get, template: "/v1/fleet/warm-pool", path: "/v1/fleet/warm-pool", permission: .manageTenants),
                Case(plane: .control, method: .get, template: "/v1/signing-keys", path: "/v1/signing-keys", permission: .manageTenants),
                Case(plane: .control, method: .get, template: "/v1/doctor", path: "/v1/doctor", permission: .manageTenants),
            ]

            // Every secured route the planes document is in the table, so a new route cannot skip it, and
            // the permission each route declares (the one its gate checks) is the one this table expects.
            for (plane, client) in [(Plane.control, planes.cp), (.data, planes.dp)] {
                let document = try await Planes.send(client, .get, "/openapi.json")
                let paths = document.json["paths"] as? [String: [String: Any]] ?? [:]
                for (path, operations) in paths {
                    for (method, raw) in operations {
                        let operation = raw as? [String: Any] ?? [:]
                        guard (operation["security"] as? [Any])?.isEmpty != true else {
                            #expect(operation["x-permission"] == nil, "\(method.uppercased()) \(path) is open yet names a permission")
                            continue
                        }
                        let found = cases.first { $0.plane == plane && $0.template == path && $0.method.rawValue == method.uppercased() }
                        #expect(found != nil, "\(plane) \(method.uppercased()) \(path) is missing from the matrix test")
                        if let found {
                            #expect(operation["x-permission"] as? String == found.permission.rawValue, "\(method.uppercased()) \(path) declares \(operation["x-permission"] ?? "nothing")")
                            #expect(operation["x-members"] as? Bool == found.members, "\(method.uppercased()) \(path): members \(operation["x-members"] ?? "undeclared")")
                        }
                    }
                }
            }

            var counter = 0
            for route in cases {
                for role in [Role.platformAdmin, .tenantAdmin, .teller, .complianceOfficer, .auditor, .member] {
                    counter += 1
                    var body = route.body
                    if body?["email"] as? String == "" { body?["email"] = "new\(counter)@\(s).test" }
                    var headers: HTTPFields = route.idempotent ? [.idempotencyKey: "matrix-\(counter)"] : [:]
                    if body != nil { headers[.contentType] = "application/json" }
                    let reply = route.plane == .control
                        ? try await Planes.send(planes.cp, route.method, route.path, token: tokens[role], json: body, headers: headers)
                        : try await Planes.send(planes.dp, route.method, route.path, token: tokens[role], tenant: s, json: body, headers: headers)
                    let allowed = role == .member ? route.members : role.may(route.permission)
                    let label = "\(role.rawValue) \(route.method.rawValue) \(route.template) → \(reply.status.code) \(reply.problemCode ?? "")"
                    #expect(reply.status != .internalServerError, "\(label): \(reply.text)")
                    if allowed {
                        #expect(![HTTPResponse.Status.unauthorized, .forbidden].contains(reply.status), "\(label) should be allowed")
                    } else {
                        // A token for the other plane is not a token here (401); a valid one without the right is a 403.
                        let wrongPlane = (route.plane == .control && role == .member) || (route.plane == .data && role == .platformAdmin)
                        #expect(reply.status == (wrongPlane ? .unauthorized : .forbidden), "\(label) should be refused")
                    }
                }
            }
        }
    }
}
