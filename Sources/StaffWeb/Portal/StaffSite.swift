import Foundation
import HTTPTypes
import Hummingbird
import NzilaCore
import NzilaDatabase

/// A staff site: the credit-union portal at `/portal/` on the data plane, or the platform console at
/// `/console/` on the control plane. Staff pages over the plane's own API; sessions, CSRF, headers,
/// languages and the chrome are the same for both.
public struct StaffSite: Sendable {
    let host: any StaffSiteHost
    let api: InProcessAPI
    let sessions: WebSessionStore
    let renderer: WebRenderer
    /// `Secure` on the cookies (off only for `nzila dev` and tests on plain http).
    let secureCookies: Bool
    let tokens = SessionTokens()
    /// Which site this is, and so its path, cookies and pages.
    let surface: WebSurface

    public init(host: any StaffSiteHost, api: InProcessAPI, sessions: WebSessionStore, secureCookies: Bool, surface: WebSurface = .portal) {
        self.host = host
        self.api = api
        self.sessions = sessions
        self.renderer = .shared
        self.secureCookies = secureCookies
        self.surface = surface
    }

    /// `/portal` or `/console`.
    var base: String { surface.path }
    var loginCookie: String { surface.cookieName + "_login" }

    /// The portal's navigation: each entry is shown only to staff whose role may call the API route
    /// the page is built on, and only when the tenant has the domain on.
    struct NavEntry {
        let key: String
        let path: String
        let domain: String?
        let route: (HTTPRequest.Method, String)?
        /// For a page built on another plane's route: that route's declared access.
        var access: Access? = nil
    }

    var navigation: [NavEntry] { surface == .portal ? Self.portalNavigation : Self.consoleNavigation }

    static let portalNavigation: [NavEntry] = [
        NavEntry(key: "nav.dashboard", path: "/portal/", domain: nil, route: nil),
        NavEntry(key: "nav.members", path: "/portal/members", domain: nil, route: (.get, "/v1/members")),
        NavEntry(key: "nav.remittances", path: "/portal/remittances", domain: "remittance", route: (.get, "/v1/remittances")),
        NavEntry(key: "nav.compliance", path: "/portal/compliance/cases", domain: "compliance", route: (.get, "/v1/compliance/cases")),
        NavEntry(key: "nav.loans", path: "/portal/loans", domain: "lending", route: (.get, "/v1/loans")),
        NavEntry(key: "nav.tontines", path: "/portal/tontines", domain: "tontine", route: (.get, "/v1/tontines")),
        NavEntry(key: "nav.webhooks", path: "/portal/webhooks", domain: nil, route: (.get, "/v1/webhook-endpoints")),
        NavEntry(key: "nav.audit", path: "/portal/audit", domain: nil, route: nil, access: AuditAccess.read),
        NavEntry(key: "nav.settings", path: "/portal/settings", domain: nil, route: nil, access: ConfigAccess.read),
    ]

    public func mount(on router: Router<PlaneRequestContext>) {
        router.get("\(base)/static/:name") { request, context in
            guard let name = context.parameters.get("name"), let response = renderer.asset(name, request: request) else { throw Problem.notFound("File") }
            return response
        }
        router.get("\(base)/brand.css") { request, _ in
            let tenant = try await host.portalTenant(request)
            var fields: HTTPFields = [.contentType: "text/css; charset=utf-8"]
            WebHeaders.apply(to: &fields, cacheable: true)
            return Response(status: .ok, headers: fields, body: .init(byteBuffer: ByteBuffer(string: tenant.stylesheet)))
        }
        router.get("\(base)/login") { request, _ in
            let tenant = try await host.portalTenant(request)
            return loginPage(tenant: tenant, request: request, locale: Self.browserLocale(request), error: nil, status: .ok)
        }
        router.post("\(base)/login") { request, context in try await login(request, context: context) }
        router.post("\(base)/logout") { request, context in
            try await withSession(request, context, post: true) { page in
                try await sessions.end(page.session)
                tokens.forget(page.session)
                return webRedirect("\(base)/login", headers: [.setCookie: WebHeaders.sessionCookie(surface.cookieName, "", path: base, secure: secureCookies, maxAge: 0)])
            }
        }
        router.post("\(base)/language") { request, context in
            try await withSession(request, context, post: true) { page in
                guard let locale = WebLocale.supported(page.form?["locale"]) else { throw Problem.validation(field: "locale", "must be en or fr") }
                try await sessions.setLocale(locale, for: page.session)
                return webRedirect(localPath(page.form?["back"]) ?? "\(base)/")
            }
        }
        switch surface {
        case .portal:
            // `/portal` and `/portal/` are one route to the router.
            router.get("/portal/") { request, context in
                try await withSession(request, context) { page in try await dashboard(page) }
            }
            mountMembers(on: router)
            mountCompliance(on: router)
            mountRemittances(on: router)
            mountSettings(on: router)
            mountLending(on: router)
            mountOversight(on: router)
        case .console:
            mountConsole(on: router)
        }
    }

    /// Only a path of this site is a place to go back to (no open redirect).
    func localPath(_ raw: String?) -> String? { Self.localPath(raw, base: base) }

    static func localPath(_ raw: String?, base: String) -> String? {
        guard let raw, raw.hasPrefix(base + "/"), !raw.contains("//"), !raw.contains("\\") else { return nil }
        return raw
    }

    static func browserLocale(_ request: Request) -> String {
        (request.headers[.acceptLanguage] ?? "").lowercased().hasPrefix("fr") ? "fr" : "en"
    }

    // MARK: Login

    func loginPage(tenant: PortalTenant, request: Request, locale: String, error: String?, status: HTTPResponse.Status, email: String = "") -> Response {
        // Login CSRF: a random value in a SameSite=Strict cookie that the form must echo.
        let nonce = WebHeaders.cookie(loginCookie, in: request).flatMap { $0.count >= 32 ? $0 : nil } ?? OpaqueToken.generate()
        var context = chrome(tenant: tenant, session: nil, locale: locale, title: renderer.text("login.title", locale))
        context["csrf"] = nonce
        context["error"] = error ?? ""
        context["hasError"] = error != nil
        context["email"] = email
        return renderer.page(
            "login", context, status: status,
            headers: [.setCookie: WebHeaders.sessionCookie(loginCookie, nonce, path: base, secure: secureCookies, maxAge: 3_600)])
    }

    func login(_ request: Request, context: PlaneRequestContext) async throws -> Response {
        let tenant = try await host.portalTenant(request)
        let locale = Self.browserLocale(request)
        guard WebHeaders.sameOrigin(request) else { throw Problem.forbidden("The form was not sent from this portal.") }
        let form = try await FormFields.read(request)
        guard let cookie = WebHeaders.cookie(loginCookie, in: request), let sent = form["_csrf"],
            constantTimeEquals(Array(cookie.utf8), Array(sent.utf8))
        else { throw Problem.forbidden("The form has expired; reload the page and sign in again.") }
        try await host.admitLogin(request, context: context, tenant: tenant)
        let email = form.text("email") ?? ""
        let identity: WebIdentity
        do {
            identity = try await host.authenticateStaff(email: email, password: form["password"] ?? "")
        } catch let problem as Problem where problem.status == .tooManyRequests {
            let minutes = max(1, ((Int(problem.headers[.retryAfter] ?? "60") ?? 60) + 59) / 60)
            return loginPage(
                tenant: tenant, request: request, locale: locale, error: renderer.text("login.locked", locale, ["minutes": String(minutes)]),
                status: .tooManyRequests, email: email)
        } catch let problem as Problem where problem.status == .unauthorized {
            return loginPage(tenant: tenant, request: request, locale: locale, error: renderer.text("login.invalid", locale), status: .unauthorized, email: email)
        }
        // Staff of another credit union, or a platform admin, are not staff of this one; only platform
        // admins use the console. The same answer as a wrong password.
        let belongs = surface == .console
            ? identity.role == .platformAdmin
            : identity.tenant == tenant.slug && identity.role.isStaff && identity.role != .platformAdmin
        guard belongs else {
            return loginPage(tenant: tenant, request: request, locale: locale, error: renderer.text("login.invalid", locale), status: .unauthorized, email: email)
        }
        let opened = try await sessions.open(identity, surface: surface, now: host.now())
        var fields = HTTPFields()
        fields.append(HTTPField(name: .setCookie, value: WebHeaders.sessionCookie(surface.cookieName, opened.token, path: base, secure: secureCookies)))
        fields.append(HTTPField(name: .setCookie, value: WebHeaders.sessionCookie(loginCookie, "", path: base, secure: secureCookies, maxAge: 0)))
        return webRedirect(localPath(form["next"]) ?? "\(base)/", headers: fields)
    }

    // MARK: Pages

    /// A signed-in request: the session (else the login page), the CSRF check of a post, and the
    /// page's API calls under the staff member's token.
    struct Page {
        let portal: StaffSite
        let request: Request
        let context: PlaneRequestContext
        let tenant: PortalTenant
        let session: WebSession
        let form: FormFields?
        let token: String

        var locale: String { session.locale }
        var principal: Principal { session.identity.principal }

        func call(_ method: HTTPRequest.Method, _ path: String, json: [String: Any]? = nil, headers: HTTPFields = [:]) async throws -> APIAnswer {
            var fields = headers
            // The portal's tenant, named as the API expects whatever host the page came in on.
            if portal.surface == .portal { fields[.xTenant] = tenant.slug }
            return try await portal.api.call(method, path, json: json, token: token, authority: request.head.authority, context: context, headers: fields)
        }

        func get(_ path: String) async throws -> APIAnswer { try await call(.get, path).required() }

        /// A control-plane route (the tenant's configuration), under the same token.
        func control(_ method: HTTPRequest.Method, _ path: String, json: [String: Any]? = nil, headers: HTTPFields = [:]) async throws -> APIAnswer {
            try await portal.host.controlPlane(method, path, json: json, headers: headers, token: token)
        }

        /// May the staff member use a route declared with `access` (one on another plane)?
        func may(_ access: Access) -> Bool { (try? access.check(principal)) != nil }

        func allows(_ method: HTTPRequest.Method, _ template: String) -> Bool { portal.api.allows(method, template, principal) }

        func text(_ key: String, _ values: [String: String] = [:]) -> String { portal.renderer.text(key, locale, values) }

        func money(_ minor: Int64, _ currency: String) -> String { WebFormat.money(minor, currency, locale: locale) }

        /// Renders a page inside the portal's chrome.
        func render(_ template: String, title: String, _ values: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
            var context = portal.chrome(tenant: tenant, session: session, locale: locale, title: title, path: request.uri.path)
            for (key, value) in values { context[key] = value }
            return portal.renderer.page(template, context, status: status)
        }

        /// The page is built on `method template`: staff whose role may not call it get a 403 page.
        func require(_ method: HTTPRequest.Method, _ template: String) throws {
            guard allows(method, template) else { throw WebFailure(status: 403, code: "forbidden", detail: text("error.forbidden"), fields: []) }
        }
    }

    func withSession(
        _ request: Request, _ context: PlaneRequestContext, post: Bool = false, _ body: (Page) async throws -> Response
    ) async throws -> Response {
        let tenant = try await host.portalTenant(request)
        let now = host.now()
        guard let token = WebHeaders.cookie(surface.cookieName, in: request),
            let session = try await sessions.current(token: token, surface: surface, tenant: surface == .portal ? tenant.slug : nil, now: now)
        else {
            if post { throw Problem.unauthorized("Your session has ended; sign in again.") }
            let next = request.uri.path + (request.uri.query.map { "?\($0)" } ?? "")
            return webRedirect("\(base)/login" + (localPath(next).map { "?next=\(Self.queryEscape($0))" } ?? ""))
        }
        var form: FormFields?
        if post {
            guard WebHeaders.sameOrigin(request) else { throw Problem.forbidden("The form was not sent from this portal.") }
            let fields = try await FormFields.read(request)
            guard let sent = fields["_csrf"], constantTimeEquals(Array(sent.utf8), Array(session.csrf.utf8)) else {
                throw Problem.forbidden("The form's security token is missing or stale; reload the page.")
            }
            form = fields
        }
        let access = try await tokens.token(for: session, now: now) { try await host.accessToken(for: session.identity) }
        let page = Page(portal: self, request: request, context: context, tenant: tenant, session: session, form: form, token: access)
        do {
            return try await body(page)
        } catch let failure as WebFailure {
            let status = HTTPResponse.Status(code: failure.status)
            return page.render("error", title: page.text("error.title"), ["detail": failure.detail, "status": failure.status], status: status)
        }
    }

    /// What every page's layout shows: the brand, the navigation the role may use, the user, the
    /// language switch and the CSRF token for the forms.
    func chrome(tenant: PortalTenant, session: WebSession?, locale: String, title: String, path: String = "") -> [String: Any] {
        var context: [String: Any] = [
            "t": renderer.tree(locale),
            "lang": locale,
            "title": title,
            "brandName": tenant.name,
            "brandLogo": tenant.logoURL ?? "",
            "hasLogo": tenant.logoURL != nil,
            "base": base,
            "brandCSS": "\(base)/brand.css?v=\(WebFormat.shortDigest(Array(tenant.stylesheet.utf8)))",
            "css": "\(base)/static/portal.css?v=\(renderer.assetVersion("portal.css"))",
            "js": "\(base)/static/portal.js?v=\(renderer.assetVersion("portal.js"))",
            "signedIn": session != nil,
        ]
        if let session {
            let principal = session.identity.principal
            context["csrf"] = session.csrf
            context["user"] = session.identity.email
            context["role"] = renderer.text("role.\(session.identity.role.rawValue)", locale)
            context["back"] = path
            context["otherLocale"] = locale == "fr" ? "en" : "fr"
            context["otherLocaleName"] = renderer.text("locale.\(locale == "fr" ? "en" : "fr")", locale)
            context["nav"] = navigation.filter { entry in
                if let domain = entry.domain, !tenant.enabledDomains.contains(domain) { return false }
                if let access = entry.access { return (try? access.check(principal)) != nil }
                guard let (method, template) = entry.route else { return true }
                return api.allows(method, template, principal)
            }.map { entry -> [String: Any] in
                let current = entry.path == "\(base)/" ? (path == "\(base)/" || path == base) : path.hasPrefix(entry.path)
                return ["href": entry.path, "label": renderer.text(entry.key, locale), "current": current]
            }
        }
        return context
    }

    static func queryEscape(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~/"))) ?? ""
    }
}
