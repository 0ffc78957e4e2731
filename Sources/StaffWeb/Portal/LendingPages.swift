import Foundation
import HTTPTypes
import Hummingbird
import NzilaCore
import NzilaDatabase

/// Loans: applications and loans with their score and reasons, filtered by state or delinquency
/// bucket; a loan's terms, decision and standing; decide a referred application; disburse an approved
/// loan (idempotent, as the API). Tontines: circles, and a circle's members, standings and cycles.
extension StaffSite {
    static let loanStates = ["submitted", "referred", "approved", "declined", "disbursed", "closed", "written_off"]
    static let loanBuckets = ["1-30", "31-60", "61-90", "91+"]

    func mountLending(on router: Router<PlaneRequestContext>) {
        router.get("/portal/loans") { request, context in
            try await withSession(request, context) { page in try await loanList(page) }
        }
        router.get("/portal/loans/:id") { request, context in
            try await withSession(request, context) { page in try await loanDetail(page, id: try Self.uuid(context.parameters.get("id")), failure: nil) }
        }
        router.post("/portal/loans/:id/decision") { request, context in
            try await withSession(request, context, post: true) { page in
                let id = try Self.uuid(context.parameters.get("id"))
                let form = page.form ?? FormFields([:])
                let answer = try await page.call(.post, "/v1/loans/\(id)/decision", json: ["decision": form.text("decision") ?? "", "reason": form.text("reason") ?? ""])
                guard answer.succeeded else { return try await loanDetail(page, id: id, failure: answer.failure, status: HTTPResponse.Status(code: answer.status.code)) }
                return webRedirect("/portal/loans/\(id)?done=loan_\(form.text("decision") ?? "decided")")
            }
        }
        router.post("/portal/loans/:id/disburse") { request, context in
            try await withSession(request, context, post: true) { page in
                let id = try Self.uuid(context.parameters.get("id"))
                guard let key = page.form?.text("idempotency_key"), key.count <= 255 else { throw Problem.validation(field: "idempotency_key", "is required") }
                let answer = try await page.call(.post, "/v1/loans/\(id)/disburse", json: [:], headers: [.idempotencyKey: key])
                guard answer.succeeded else { return try await loanDetail(page, id: id, failure: answer.failure, status: HTTPResponse.Status(code: answer.status.code)) }
                return webRedirect("/portal/loans/\(id)?done=loan_disbursed")
            }
        }
        router.get("/portal/tontines") { request, context in
            try await withSession(request, context) { page in try await tontineList(page) }
        }
        router.get("/portal/tontine-cycles") { request, context in
            try await withSession(request, context) { page in try await cyclesDue(page) }
        }
        router.get("/portal/tontines/:id") { request, context in
            try await withSession(request, context) { page in try await tontineDetail(page, id: try Self.uuid(context.parameters.get("id"))) }
        }
    }

    func loanList(_ page: Page) async throws -> Response {
        try page.require(.get, "/v1/loans")
        let query = page.request.uri.queryParameters
        let state = query["state"].map(String.init).flatMap { Self.loanStates.contains($0) ? $0 : nil }
        let bucket = query["bucket"].map(String.init).flatMap { Self.loanBuckets.contains($0) ? $0 : nil }
        var filters = ""
        if let state { filters += "&state=\(state)" }
        if let bucket { filters += "&bucket=\(Self.queryEscape(bucket))" }
        var path = "/v1/loans?limit=25" + filters
        if let cursor = query["cursor"] { path += "&cursor=\(Self.queryEscape(String(cursor)))" }
        let answer = try await page.get(path)
        let rows: [[String: Any]] = answer.items.map { loan in
            [
                "id": loan.string("id"), "member": loan.string("member_id"), "principal": loan.money("principal", locale: page.locale),
                "term": page.text("loans.term_value", ["term": loan.string("term"), "frequency": page.text("frequency.\(loan.string("frequency"))")]),
                "state": page.text("loan.state.\(loan.string("state"))"), "score": loan.string("score"),
                "outstanding": loan.money("principal_outstanding", locale: page.locale), "bucket": loan.string("bucket"),
                "created": WebFormat.time(loan.string("created_at")),
            ]
        }
        let next = answer.nextCursor.map { "/portal/loans?cursor=\(Self.queryEscape($0))\(filters)" } ?? ""
        return page.render("loans", title: page.text("loans.title"), [
            "loans": rows, "hasLoans": !rows.isEmpty, "next": next, "hasNext": !next.isEmpty,
            "states": Self.loanStates.map { ["value": $0, "label": page.text("loan.state.\($0)"), "selected": $0 == state] },
            "buckets": Self.loanBuckets.map { ["value": $0, "selected": $0 == bucket] },
        ])
    }

    func loanDetail(_ page: Page, id: String, failure: WebFailure?, status: HTTPResponse.Status = .ok) async throws -> Response {
        try page.require(.get, "/v1/loans/{id}")
        let loan = try await page.get("/v1/loans/\(id)").object ?? [:]
        let decision = loan.object("decision")
        let lines: [[String: Any]] = decision.objects("lines").map { line in
            ["factor": page.text("loan.factor.\(line.string("factor"))"), "attribute": line.string("attribute"), "points": line.string("points")]
        }
        let reasons: [[String: Any]] = decision.objects("reasons").map { line in
            ["text": "\(page.text("loan.factor.\(line.string("factor"))")): \(line.string("attribute"))"]
        }
        let staff = decision.object("staff")
        let state = loan.string("state")
        let rateBps = loan.int64("annual_rate_bps")
        let done = page.request.uri.queryParameters["done"].map(String.init)
        return page.render("loan", title: page.text("loan.title"), [
            "loan": [
                "id": id, "member": loan.string("member_id"), "principal": loan.money("principal", locale: page.locale),
                "term": page.text("loans.term_value", ["term": loan.string("term"), "frequency": page.text("frequency.\(loan.string("frequency"))")]),
                // The nominal rate from its basis points, exactly (no floating point): 1,250 bps is 12.50 %.
                "rate": "\(rateBps / 100).\(rateBps % 100 < 10 ? "0" : "")\(rateBps % 100) %", "apr": "\(loan.string("apr")) %", "cap": "\(loan.string("rate_cap")) %",
                "fee": loan.money("origination_fee", locale: page.locale), "net": loan.money("disbursed_amount", locale: page.locale),
                "purpose": loan.string("purpose"), "state": page.text("loan.state.\(state)"),
                "outstanding": loan.money("principal_outstanding", locale: page.locale), "bucket": loan.string("bucket"),
                "hasBucket": !loan.string("bucket").isEmpty, "disbursedOn": loan.string("disbursed_on"), "hasDisbursed": !loan.string("disbursed_on").isEmpty, "created": WebFormat.time(loan.string("created_at")),
            ],
            "decision": [
                "decision": page.text("loan.decision.\(decision.string("decision"))"), "score": decision.string("score"),
                "approveAt": decision.string("approve_at"), "declineBelow": decision.string("decline_below"),
                "staffReason": staff.string("reason"), "hasStaff": !staff.isEmpty,
            ],
            "lines": lines, "reasons": reasons, "hasReasons": !reasons.isEmpty,
            "mayDecide": state == "referred" && page.allows(.post, "/v1/loans/{id}/decision"),
            "mayDisburse": state == "approved" && page.allows(.post, "/v1/loans/{id}/disburse"),
            "idempotencyKey": UUID().uuidString.lowercased(),
            "hasDone": done != nil, "done": done.map { page.text("done.\($0)") } ?? "",
            "failure": Self.failureContext(failure), "hasFailure": failure != nil,
        ], status: status)
    }

    func tontineList(_ page: Page) async throws -> Response {
        try page.require(.get, "/v1/tontines")
        var path = "/v1/tontines?limit=25"
        if let cursor = page.request.uri.queryParameters["cursor"] { path += "&cursor=\(Self.queryEscape(String(cursor)))" }
        let answer = try await page.get(path)
        let rows: [[String: Any]] = answer.items.map { circle in
            [
                "id": circle.string("id"), "name": circle.string("name"), "contribution": circle.money("contribution", locale: page.locale),
                "frequency": page.text("frequency.\(circle.string("frequency"))"), "state": page.text("circle.state.\(circle.string("state"))"),
                "members": "\(circle.string("members")) / \(circle.string("max_members"))", "created": WebFormat.time(circle.string("created_at")),
            ]
        }
        let next = answer.nextCursor.map { "/portal/tontines?cursor=\(Self.queryEscape($0))" } ?? ""
        return page.render("tontines", title: page.text("tontines.title"), [
            "circles": rows, "hasCircles": !rows.isEmpty, "next": next, "hasNext": !next.isEmpty, "mayCycles": page.allows(.get, "/v1/tontine-cycles"),
        ])
    }

    /// Cycles falling due between two days across circles (the API's window: today and 7 days on by
    /// default), with how many contributions are in.
    func cyclesDue(_ page: Page) async throws -> Response {
        try page.require(.get, "/v1/tontine-cycles")
        let query = page.request.uri.queryParameters
        var filters = ""
        for name in ["from", "to"] {
            if let raw = query[Substring(name)], Day(String(raw)) != nil { filters += "&\(name)=\(raw)" }
        }
        var path = "/v1/tontine-cycles?limit=50" + filters
        if let cursor = query["cursor"] { path += "&cursor=\(Self.queryEscape(String(cursor)))" }
        let answer = try await page.get(path)
        let rows: [[String: Any]] = answer.items.map { cycle in
            let members = cycle.int64("members")
            let contributed = cycle.int64("contributed")
            return [
                "circle": cycle.string("tontine_id"), "name": cycle.string("name"), "cycle": cycle.string("cycle"), "due": cycle.string("due_date"),
                "status": page.text("cycle.status.\(cycle.string("status"))"), "recipient": cycle.string("recipient_id"),
                "contribution": cycle.money("contribution", locale: page.locale), "in": "\(contributed) / \(members)", "short": contributed < members,
            ]
        }
        let next = answer.nextCursor.map { "/portal/tontine-cycles?cursor=\(Self.queryEscape($0))\(filters)" } ?? ""
        return page.render("tontine-cycles", title: page.text("cycles.title"), [
            "cycles": rows, "hasCycles": !rows.isEmpty, "next": next, "hasNext": !next.isEmpty,
            "from": query["from"].map(String.init) ?? "", "to": query["to"].map(String.init) ?? "",
        ])
    }

    func tontineDetail(_ page: Page, id: String) async throws -> Response {
        try page.require(.get, "/v1/tontines/{id}")
        let circle = try await page.get("/v1/tontines/\(id)").object ?? [:]
        let members: [[String: Any]] = circle.objects("members").map { member in
            let standing = member.object("standing")
            return [
                "member": member.string("member_id"), "position": member.string("position"),
                "paid": standing.money("paid", locale: page.locale), "owed": standing.money("owed", locale: page.locale),
                "arrears": standing.money("arrears", locale: page.locale), "received": standing["received"] as? Bool == true,
                "delinquent": standing["delinquent"] as? Bool == true,
            ]
        }
        let cycles: [[String: Any]] = circle.objects("cycles").map { cycle in
            [
                "cycle": cycle.string("cycle"), "due": cycle.string("due_date"), "recipient": cycle.string("recipient_id"),
                "status": page.text("cycle.status.\(cycle.string("status"))"), "payout": cycle.money("payout", locale: page.locale),
                "contributed": (cycle["contributed"] as? [Any])?.count ?? 0, "missing": (cycle["missing"] as? [Any])?.count ?? 0,
                "paidAt": WebFormat.time(cycle.string("paid_at")),
            ]
        }
        return page.render("tontine", title: circle.string("name"), [
            "circle": [
                "name": circle.string("name"), "contribution": circle.money("contribution", locale: page.locale),
                "frequency": page.text("frequency.\(circle.string("frequency"))"), "state": page.text("circle.state.\(circle.string("state"))"),
                "pool": circle.money("pool_balance", locale: page.locale), "firstDue": circle.string("first_due_date"),
                "grace": circle.string("grace_days"), "order": circle.string("order"),
            ],
            "members": members, "cycles": cycles, "hasCycles": !cycles.isEmpty,
        ])
    }
}
