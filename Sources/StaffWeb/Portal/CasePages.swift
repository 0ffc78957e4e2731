import Foundation
import HTTPTypes
import Hummingbird
import NzilaCore
import NzilaDatabase

/// Compliance: the case queue (oldest first), a case with its screening's candidates or the AML
/// reasons, assign, comment, decide; draft an STR from a confirmed case (OversightPages).
extension StaffSite {
    func mountCompliance(on router: Router<PlaneRequestContext>) {
        router.get("/portal/compliance/cases") { request, context in
            try await withSession(request, context) { page in try await caseQueue(page) }
        }
        router.get("/portal/compliance/cases/:id") { request, context in
            try await withSession(request, context) { page in try await caseDetail(page, id: try Self.uuid(context.parameters.get("id")), failure: nil) }
        }
        for action in ["assign", "comments", "decision"] {
            router.post("/portal/compliance/cases/:id/\(action)") { request, context in
                try await withSession(request, context, post: true) { page in
                    try await caseAction(page, id: try Self.uuid(context.parameters.get("id")), action: action)
                }
            }
        }
    }

    static let caseStatuses = ["open,escalated", "open", "escalated", "released", "rejected"]

    func caseQueue(_ page: Page) async throws -> Response {
        try page.require(.get, "/v1/compliance/cases")
        let query = page.request.uri.queryParameters
        let status = query["status"].map(String.init).flatMap { Self.caseStatuses.contains($0) ? $0 : nil } ?? "open,escalated"
        var path = "/v1/compliance/cases?limit=25&status=\(status)"
        if let cursor = query["cursor"] { path += "&cursor=\(Self.queryEscape(String(cursor)))" }
        let answer = try await page.get(path)
        let rows: [[String: Any]] = answer.items.map { item in
            [
                "id": item.string("id"), "kind": page.text("case.kind.\(item.string("kind"))"), "summary": item.string("summary"),
                "status": page.text("case.status.\(item.string("status"))"), "opened": WebFormat.time(item.string("opened_at")),
                "assigned": !item.string("assigned_to").isEmpty,
            ]
        }
        let next = answer.nextCursor.map { "/portal/compliance/cases?status=\(status)&cursor=\(Self.queryEscape($0))" } ?? ""
        return page.render("cases", title: page.text("cases.title"), [
            "cases": rows, "hasCases": !rows.isEmpty, "mayReadReports": page.allows(.get, "/v1/compliance/reports"), "next": next, "hasNext": !next.isEmpty,
            "filters": Self.caseStatuses.map { ["value": $0, "label": page.text("case.filter.\($0)"), "selected": $0 == status] },
        ])
    }

    func caseDetail(_ page: Page, id: String, failure: WebFailure?, status: HTTPResponse.Status = .ok) async throws -> Response {
        try page.require(.get, "/v1/compliance/cases/{id}")
        let record = try await page.get("/v1/compliance/cases/\(id)").object ?? [:]
        var candidates: [[String: Any]] = []
        var subject = ""
        let screeningID = record.string("screening_id")
        if !screeningID.isEmpty, page.allows(.get, "/v1/compliance/screenings/{id}") {
            let screening = try await page.get("/v1/compliance/screenings/\(screeningID)").object ?? [:]
            subject = screening.object("subject").string("name")
            candidates = screening.object("result").objects("candidates").map { candidate in
                [
                    "name": candidate.string("matched_name"), "source": candidate.string("source"), "kind": candidate.string("kind"),
                    "score": candidate.string("score"), "programmes": (candidate["programmes"] as? [String] ?? []).joined(separator: ", "),
                    "reasons": (candidate["reasons"] as? [String] ?? []).map { ["text": $0] },
                ]
            }
        }
        let events: [[String: Any]] = record.objects("events").map { event in
            [
                "action": page.text("case.event.\(event.string("action"))"), "role": event.string("actor_role").isEmpty ? "" : page.text("role.\(event.string("actor_role"))"),
                "note": event.string("note"), "at": WebFormat.time(event.string("at")),
            ]
        }
        let decided = ["released", "rejected"].contains(record.string("status"))
        let mayManage = page.allows(.post, "/v1/compliance/cases/{id}/decision") && !decided
        let remittance = record.string("remittance_id")
        let member = record.string("member_id")
        return page.render("case", title: page.text("case.title"), [
            "case": [
                "id": id, "kind": page.text("case.kind.\(record.string("kind"))"), "summary": record.string("summary"),
                "status": page.text("case.status.\(record.string("status"))"), "opened": WebFormat.time(record.string("opened_at")),
                "assigned": record.string("assigned_to") == page.principal.id.uuidString.lowercased() ? page.text("case.assigned_you")
                    : record.string("assigned_to").isEmpty ? page.text("case.unassigned") : page.text("case.assigned_other"),
                "remittance": remittance, "hasRemittance": !remittance.isEmpty, "member": member, "hasMember": !member.isEmpty,
            ],
            "subject": subject, "candidates": candidates, "hasCandidates": !candidates.isEmpty, "events": events,
            "mayManage": mayManage,
            "mayDraftReport": record.string("status") == "rejected" && page.allows(.post, "/v1/compliance/cases/{id}/str"),
            "mayReadReports": page.allows(.get, "/v1/compliance/reports"), "idempotencyKey": UUID().uuidString.lowercased(),
            "done": page.request.uri.queryParameters["done"].map { page.text("done.\($0)") } ?? "",
            "hasDone": page.request.uri.queryParameters["done"] != nil,
            "failure": Self.failureContext(failure), "hasFailure": failure != nil,
        ], status: status)
    }

    func caseAction(_ page: Page, id: String, action: String) async throws -> Response {
        let form = page.form ?? FormFields([:])
        let body: [String: Any]
        switch action {
        case "assign": body = [:]
        case "comments": body = ["comment": form.text("comment") ?? ""]
        default: body = ["decision": form.text("decision") ?? "", "reason": form.text("reason") ?? ""]
        }
        let answer = try await page.call(.post, "/v1/compliance/cases/\(id)/\(action)", json: body)
        guard answer.succeeded else { return try await caseDetail(page, id: id, failure: answer.failure, status: HTTPResponse.Status(code: answer.status.code)) }
        let done = action == "decision" ? "case_\(form.text("decision") ?? "decided")" : "case_\(action)"
        return webRedirect("/portal/compliance/cases/\(id)?done=\(Self.queryEscape(done))")
    }
}

/// Remittances: the list with filters, one order with its status timeline, cancel where allowed.
extension StaffSite {
    func mountRemittances(on router: Router<PlaneRequestContext>) {
        router.get("/portal/remittances") { request, context in
            try await withSession(request, context) { page in try await remittanceList(page) }
        }
        router.get("/portal/remittances/:id") { request, context in
            try await withSession(request, context) { page in try await remittanceDetail(page, id: try Self.uuid(context.parameters.get("id")), failure: nil) }
        }
        router.post("/portal/remittances/:id/cancel") { request, context in
            try await withSession(request, context, post: true) { page in
                let id = try Self.uuid(context.parameters.get("id"))
                let form = page.form ?? FormFields([:])
                guard let key = form.text("idempotency_key"), key.count <= 255 else { throw Problem.validation(field: "idempotency_key", "is required") }
                var body: [String: Any] = [:]
                if let reason = form.text("reason") { body["reason"] = reason }
                let answer = try await page.call(.post, "/v1/remittances/\(id)/cancel", json: body, headers: [.idempotencyKey: key])
                guard answer.succeeded else {
                    return try await remittanceDetail(page, id: id, failure: answer.failure, status: HTTPResponse.Status(code: answer.status.code))
                }
                return webRedirect("/portal/remittances/\(id)?done=cancelled")
            }
        }
    }

    func remittanceList(_ page: Page) async throws -> Response {
        try page.require(.get, "/v1/remittances")
        let query = page.request.uri.queryParameters
        var path = "/v1/remittances?limit=25"
        var filters = ""
        if let member = query["member_id"].flatMap({ UUID(uuidString: String($0)) }) {
            path += "&member_id=\(member.uuidString.lowercased())"
            filters += "&member_id=\(member.uuidString.lowercased())"
        }
        if let cursor = query["cursor"] { path += "&cursor=\(Self.queryEscape(String(cursor)))" }
        let answer = try await page.get(path)
        let state = query["state"].map(String.init) ?? ""
        let rows: [[String: Any]] = answer.items.filter { state.isEmpty || $0.string("state") == state }.map { order in
            [
                "id": order.string("id"), "corridor": order.string("corridor"), "send": order.money("send", locale: page.locale),
                "receive": order.money("receive", locale: page.locale), "recipient": order.object("recipient").string("name"),
                "state": page.text("state.\(order.string("state"))"), "created": WebFormat.time(order.string("created_at")),
            ]
        }
        let next = answer.nextCursor.map { "/portal/remittances?cursor=\(Self.queryEscape($0))\(filters)" + (state.isEmpty ? "" : "&state=\(state)") } ?? ""
        return page.render("remittances", title: page.text("remittances.title"), [
            "remittances": rows, "hasRemittances": !rows.isEmpty, "next": next, "hasNext": !next.isEmpty,
        ])
    }

    func remittanceDetail(_ page: Page, id: String, failure: WebFailure?, status: HTTPResponse.Status = .ok) async throws -> Response {
        try page.require(.get, "/v1/remittances/{id}")
        let order = try await page.get("/v1/remittances/\(id)").object ?? [:]
        let timeline: [[String: Any]] = order.objects("status_log").map { entry in
            [
                "state": page.text("state.\(entry.string("to_state"))"), "at": WebFormat.time(entry.string("at")), "reason": entry.string("reason"),
                "role": page.text("role.\(entry.string("actor_role"))"),
            ]
        }
        let cancellable = ["created", "awaiting_funding", "held"].contains(order.string("state"))
        return page.render("remittance", title: page.text("remittance.title"), [
            "order": [
                "id": id, "corridor": order.string("corridor"), "method": order.string("method"), "send": order.money("send", locale: page.locale),
                "fee": order.money("fee", locale: page.locale), "total": order.money("total_debit", locale: page.locale),
                "receive": order.money("receive", locale: page.locale), "rate": order.string("customer_rate"),
                "recipient": order.object("recipient").string("name"), "state": page.text("state.\(order.string("state"))"),
                "member": order.string("member_id"), "reasons": (order["hold_reasons"] as? [String] ?? []).map { ["text": $0] },
            ],
            "timeline": timeline, "mayCancel": cancellable && page.allows(.post, "/v1/remittances/{id}/cancel"),
            "idempotencyKey": UUID().uuidString.lowercased(),
            "hasDone": page.request.uri.queryParameters["done"] != nil, "done": page.text("done.cancelled"),
            "failure": Self.failureContext(failure), "hasFailure": failure != nil,
        ], status: status)
    }
}
