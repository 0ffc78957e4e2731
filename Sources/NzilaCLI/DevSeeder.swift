import AsyncHTTPClient
import Ledger
import DataPlane
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NzilaCore
import NzilaDatabase
import PostgresNIO

/// The dev stack's users, with passwords generated on first run and kept in the state folder.
struct DevCredentials: Codable {
    struct Login: Codable {
        let email: String
        let password: String
    }

    let admin: Login
    let staff: Login
    let teller: Login
    let member: Login

    static func loadOrCreate(stateDir: String) throws -> DevCredentials {
        let path = "\(stateDir)/dev-credentials.json"
        if let data = FileManager.default.contents(atPath: path) { return try JSONDecoder().decode(DevCredentials.self, from: data) }
        func password() -> String { OpaqueToken.generate().prefix(20).description }
        let credentials = DevCredentials(
            admin: Login(email: "admin@nzila.local", password: password()),
            staff: Login(email: "admin@demo.nzila.local", password: password()),
            teller: Login(email: "teller@demo.nzila.local", password: password()),
            member: Login(email: "amina.diallo@example.com", password: password()))
        guard FileManager.default.createFile(atPath: path, contents: try JSONEncoder().encode(credentials), attributes: [.posixPermissions: 0o600]) else {
            throw Refused(description: "could not write \(path)")
        }
        return credentials
    }

    /// The platform admin is the one user not made through the API (someone has to be first).
    func ensurePlatformAdmin(_ owner: PostgresClient, logger: Logger) async throws {
        let hash = try PasswordHasher().hash(admin.password)
        try await owner.statement(
            """
            INSERT INTO control.users (id, email, password_hash, role) VALUES (\(UUID()), \(admin.email), \(hash), 'platform_admin')
            ON CONFLICT (email) DO UPDATE SET password_hash = EXCLUDED.password_hash
            """, logger: logger
        ) { _ in }
    }
}

/// Provisions the demo tenant through the real HTTP APIs (so `nzila dev` exercises the same path as a
/// user), then deposits opening balances through the ledger.
struct DevSeeder {
    let controlURL: String
    let dataURL: String
    let credentials: DevCredentials
    let session: @Sendable (TenantRef) -> TenantSession
    let directory: TenantDirectory
    let clock: NzilaCore.Clock

    struct Tokens {
        let admin: String
        let staff: String
        let member: String
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static let demoMembers: [(name: String, email: String, depositMinor: Int64)] = [
        ("Amina Diallo", "amina.diallo@example.com", 250_000),
        ("Kwame Mensah", "kwame.mensah@example.com", 120_000),
        ("Fatou Ndiaye", "fatou.ndiaye@example.com", 75_050),
    ]

    func seed() async throws -> Tokens {
        try await waitForHealth()
        let admin = try await login(controlURL, credentials.admin, tenant: nil)
        let (existing, _) = try await call(.GET, controlURL + "/v1/tenants/demo", token: admin)
        if existing == 404 {
            try await expect([201], .POST, controlURL + "/v1/tenants", token: admin, body: ["slug": "demo", "name": "Demo Credit Union"],
                headers: ["Idempotency-Key": "nzila-dev-demo"])
        }
        for (login, role) in [(credentials.staff, "tenant_admin"), (credentials.teller, "teller")] {
            try await expect([201, 409], .POST, controlURL + "/v1/tenants/demo/staff", token: admin,
                body: ["email": login.email, "password": login.password, "role": role])
        }
        let staff = try await login(controlURL, credentials.staff, tenant: nil)
        let (_, list) = try await call(.GET, dataURL + "/v1/members?limit=1", token: staff, tenant: "demo")
        if let page = try JSONSerialization.jsonObject(with: list) as? [String: Any], (page["data"] as? [Any])?.isEmpty == true {
            try await enrolMembers(staff: staff)
            try await offerLoans(staff: staff)
        }
        try await useSandboxProviders(admin: admin)
        let member = try await login(dataURL, credentials.member, tenant: "demo")
        return Tokens(admin: admin, staff: staff, member: member)
    }

    func enrolMembers(staff: String) async throws {
        guard let tenant = try await directory.tenant(slug: try TenantSlug("demo"), now: clock.now()) else { throw Failure(description: "demo tenant missing") }
        for (index, member) in Self.demoMembers.enumerated() {
            let password = index == 0 ? credentials.member.password : OpaqueToken.generate().prefix(20).description
            let created = try await expect([201], .POST, dataURL + "/v1/members", token: staff, tenant: "demo",
                body: ["email": member.email, "full_name": member.name, "password": password])
            guard let memberID = created["id"] as? String else { throw Failure(description: "member without id") }
            var chequing: String?
            for kind in ["chequing", "savings"] {
                let account = try await expect([201], .POST, dataURL + "/v1/accounts", token: staff, tenant: "demo",
                    body: ["kind": kind, "currency": "CAD", "member_id": memberID])
                if kind == "chequing" { chequing = account["id"] as? String }
            }
            guard let chequing, let accountID = UUID(uuidString: chequing) else { throw Failure(description: "account without id") }
            let amount = Money(minorUnits: member.depositMinor, currency: Currency(code: "CAD")!)
            try await session(tenant).run { db in
                try await LedgerStore(db).postCashDeposit(to: AccountID(accountID), amount: amount, memo: "Opening deposit (demo)")
            }
        }
    }

    /// The demo tenant funds through the sandbox's Interac and cards, links banks through its Plaid and verifies members
    /// through its Stripe Identity (tier 2 on a verified session), unless its configuration already names providers.
    func useSandboxProviders(admin: String) async throws {
        let path = controlURL + "/v1/tenants/demo/config"
        let (status, raw, etag) = try await callWithETag(.GET, path, token: admin)
        guard status == 200, var config = ((try? JSONSerialization.jsonObject(with: raw)) as? [String: Any])?["config"] as? [String: Any] else {
            throw Failure(description: "GET \(path) answered \(status)")
        }
        guard config["funding"] == nil, config["identity"] == nil else { return }
        config["funding"] = ["interac": DevSandbox.interac, "card": DevSandbox.card, "bank_link": DevSandbox.bank]
        config["identity"] = ["connection": DevSandbox.identity, "grant_tier": 2]
        try await expect([200], .PUT, path, token: admin, body: ["config": config, "reason": "nzila dev: the sandbox providers"], headers: ["If-Match": etag])
    }

    func callWithETag(_ method: HTTPMethod, _ url: String, token: String) async throws -> (Int, Data, String) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let buffer = try await response.body.collect(upTo: 1 << 22)
        return (Int(response.status.code), Data(buffer: buffer), response.headers.first(name: "ETag") ?? "")
    }

    /// The demo's loan product, so a member can ask for a quote or apply at once: 100.00–5,000.00
    /// CAD over 3–24 months at 12.9% declining balance, a 1% origination fee, a 5.00 + 5% late
    /// penalty after 5 days.
    func offerLoans(staff: String) async throws {
        try await expect([201], .POST, dataURL + "/v1/loan-products", token: staff, tenant: "demo", body: [
            "name": "Starter micro-loan", "currency": "CAD", "principal_range": ["min_minor": 10_000, "max_minor": 500_000],
            "term_range": ["min": 3, "max": 24], "frequency": "monthly", "annual_rate_bps": 1_290, "method": "declining_balance",
            "origination_fee": ["fixed_minor": 0, "bps": 100], "grace_instalments": 0, "late_penalty": ["fixed_minor": 500, "bps": 500, "grace_days": 5],
        ])
    }

    func waitForHealth() async throws {
        for _ in 0..<100 {
            if let (status, _) = try? await call(.GET, controlURL + "/health"), status == 200,
                let (dataStatus, _) = try? await call(.GET, dataURL + "/health"), dataStatus == 200
            {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw Failure(description: "the servers did not come up")
    }

    func login(_ base: String, _ login: DevCredentials.Login, tenant: String?) async throws -> String {
        let body = try await expect([200], .POST, base + "/v1/auth/login", tenant: tenant, body: ["email": login.email, "password": login.password])
        guard let token = body["access_token"] as? String else { throw Failure(description: "login returned no token") }
        return token
    }

    @discardableResult
    func expect(
        _ statuses: Set<Int>, _ method: HTTPMethod, _ url: String, token: String? = nil, tenant: String? = nil, body: [String: Any]? = nil,
        headers: [String: String] = [:]
    ) async throws -> [String: Any] {
        let (status, data) = try await call(method, url, token: token, tenant: tenant, body: body, headers: headers)
        guard statuses.contains(status) else {
            throw Failure(description: "\(method) \(url) answered \(status): \(String(decoding: data, as: UTF8.self))")
        }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }

    func call(
        _ method: HTTPMethod, _ url: String, token: String? = nil, tenant: String? = nil, body: [String: Any]? = nil,
        headers: [String: String] = [:]
    ) async throws -> (Int, Data) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let tenant { request.headers.add(name: "X-Tenant", value: tenant) }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let buffer = try await response.body.collect(upTo: 1 << 22)
        return (Int(response.status.code), Data(buffer: buffer))
    }
}
