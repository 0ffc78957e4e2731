import Foundation
import HTTPTypes
import Hummingbird
import NzilaCore
import NzilaDatabase

/// The platform console at `/console/` on the control plane: tenants (list, create from a template,
/// suspend, resume, offboard with a reason, domains) and the audit log, over the control plane's API.
extension StaffSite {
    static let consoleNavigation: [NavEntry] = [
        NavEntry(key: "console.nav.tenants", path: "/console/", domain: nil, route: (.get, "/v1/tenants")),
        NavEntry(key: "console.nav.audit", path: "/console/audit", domain: nil, route: (.get, "/v1/audit")),
        NavEntry(key: "console.nav.fleet", path: "/console/fleet", domain: nil, route: (.get, "/v1/fleet/migrations")),
        NavEntry(key: "console.nav.keys", path: "/console/keys", domain: nil, route: (.get, "/v1/signing-keys")),
        NavEntry(key: "console.nav.doctor", path: "/console/doctor", domain: nil, route: (.get, "/v1/doctor")),
    ]

    static let lifecycleActions = ["suspend", "resume", "offboard"]

    func mountConsole(on router: Router<PlaneRequestContext>) {
        router.get("/console/") { request, context in
            try await withSession(request, context) { page in try await tenantList(page) }
        }
        router.get("/console/tenants/new") { request, context in
            try await withSession(request, context) { page in try tenantForm(page, values: [:], failure: nil) }
        }
        router.post("/console/tenants") { request, context in
            try await withSession(request, context, post: true) { page in try await createTenant(page) }
        }
        router.get("/console/tenants/:slug") { request, context in
            try await withSession(request, context) { page in try await tenantDetail(page, slug: try Self.slug(context.parameters.get("slug")), failure: nil) }
        }
        for action in Self.lifecycleActions {
            router.post("/console/tenants/:slug/\(action)") { request, context in
                try await withSession(request, context, post: true) { page in
                    let slug = try Self.slug(context.parameters.get("slug"))
                    let reason = page.form?.text("reason") ?? ""
                    let answer = try await page.call(.post, "/v1/tenants/\(slug)/\(action)", json: ["reason": reason])
                    guard answer.succeeded else {
                        return try await tenantDetail(page, slug: slug, failure: answer.failure, status: HTTPResponse.Status(code: answer.status.code))
                    }
                    return webRedirect("/console/tenants/\(slug)?done=tenant_\(action)")
                }
            }
        }
        router.get("/console/audit") { request, context in
            try await withSession(request, context) { page in try await auditLog(page) }
        }
        mountFleet(on: router)
    }

    static func slug(_ raw: String?) throws -> String {
        guard let raw, raw.wholeMatch(of: /[a-z][a-z0-9_]{2,39}/) != nil else { throw WebFailure(status: 404, code: "not-found", detail: "No such tenant.", fields: []) }
        return raw
    }

    func tenantList(_ page: Page) async throws -> Response {
        try page.require(.get, "/v1/tenants")
        let query = page.request.uri.queryParameters
        var path = "/v1/tenants?limit=50"
        if let cursor = query["cursor"] { path += "&cursor=\(Self.queryEscape(String(cursor)))" }
        let answer = try await page.get(path)
        var statuses: [String: Int64] = [:]
        var versions: [Int64: Int64] = [:]
        let rows: [[String: Any]] = answer.items.map { tenant in
            statuses[tenant.string("status"), default: 0] += 1
            versions[tenant.int64("schema_version"), default: 0] += 1
            return [
                "slug": tenant.string("slug"), "name": tenant.string("name"), "status": page.text("tenant.status.\(tenant.string("status"))"),
                "template": tenant.string("template"), "version": tenant.int64("schema_version"), "group": tenant.int64("pool_group"),
                "created": WebFormat.time(tenant.string("created_at")),
            ]
        }
        let statusBars = statuses.sorted { $0.key < $1.key }.map { SVGChart.Bar(label: page.text("tenant.status.\($0.key)"), value: $0.value) }
        let versionBars = versions.sorted { $0.key > $1.key }.map { SVGChart.Bar(label: page.text("console.version", ["version": String($0.key)]), value: $0.value) }
        let next = answer.nextCursor.map { "/console/?cursor=\(Self.queryEscape($0))" } ?? ""
        return page.render("console-tenants", title: page.text("console.tenants.title"), [
            "tenants": rows, "hasTenants": !rows.isEmpty, "next": next, "hasNext": !next.isEmpty,
            "mayCreate": page.allows(.post, "/v1/tenants"),
            "statusChart": SVGChart.bars(statusBars, title: page.text("console.by_status")),
            "versionChart": SVGChart.bars(versionBars, title: page.text("console.by_version")),
            "partial": answer.nextCursor != nil,
        ])
    }

    func tenantForm(_ page: Page, values: [String: String], failure: WebFailure?, status: HTTPResponse.Status = .ok) throws -> Response {
        try page.require(.post, "/v1/tenants")
        let chosen = values["template"] ?? "default"
        return page.render("console-tenant-new", title: page.text("console.create.title"), [
            "slug": values["slug"] ?? "", "name": values["name"] ?? "",
            "templates": host.templates().map { ["name": $0, "selected": $0 == chosen] },
            // One key per rendered form: a double-submitted form provisions once.
            "idempotencyKey": values["idempotency_key"] ?? UUID().uuidString.lowercased(),
            "failure": Self.failureContext(failure), "hasFailure": failure != nil,
        ], status: status)
    }

    func createTenant(_ page: Page) async throws -> Response {
        let form = page.form ?? FormFields([:])
        guard let key = form.text("idempotency_key"), key.count <= 255 else { throw Problem.validation(field: "idempotency_key", "is required") }
        let slug = form.text("slug")?.lowercased() ?? ""
        let answer = try await page.call(
            .post, "/v1/tenants", json: ["slug": slug, "name": form.text("name") ?? "", "template": form.text("template") ?? "default"],
            headers: [.idempotencyKey: key])
        guard answer.succeeded else { return try tenantForm(page, values: form.values, failure: answer.failure, status: HTTPResponse.Status(code: answer.status.code)) }
        return webRedirect("/console/tenants/\(slug)?done=tenant_created")
    }

    func tenantDetail(_ page: Page, slug: String, failure: WebFailure?, status: HTTPResponse.Status = .ok) async throws -> Response {
        try page.require(.get, "/v1/tenants/{slug}")
        let tenant = try await page.get("/v1/tenants/\(slug)").object ?? [:]
        var domains: [[String: Any]] = []
        if page.allows(.get, "/v1/tenants/{slug}/domains") {
            domains = try await page.get("/v1/tenants/\(slug)/domains").items.map { ["hostname": $0.string("hostname")] }
        }
        let current = tenant.string("status")
        let actions: [[String: Any]] = Self.lifecycleActions.filter { action in
            switch action {
            case "suspend": current == "active"
            case "resume": current == "suspended"
            default: current != "offboarded"
            }
        }.filter { page.allows(.post, "/v1/tenants/{slug}/\($0)") }.map { action in
            ["action": action, "label": page.text("console.action.\(action)"), "danger": action != "resume"]
        }
        let done = page.request.uri.queryParameters["done"].map(String.init)
        return page.render("console-tenant", title: tenant.string("name"), [
            "tenant": [
                "slug": slug, "name": tenant.string("name"), "status": page.text("tenant.status.\(current)"), "template": tenant.string("template"),
                "version": tenant.int64("schema_version"), "group": tenant.int64("pool_group"), "created": WebFormat.time(tenant.string("created_at")),
            ],
            "domains": domains, "hasDomains": !domains.isEmpty, "actions": actions, "hasActions": !actions.isEmpty,
            "done": done.map { page.text("done.\($0)") } ?? "", "hasDone": done != nil,
            "failure": Self.failureContext(failure), "hasFailure": failure != nil,
        ], status: status)
    }
}
