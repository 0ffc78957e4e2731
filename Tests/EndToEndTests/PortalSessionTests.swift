import AsyncHTTPClient
import Foundation
import HTTPTypes
import NIOCore
import NzilaCore
import Testing

/// The portal's sessions and headers over plain HTTP (the browser walks are in PortalBrowserTests):
/// cookie flags, CSP, the idle timeout on the platform clock, logout, the API's lockout on the form,
/// and a session that is good for one credit union only.
@Suite("Portal sessions")
struct PortalSessionTests {
    /// A browser as far as these tests need one: cookies by name, the page's CSRF token.
    struct Visitor {
        let planes: Planes
        let tenant: String
        var cookies: [String: String] = [:]

        mutating func send(_ method: HTTPRequest.Method, _ path: String, form: [String: String]? = nil) async throws -> Planes.Reply {
            var headers: HTTPFields = [:]
            if !cookies.isEmpty { headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ") }
            var raw: Data?
            if let form {
                headers[.contentType] = "application/x-www-form-urlencoded"
                raw = Data(form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&").utf8)
            }
            headers[.xTenant] = tenant
            let reply = try await Self.send(port: planes.dp.port!, method, path, raw: raw, headers: headers)
            for value in reply.headers[values: .setCookie] {
                let pair = value.split(separator: ";")[0].split(separator: "=", maxSplits: 1)
                guard pair.count == 2 else { continue }
                if pair[1].isEmpty { cookies.removeValue(forKey: String(pair[0])) } else { cookies[String(pair[0])] = String(pair[1]) }
            }
            return reply
        }

        /// A client that shows redirects instead of following them (the shared one follows).
        static let client = HTTPClient(
            eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration(redirectConfiguration: .disallow))

        static func send(port: Int, _ method: HTTPRequest.Method, _ path: String, raw: Data?, headers: HTTPFields) async throws -> Planes.Reply {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
            request.method = .init(rawValue: method.rawValue)
            if let raw { request.body = .bytes(ByteBuffer(bytes: raw)) }
            for field in headers { request.headers.add(name: field.name.rawName, value: field.value) }
            let response = try await client.execute(request, timeout: .seconds(150))
            let body = try await response.body.collect(upTo: 16 << 20)
            var fields = HTTPFields()
            for (name, value) in response.headers {
                if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
            }
            return Planes.Reply(status: HTTPResponse.Status(code: Int(response.status.code)), headers: fields, body: Data(buffer: body))
        }

        static func csrf(_ page: Planes.Reply) -> String? {
            page.text.firstMatch(of: /name="_csrf" value="([^"]+)"/).map { String($0.1) }
        }

        mutating func login(_ email: String, _ password: String) async throws -> Planes.Reply {
            let form = try await send(.get, "/portal/login")
            return try await send(.post, "/portal/login", form: ["_csrf": try #require(Self.csrf(form)), "email": email, "password": password])
        }
    }

    @Test("login sets a strict session cookie; pages carry the CSP; logout and the idle timeout end the session")
    func sessions() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "webs")
            var visitor = Visitor(planes: planes, tenant: f.slug)
            let login = try await visitor.send(.get, "/portal/login")
            #expect(login.status == .ok && login.headers[.contentType]?.hasPrefix("text/html") == true)
            let csp = try #require(login.headers[.contentSecurityPolicy])
            #expect(csp.contains("script-src 'self'") && csp.contains("style-src 'self'") && csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe"))
            #expect(login.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
            #expect(login.headers[.cacheControl] == "no-store")
            #expect(!login.text.contains("<script>") && !login.text.contains("style="), "no inline script or style")

            // Without the login form's token the post is refused.
            let forged = try await Visitor.send(
                port: planes.dp.port!, .post, "/portal/login", raw: Data("email=a%40b.test&password=x".utf8),
                headers: [.contentType: "application/x-www-form-urlencoded", .xTenant: f.slug])
            #expect(forged.status == .forbidden)

            let signedIn = try await visitor.send(
                .post, "/portal/login", form: ["_csrf": try #require(Visitor.csrf(login)), "email": "admin@\(f.slug).test", "password": "staff password 123"])
            #expect(signedIn.status == .seeOther && signedIn.headers[.location] == "/portal/", "\(signedIn.status) \(signedIn.text.prefix(600))")
            let cookie = try #require(signedIn.headers[values: .setCookie].first { $0.hasPrefix("nzila_portal=") })
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/portal"))
            #expect(!cookie.contains("Secure"), "plain http in tests, as under nzila dev")
            let dashboard = try await visitor.send(.get, "/portal/")
            #expect(dashboard.status == .ok && dashboard.text.contains("admin@\(f.slug).test"), "\(dashboard.status) \(dashboard.text.suffix(800))")

            // Idle past the timeout on the platform clock: the next page is the login page.
            planes.clock.advance(seconds: Double(planes.data.settings.webIdleSeconds + 1))
            let idle = try await visitor.send(.get, "/portal/members")
            #expect(idle.status == .seeOther && idle.headers[.location] == "/portal/login?next=/portal/members")

            // Logout ends the session for good.
            let again = try await visitor.login("admin@\(f.slug).test", "staff password 123")
            #expect(again.status == .seeOther)
            let page = try await visitor.send(.get, "/portal/")
            let kept = visitor.cookies
            let out = try await visitor.send(.post, "/portal/logout", form: ["_csrf": try #require(Visitor.csrf(page))])
            #expect(out.status == .seeOther && out.headers[.location] == "/portal/login")
            var replay = visitor
            replay.cookies = kept
            #expect(try await replay.send(.get, "/portal/").status == .seeOther, "the old cookie opens nothing")
        }
    }

    @Test("the API's lockout applies to the form; a session is good at its own credit union only")
    func lockoutAndTenants() async throws {
        let harness = try await Harness.get()
        // The platform clock stands still until the test moves it: the lock is a minute of platform time.
        try await harness.withPlanes(clock: MovableClock(frozenAt: WebhookTests.start)) { planes in
            let a = try await planes.provisionFixture(prefix: "weba")
            let b = try await planes.provisionFixture(prefix: "webb")
            var visitor = Visitor(planes: planes, tenant: a.slug)
            // Staff of another credit union are refused like a wrong password.
            let other = try await visitor.login("admin@\(b.slug).test", "staff password 123")
            #expect(other.status == .unauthorized && other.text.contains("not right"))
            // The platform admin does not use the portal either.
            #expect(try await visitor.login(harness.adminEmail, harness.adminPassword).status == .unauthorized)

            var statuses: [HTTPResponse.Status] = []
            for _ in 0...LoginThrottle.freeFailures {
                statuses.append(try await visitor.login("admin@\(a.slug).test", "wrong password").status)
            }
            #expect(statuses.dropLast().allSatisfy { $0 == .unauthorized } && statuses.last == .tooManyRequests, "\(statuses)")
            let locked = try await visitor.login("admin@\(a.slug).test", "staff password 123")
            #expect(locked.status == .tooManyRequests && locked.text.contains("Try again in 1 min."), "locked even with the right password")
            // The API says the same for the same email.
            let api = try await planes.control(.post, "/v1/auth/login", json: ["email": "admin@\(a.slug).test", "password": "staff password 123"])
            #expect(api.status == .tooManyRequests)

            planes.clock.advance(seconds: 61)
            #expect(try await visitor.login("admin@\(a.slug).test", "staff password 123").status == .seeOther)
            // The same cookie at another credit union's portal opens nothing there.
            var elsewhere = Visitor(planes: planes, tenant: b.slug, cookies: visitor.cookies)
            let crossed = try await elsewhere.send(.get, "/portal/")
            #expect(crossed.status == .seeOther && crossed.headers[.location]?.hasPrefix("/portal/login") == true)
        }
    }

    @Test("settings: a teller reads but cannot change; bad JSON, bad values and a missing reason are named; nothing half-saved")
    func settings() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "webs")
            let admin = try await planes.adminToken()
            let created = try await planes.control(
                .post, "/v1/tenants/\(f.slug)/staff", token: admin, json: ["email": "teller@\(f.slug).test", "password": "staff password 123", "role": "teller"])
            try #require(created.status == .created, "\(created.text)")

            var teller = Visitor(planes: planes, tenant: f.slug)
            #expect(try await teller.login("teller@\(f.slug).test", "staff password 123").status == .seeOther)
            let overview = try await teller.send(.get, "/portal/settings")
            #expect(overview.status == .ok && overview.text.contains("id=\"edit-fees\">View") && !overview.text.contains(">Edit<"), "read-only for a teller")
            let fees = try await teller.send(.get, "/portal/settings/sections/fees")
            #expect(fees.status == .ok && fees.text.contains("readonly") && !fees.text.contains("Review the change"))
            let tellerCSRF = try #require(Visitor.csrf(fees))
            let refused = try await teller.send(.post, "/portal/settings/sections/fees/review", form: ["_csrf": tellerCSRF, "version": "1", "section_json": "{}"])
            #expect(refused.status == .forbidden, "\(refused.status)")

            var editor = Visitor(planes: planes, tenant: f.slug)
            #expect(try await editor.login("admin@\(f.slug).test", "staff password 123").status == .seeOther)
            let form = try await editor.send(.get, "/portal/settings/sections/fees")
            let csrf = try #require(Visitor.csrf(form))
            let version = try #require(form.text.firstMatch(of: /name="version" value="(\d+)"/).map { String($0.1) })
            let broken = try await editor.send(.post, "/portal/settings/sections/fees/review", form: ["_csrf": csrf, "version": version, "section_json": "{\"corridors\": "])
            #expect(broken.status == .unprocessableContent && broken.text.contains("is not valid JSON") && broken.text.contains("{&quot;corridors&quot;: "), "the typed text is kept")
            // A section not set yet opens as an empty object.
            let unset = try await editor.send(.get, "/portal/settings/sections/rate_limits")
            #expect(unset.status == .ok && unset.text.contains("id=\"section_json\"") && unset.text.contains("Not set") == false)

            // A value the platform refuses: the review shows the diff; the save names the field.
            let current = try await planes.control(.get, "/v1/tenants/\(f.slug)/config", token: admin)
            var section = try #require((current.json["config"] as? [String: Any])?["fees"] as? [String: Any])
            section["fx_spread_bps"] = -5
            let sectionJSON = String(decoding: try JSONSerialization.data(withJSONObject: section), as: UTF8.self)
            let review = try await editor.send(.post, "/portal/settings/sections/fees/review", form: ["_csrf": csrf, "version": version, "section_json": sectionJSON])
            #expect(review.status == .ok && review.text.contains("fees.fx_spread_bps"), "the review names the change")
            let noReason = try await editor.send(.post, "/portal/settings/sections/fees/save", form: ["_csrf": csrf, "version": version, "section_json": sectionJSON, "reason": " "])
            #expect(noReason.status == .unprocessableContent && noReason.text.contains("<code>reason</code>"), "\(noReason.status)")
            #expect(noReason.text.contains("<code>config.fees.fx_spread_bps</code>"), "both problems named at once")
            let after = try await planes.control(.get, "/v1/tenants/\(f.slug)/config", token: admin)
            #expect(after.json["version"] as? Int == current.json["version"] as? Int, "nothing saved")
        }
    }

    @Test("outside nzila dev the session cookie is Secure")
    func secureCookie() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes(data: { $0.secureCookies = true }) { planes in
            let f = try await planes.provisionFixture(prefix: "websec")
            var visitor = Visitor(planes: planes, tenant: f.slug)
            let signedIn = try await visitor.login("admin@\(f.slug).test", "staff password 123")
            let cookie = try #require(signedIn.headers[values: .setCookie].first { $0.hasPrefix("nzila_portal=") })
            #expect(cookie.contains("; Secure"))
        }
    }
}
