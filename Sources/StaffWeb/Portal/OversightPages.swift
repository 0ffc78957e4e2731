import Foundation
import HTTPTypes
import Hummingbird
import NzilaCore
import NzilaDatabase

/// The audit log (console: every tenant's; portal: the credit union's own, read from the control
/// plane with the staff member's token), webhook endpoints with their deliveries (enable, retry), and
/// FINTRAC report drafts (draft an STR from a confirmed case, list, read).
extension StaffSite {
    func mountOversight(on router: Router<PlaneRequestContext>) {
        router.get("/portal/audit") { request, context in
            try await withSession(request, context) { page in try await auditLog(page) }
        }
        router.get("/portal/webhooks") { request, context in
            try await withSession(request, context) { page in try await webhookList(page) }
        }
        router.get("/portal/webhooks/:id") { request, context in
            try await withSession(request, context) { page in try await webhookDetail(page, id: try Self.uuid(context.parameters.get("id")), failure: nil) }
        }
        router.post("/portal/webhooks/:id/enable") { request, context in
            try await withSession(request, context, post: true) { page in
                let id = try Self.uuid(context.parameters.get("id"))
                let answer = try await page.call(.post, "/v1/webhook-endpoints/\(id)/enable")
                guard answer.succeeded else { return try await webhookDetail(page, id: id, failure: answer.failure, status: HTTPResponse.Status(code: answer.status.code)) }
                return webRedirect("/portal/webhooks/\(id)?done=webhook_enabled")
            }
        }
        router.post("/portal/webhooks/:id/deliveries/:delivery/retry") { request, context in
            try await withSession(request, context, post: true) { page in
                let id = try Self.uuid(context.parameters.get("id"))
                let delivery = try Self.uuid(context.parameters.get("delivery"))
                let answer = try await page.call(.post, "/v1/webhook-deliveries/\(delivery)/retry")
                guard answer.succeeded else { return try await webhookDetail(page, id: id, failure: answer.failure, status: HTTPResponse.Status(code: answer.status.code)) }
                return webRedirect("/portal/webhooks/\(id)?done=webhook_retried")
            }
        }
        router.get("/portal/compliance/reports") { request, context in
            try await withSession(request, context) { page in try await reportList(page) }
        }
        router.get("/portal/compliance/reports/:id") { request, context in
            try await withSession(request, context) { page in try await reportDetail(page, id: try Self.uuid(context.parameters.get("id"))) }
        }
        router.post("/portal/compliance/cases/:id/str") { request, context in
            try await withSession(request, context, post: true) { page in
                let id = try Self.uuid(context.parameters.get("id"))
                let answer = try await page.call(.post, "/v1/compliance/cases/\(id)/str", json: ["grounds": page.form?.text("grounds") ?? ""])
                guard answer.succeeded, let report = answer.object?.string("id") else {
                    return try await caseDetail(page, id: id, failure: answer.failure, status: HTTPResponse.Status(code: answer.status.code))
                }
                return webRedirect("/portal/compliance/reports/\(report)?done=report_drafted")
            }
        }
    }

    // MARK: Audit log

    /// Both sites: the console reads every tenant's entries through its own API; the portal reads its
    /// credit union's from the control plane (the route itself keeps a tenant's staff to their own).
    func auditLog(_ page: Page) async throws -> Response {
        let portalSite = surface == .portal
        if portalSite {
            guard page.may(AuditAccess.read) else { throw WebFailure(status: 403, code: "forbidden", detail: page.text("error.forbidden"), fields: []) }
        } else {
            try page.require(.get, "/v1/audit")
        }
        let query = page.request.uri.queryParameters
        var path = "/v1/audit?limit=50"
        var filters: [String: String] = [:]
        for name in portalSite ? ["action", "actor", "since"] : ["tenant", "action", "actor", "since"] {
            if let raw = query[Substring(name)], case let value = String(raw).trimmingCharacters(in: .whitespaces), !value.isEmpty {
                filters[name] = value
                // A day from the date field is the start of that day, UTC.
                let sent = name == "since" && value.wholeMatch(of: /\d{4}-\d{2}-\d{2}/) != nil ? value + "T00:00:00Z" : value
                path += "&\(name)=\(Self.queryEscape(sent))"
            }
        }
        if portalSite { path += "&tenant=\(page.tenant.slug)" }
        if let cursor = query["cursor"] { path += "&cursor=\(Self.queryEscape(String(cursor)))" }
        let answer = portalSite ? try await page.control(.get, path) : try await page.call(.get, path)
        let failure: WebFailure? = answer.succeeded ? nil : answer.failure
        let rows: [[String: Any]] = answer.items.map { entry in
            [
                "at": WebFormat.time(entry.string("at")), "tenant": entry.string("tenant"), "action": entry.string("action"),
                "target": entry.string("target"), "role": entry.string("actor_role").isEmpty ? "" : page.text("role.\(entry.string("actor_role"))"),
                "actor": entry.string("actor_id"),
            ]
        }
        let kept = filters.map { "&\($0.key)=\(Self.queryEscape($0.value))" }.sorted().joined()
        let next = answer.nextCursor.map { "\(base)/audit?cursor=\(Self.queryEscape($0))\(kept)" } ?? ""
        return page.render("audit", title: page.text("console.audit.title"), [
            "entries": rows, "hasEntries": !rows.isEmpty, "next": next, "hasNext": !next.isEmpty, "showTenant": !portalSite, "action_path": "\(base)/audit",
            "tenantFilter": filters["tenant"] ?? "", "action": filters["action"] ?? "", "actor": filters["actor"] ?? "", "since": filters["since"] ?? "",
            "failure": Self.failureContext(failure), "hasFailure": failure != nil,
        ], status: failure == nil ? .ok : HTTPResponse.Status(code: answer.status.code))
    }

    // MARK: Webhooks

    func webhookList(_ page: Page) async throws -> Response {
        try page.require(.get, "/v1/webhook-endpoints")
        let query = page.request.uri.queryParameters
        var path = "/v1/webhook-endpoints?limit=25"
        if let cursor = query["cursor"] { path += "&cursor=\(Self.queryEscape(String(cursor)))" }
        let answer = try await page.get(path)
        let rows: [[String: Any]] = answer.items.map { endpoint in
            [
                "id": endpoint.string("id"), "url": endpoint.string("url"), "description": endpoint.string("description"),
                "types": (endpoint["event_types"] as? [String] ?? []).joined(separator: ", "),
                "status": page.text("webhook.status.\(endpoint.string("status"))"), "failing": WebFormat.time(endpoint.string("failing_since")),
                "isFailing": !endpoint.string("failing_since").isEmpty,
            ]
        }
        let next = answer.nextCursor.map { "/portal/webhooks?cursor=\(Self.queryEscape($0))" } ?? ""
        return page.render("webhooks", title: page.text("webhooks.title"), [
            "endpoints": rows, "hasEndpoints": !rows.isEmpty, "next": next, "hasNext": !next.isEmpty,
        ])
    }

    func webhookDetail(_ page: Page, id: String, failure: WebFailure?, status: HTTPResponse.Status = .ok) async throws -> Response {
        try page.require(.get, "/v1/webhook-endpoints/{id}")
        let endpoint = try await page.get("/v1/webhook-endpoints/\(id)").object ?? [:]
        let query = page.request.uri.queryParameters
        var path = "/v1/webhook-endpoints/\(id)/deliveries?limit=25"
        if let cursor = query["cursor"] { path += "&cursor=\(Self.queryEscape(String(cursor)))" }
        let answer = try await page.get(path)
        let mayRetry = page.allows(.post, "/v1/webhook-deliveries/{id}/retry")
        let deliveries: [[String: Any]] = answer.items.map { delivery in
            let attempts: [[String: Any]] = delivery.objects("attempt_log").map { attempt in
                [
                    "attempt": attempt.string("attempt"), "at": WebFormat.time(attempt.string("at")), "code": attempt.string("status_code"),
                    "latency": attempt.string("latency_ms"), "error": attempt.string("error"),
                ]
            }
            let state = delivery.string("status")
            return [
                "id": delivery.string("id"), "type": delivery.string("event_type"), "event": delivery.string("event_id"),
                "status": page.text("delivery.status.\(state)"), "attempts": attempts, "count": delivery.string("attempts"),
                "next": WebFormat.time(delivery.string("next_attempt_at")), "created": WebFormat.time(delivery.string("created_at")),
                "mayRetry": mayRetry && state != "succeeded",
            ]
        }
        let state = endpoint.string("status")
        let next = answer.nextCursor.map { "/portal/webhooks/\(id)?cursor=\(Self.queryEscape($0))" } ?? ""
        let done = query["done"].map(String.init)
        return page.render("webhook", title: page.text("webhook.title"), [
            "endpoint": [
                "id": id, "url": endpoint.string("url"), "description": endpoint.string("description"),
                "types": (endpoint["event_types"] as? [String] ?? []).joined(separator: ", "), "status": page.text("webhook.status.\(state)"),
                "reason": endpoint.string("disabled_reason"), "failing": WebFormat.time(endpoint.string("failing_since")),
                "isFailing": !endpoint.string("failing_since").isEmpty, "created": WebFormat.time(endpoint.string("created_at")),
            ],
            "mayEnable": state == "disabled" && page.allows(.post, "/v1/webhook-endpoints/{id}/enable"),
            "deliveries": deliveries, "hasDeliveries": !deliveries.isEmpty, "next": next, "hasNext": !next.isEmpty,
            "done": done.map { page.text("done.\($0)") } ?? "", "hasDone": done != nil,
            "failure": Self.failureContext(failure), "hasFailure": failure != nil,
        ], status: status)
    }

    // MARK: FINTRAC reports

    func reportList(_ page: Page) async throws -> Response {
        try page.require(.get, "/v1/compliance/reports")
        let query = page.request.uri.queryParameters
        var path = "/v1/compliance/reports?limit=25"
        if let cursor = query["cursor"] { path += "&cursor=\(Self.queryEscape(String(cursor)))" }
        let answer = try await page.get(path)
        let rows: [[String: Any]] = answer.items.map { report in
            [
                "id": report.string("id"), "kind": report.string("kind"), "status": page.text("report.status.\(report.string("status"))"),
                "due": WebFormat.time(report.string("due_at")), "created": WebFormat.time(report.string("created_at")),
                "case": report.string("case_id"), "hasCase": !report.string("case_id").isEmpty,
                "subjects": report.object("report").objects("subjects").map { $0.string("full_name") }.joined(separator: ", "),
            ]
        }
        let next = answer.nextCursor.map { "/portal/compliance/reports?cursor=\(Self.queryEscape($0))" } ?? ""
        return page.render("reports", title: page.text("reports.title"), [
            "reports": rows, "hasReports": !rows.isEmpty, "next": next, "hasNext": !next.isEmpty,
        ])
    }

    func reportDetail(_ page: Page, id: String) async throws -> Response {
        try page.require(.get, "/v1/compliance/reports/{id}")
        let record = try await page.get("/v1/compliance/reports/\(id)").object ?? [:]
        let report = record.object("report")
        let suspicion = report.object("details_of_suspicion")
        // The whole draft as the API gives it, for the officer to check before filing.
        let document = (try? JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        let done = page.request.uri.queryParameters["done"].map(String.init)
        return page.render("report", title: page.text("report.title"), [
            "report": [
                "id": id, "kind": record.string("kind"), "name": report.string("report_name"), "status": page.text("report.status.\(record.string("status"))"),
                "due": WebFormat.time(record.string("due_at")), "created": WebFormat.time(record.string("created_at")),
                "case": record.string("case_id"), "hasCase": !record.string("case_id").isEmpty,
                "grounds": suspicion.string("grounds_for_suspicion"), "action": report.string("action_taken"),
                "subjects": report.objects("subjects").map { ["name": $0.string("full_name"), "member": $0.string("member_id")] },
                "transactions": report.objects("transactions").count,
            ],
            "document": document,
            "done": done.map { page.text("done.\($0)") } ?? "", "hasDone": done != nil,
        ])
    }
}
