import Foundation
import HTTPTypes
import Hummingbird
import NzilaCore
import NzilaDatabase

/// Members: search, detail (accounts, recent entries, KYC, limits), enrol, open an account, cash.
extension StaffSite {
    func mountMembers(on router: Router<PlaneRequestContext>) {
        router.get("/portal/members") { request, context in
            try await withSession(request, context) { page in try await memberList(page) }
        }
        router.get("/portal/members/new") { request, context in
            try await withSession(request, context) { page in try enrolForm(page, values: [:], failure: nil) }
        }
        router.post("/portal/members") { request, context in
            try await withSession(request, context, post: true) { page in try await enrol(page) }
        }
        router.get("/portal/members/:id") { request, context in
            try await withSession(request, context) { page in
                try await memberDetail(page, id: try Self.uuid(context.parameters.get("id")), failure: nil)
            }
        }
        router.post("/portal/members/:id/accounts") { request, context in
            try await withSession(request, context, post: true) { page in try await openAccount(page, member: try Self.uuid(context.parameters.get("id"))) }
        }
        // An identity number shown in full: the API's audited reveal, answered in this response only
        // (never in a URL, never cached).
        router.post("/portal/members/:id/kyc/:document/reveal") { request, context in
            try await withSession(request, context, post: true) { page in
                let member = try Self.uuid(context.parameters.get("id"))
                let document = try Self.uuid(context.parameters.get("document"))
                let answer = try await page.call(.post, "/v1/members/\(member)/kyc/documents/\(document)/reveal")
                guard answer.succeeded, let number = answer.object?["number"] as? String else {
                    return try await memberDetail(page, id: member, failure: answer.failure, status: HTTPResponse.Status(code: answer.status.code))
                }
                return try await memberDetail(page, id: member, failure: nil, revealed: (document, number))
            }
        }
        router.post("/portal/members/:id/cash") { request, context in
            try await withSession(request, context, post: true) { page in try await cash(page, member: try Self.uuid(context.parameters.get("id"))) }
        }
    }

    static func uuid(_ raw: String?) throws -> String {
        guard let raw, let id = UUID(uuidString: raw) else { throw WebFailure(status: 404, code: "not-found", detail: "No such page.", fields: []) }
        return id.uuidString.lowercased()
    }

    func memberList(_ page: Page) async throws -> Response {
        try page.require(.get, "/v1/members")
        let query = page.request.uri.queryParameters
        let search = query["q"].map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
        var path = "/v1/members?limit=25"
        if !search.isEmpty { path += "&q=\(Self.queryEscape(String(search.prefix(100))))" }
        if let cursor = query["cursor"] { path += "&cursor=\(Self.queryEscape(String(cursor)))" }
        let answer = try await page.get(path)
        let rows: [[String: Any]] = answer.items.map { member in
            [
                "id": member.string("id"), "name": member.string("full_name"), "email": member.string("email"),
                "tier": member.int64("kyc_tier"), "status": page.text("status.\(member.string("status"))"),
                "since": WebFormat.time(member.string("created_at")),
            ]
        }
        var next = ""
        if let cursor = answer.nextCursor {
            next = "/portal/members?cursor=\(Self.queryEscape(cursor))" + (search.isEmpty ? "" : "&q=\(Self.queryEscape(search))")
        }
        return page.render("members", title: page.text("members.title"), [
            "members": rows, "hasMembers": !rows.isEmpty, "search": search, "next": next, "hasNext": !next.isEmpty,
            "mayEnrol": page.allows(.post, "/v1/members"),
        ])
    }

    func enrolForm(_ page: Page, values: [String: String], failure: WebFailure?, status: HTTPResponse.Status = .ok) throws -> Response {
        try page.require(.post, "/v1/members")
        return page.render("member-new", title: page.text("enrol.title"), [
            "email": values["email"] ?? "", "fullName": values["full_name"] ?? "", "phone": values["phone"] ?? "",
            "failure": Self.failureContext(failure), "hasFailure": failure != nil,
        ], status: status)
    }

    func enrol(_ page: Page) async throws -> Response {
        let form = page.form ?? FormFields([:])
        var body: [String: Any] = ["email": form.text("email") ?? "", "full_name": form.text("full_name") ?? "", "password": form["password"] ?? ""]
        if let phone = form.text("phone") { body["phone"] = phone }
        let answer = try await page.call(.post, "/v1/members", json: body)
        guard answer.succeeded, let id = answer.object?.string("id") else {
            return try enrolForm(page, values: form.values, failure: answer.failure, status: HTTPResponse.Status(code: answer.status.code))
        }
        return webRedirect("/portal/members/\(id)?done=enrolled")
    }

    func memberDetail(
        _ page: Page, id: String, failure: WebFailure?, status: HTTPResponse.Status = .ok, revealed: (document: String, number: String)? = nil
    ) async throws -> Response {
        try page.require(.get, "/v1/members/{id}")
        let member = try await page.get("/v1/members/\(id)").object ?? [:]
        let locale = page.locale
        var accounts: [[String: Any]] = []
        if page.allows(.get, "/v1/accounts") {
            let mayReadEntries = page.allows(.get, "/v1/accounts/{id}/entries")
            for account in try await page.get("/v1/accounts?member_id=\(id)&limit=50").items {
                let accountID = account.string("id")
                var entries: [[String: Any]] = []
                if mayReadEntries {
                    entries = try await page.get("/v1/accounts/\(accountID)/entries?limit=5").items.map { entry in
                        let amount = entry.object("amount")
                        return [
                            "at": WebFormat.time(entry.string("created_at")),
                            "amount": WebFormat.money(amount.int64("amount"), amount.string("currency"), locale: locale),
                            "credit": amount.int64("amount") > 0,
                        ]
                    }
                }
                accounts.append([
                    "id": accountID, "kind": page.text("account.\(account.string("kind"))"), "currency": account.string("currency"),
                    "status": page.text("status.\(account.string("status"))"), "ledger": account.money("ledger_balance", locale: locale),
                    "available": account.money("available_balance", locale: locale), "entries": entries, "hasEntries": !entries.isEmpty,
                    "active": account.string("status") == "open",
                ])
            }
        }
        var kyc: [String: Any] = ["shown": false]
        if page.tenant.enabledDomains.contains("compliance"), page.allows(.get, "/v1/members/{id}/kyc") {
            let profile = try await page.get("/v1/members/\(id)/kyc").object ?? [:]
            let mayReveal = page.allows(.post, "/v1/members/{id}/kyc/documents/{document}/reveal")
            let documents: [[String: Any]] = profile.objects("documents").map { document in
                let documentID = document.string("id")
                let shown = revealed?.document == documentID ? revealed?.number : nil
                return [
                    "id": documentID, "mayReveal": mayReveal && shown == nil && !documentID.isEmpty,
                    "revealed": shown ?? "", "isRevealed": shown != nil,
                    "kind": page.text("document.\(document.string("kind"))"), "number": document.string("number_masked"),
                    "country": document.string("issuing_country"), "verifiedAt": WebFormat.time(document.string("verified_at")),
                ]
            }
            kyc = ["shown": true, "tier": profile.int64("tier"), "documents": documents, "hasDocuments": !documents.isEmpty]
        }
        var limits: [String: Any] = ["shown": false]
        if page.tenant.enabledDomains.contains("remittance"), page.allows(.get, "/v1/members/{id}/limits") {
            let view = try await page.get("/v1/members/\(id)/limits").object ?? [:]
            let windows = [("thirty_days", "limits.thirty_days"), ("twenty_four_hours", "limits.twenty_four_hours")].map { key, label -> [String: Any] in
                let window = view.object(key)
                let currency = view.string("currency")
                let shown: (String) -> String = { field in
                    window[field] is NSNull || window[field] == nil ? page.text("limits.none") : WebFormat.money(window.int64(field), currency, locale: locale)
                }
                return ["label": page.text(label), "used": shown("used_minor"), "remaining": shown("remaining_minor"), "limit": shown("limit_minor")]
            }
            limits = ["shown": true, "windows": windows]
        }
        // The member's record elsewhere: screenings, loans, tontine circles (each as its route allows).
        var screenings: [String: Any] = ["shown": false]
        if page.tenant.enabledDomains.contains("compliance"), page.allows(.get, "/v1/compliance/screenings") {
            let rows: [[String: Any]] = try await page.get("/v1/compliance/screenings?limit=10&member_id=\(id)").items.map { screening in
                let result = screening.object("result")
                let decision = result.string("decision")
                return [
                    "at": WebFormat.time(screening.string("created_at")), "purpose": screening.string("purpose"),
                    "name": screening.object("subject").string("name"), "decision": page.text("screening.decision.\(decision)"),
                    "flagged": decision != "clear", "score": result.string("score"), "candidates": result.objects("candidates").count,
                ]
            }
            screenings = ["shown": true, "rows": rows, "hasRows": !rows.isEmpty]
        }
        var loans: [String: Any] = ["shown": false]
        if page.tenant.enabledDomains.contains("lending"), page.allows(.get, "/v1/loans") {
            let rows: [[String: Any]] = try await page.get("/v1/loans?limit=10&member_id=\(id)").items.map { loan in
                [
                    "id": loan.string("id"), "principal": loan.money("principal", locale: locale), "state": page.text("loan.state.\(loan.string("state"))"),
                    "outstanding": loan.money("principal_outstanding", locale: locale), "bucket": loan.string("bucket"),
                    "created": WebFormat.time(loan.string("created_at")),
                ]
            }
            loans = ["shown": true, "rows": rows, "hasRows": !rows.isEmpty]
        }
        var tontines: [String: Any] = ["shown": false]
        if page.tenant.enabledDomains.contains("tontine"), page.allows(.get, "/v1/members/{id}/tontine-record") {
            let record = try await page.get("/v1/members/\(id)/tontine-record").object ?? [:]
            let onTime = record["on_time_bps"] as? NSNumber
            tontines = [
                "shown": true, "circles": record.string("circles"), "completed": record.string("completed_circles"),
                "delinquent": record.string("delinquent_circles"), "due": record.string("cycles_due"), "onTimeCount": record.string("paid_on_time"),
                "late": record.string("paid_late"), "missed": record.string("missed"),
                // Basis points shown as a percentage with one decimal, by integer arithmetic (rounded half up).
                "onTime": onTime.map { bps in "\((bps.intValue + 5) / 100).\(((bps.intValue + 5) % 100) / 10) %" } ?? page.text("tontine.record.none"),
            ]
        }
        let done = page.request.uri.queryParameters["done"].map(String.init)
        let activeAccounts = accounts.filter { $0["active"] as? Bool == true }
        return page.render("member", title: member.string("full_name"), [
            "member": [
                "id": id, "name": member.string("full_name"), "email": member.string("email"), "phone": member.string("phone"),
                "tier": member.int64("kyc_tier"), "status": page.text("status.\(member.string("status"))"),
                "since": WebFormat.time(member.string("created_at")),
            ],
            "accounts": accounts, "hasAccounts": !accounts.isEmpty, "kyc": kyc, "limits": limits,
            "screenings": screenings, "loans": loans, "tontines": tontines,
            "mayOpen": page.allows(.post, "/v1/accounts"),
            "mayCash": page.allows(.post, "/v1/deposits") && !activeAccounts.isEmpty,
            "cashAccounts": activeAccounts.map { ["value": "\($0["id"] ?? "")|\($0["currency"] ?? "")", "label": "\($0["kind"] ?? "") · \($0["currency"] ?? "") · \($0["available"] ?? "")"] },
            "currencies": ["CAD", "USD", "EUR", "XOF", "XAF", "NGN", "GHS", "KES"].map { ["code": $0] },
            // One key per rendered form: a double-submitted deposit posts once (the API replays it).
            "idempotencyKey": UUID().uuidString.lowercased(),
            "done": done.map { page.text("done.\($0)") } ?? "", "hasDone": done != nil,
            "failure": Self.failureContext(failure), "hasFailure": failure != nil,
        ], status: status)
    }

    func openAccount(_ page: Page, member: String) async throws -> Response {
        let form = page.form ?? FormFields([:])
        let answer = try await page.call(
            .post, "/v1/accounts", json: ["member_id": member, "kind": form.text("kind") ?? "", "currency": form.text("currency") ?? ""])
        guard answer.succeeded else { return try await memberDetail(page, id: member, failure: answer.failure, status: HTTPResponse.Status(code: answer.status.code)) }
        return webRedirect("/portal/members/\(member)?done=account_opened")
    }

    func cash(_ page: Page, member: String) async throws -> Response {
        let form = page.form ?? FormFields([:])
        let direction = form["direction"] == "withdrawal" ? "withdrawal" : "deposit"
        let parts = (form["account"] ?? "").split(separator: "|").map(String.init)
        guard parts.count == 2, let currency = Currency(code: parts[1]) else {
            return try await memberDetail(
                page, id: member, failure: WebFailure(status: 422, code: "validation", detail: page.text("cash.pick_account"), fields: []), status: .unprocessableContent)
        }
        // The amount as typed, to minor units of the account's currency: refused, never rounded.
        guard let minor = WebFormat.minorUnits(form["amount"] ?? "", exponent: currency.exponent) else {
            return try await memberDetail(
                page, id: member,
                failure: WebFailure(status: 422, code: "validation", detail: page.text("cash.bad_amount", ["decimals": String(currency.exponent)]), fields: []),
                status: .unprocessableContent)
        }
        guard let key = form.text("idempotency_key"), key.count <= 255 else { throw Problem.validation(field: "idempotency_key", "is required") }
        var body: [String: Any] = ["account_id": parts[0], "amount": minor, "currency": currency.code]
        if let memo = form.text("memo") { body["memo"] = memo }
        let answer = try await page.call(.post, direction == "deposit" ? "/v1/deposits" : "/v1/withdrawals", json: body, headers: [.idempotencyKey: key])
        guard answer.succeeded else { return try await memberDetail(page, id: member, failure: answer.failure, status: HTTPResponse.Status(code: answer.status.code)) }
        return webRedirect("/portal/members/\(member)?done=\(direction)")
    }

    static func failureContext(_ failure: WebFailure?) -> [String: Any] {
        guard let failure else { return [:] }
        return ["detail": failure.detail, "fields": failure.fields.map { ["field": $0.0, "message": $0.1] }, "hasFields": !failure.fields.isEmpty]
    }
}
