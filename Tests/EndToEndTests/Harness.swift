import AsyncHTTPClient
import Banking
import Compliance
import Remittance
import ControlPlane
import DataPlane
import Foundation
import Hummingbird
import HummingbirdTesting
import HTTPTypes
import Logging
import NIOCore
import NzilaCore
import NzilaDatabase
import NzilaPartners
import NzilaTestSupport
import PostgresNIO
import Synchronization
import Testing
import Trading

/// The real PostgreSQL 15 + PgBouncer that `ops/test.sh` started, shared by every end-to-end test:
/// migrated once, with one platform admin. Each test provisions its own tenants.
final class Harness: Sendable {
    static let shared: Task<Harness, any Error> = Task { try await Harness() }
    static func get() async throws -> Harness { try await shared.value }

    let directURL: DatabaseURL
    let bouncerURL: DatabaseURL
    let poolGroups: Int
    let owner: PostgresClient
    let registry: PostgresClient
    let groups: [PostgresClient]
    let catalog: SQLCatalog
    let secrets: SecretBox
    /// The master key's provider: `masterKeyHex` from the environment, as a server run as its own process has it.
    let keys: any KeyProvider
    /// The master key as `NZILA_MASTER_KEY`, for a server run as its own process.
    let masterKeyHex: String
    let root: URL
    let logger: Logger
    let adminEmail = "admin@tests.nzila.local"
    let adminPassword = "correct horse battery staple"

    struct NotConfigured: Error, CustomStringConvertible {
        var description: String { "NZILA_TEST_DIRECT_URL is not set: run the suite with ops/test.sh" }
    }

    init() async throws {
        TaskPoolWatch.started
        // Every successful exchange of the suite is checked against the route's documented schemas,
        // and every event it writes to an outbox against its type's schema.
        RouteTable.verifiesShapes.store(true, ordering: .relaxed)
        Outbox.verifier.withLock { $0 = EventSchemas.check }
        let environment = Env()
        guard let direct = environment["NZILA_TEST_DIRECT_URL"].flatMap(DatabaseURL.init),
            let bouncer = environment["NZILA_TEST_PGBOUNCER_URL"].flatMap(DatabaseURL.init)
        else { throw NotConfigured() }
        directURL = direct
        bouncerURL = bouncer
        poolGroups = environment.int("NZILA_TEST_POOL_GROUPS", default: 2)
        var logger = Logger(label: "nzila.tests")
        logger.logLevel = .warning
        self.logger = logger
        owner = direct.makeClient(maximumConnections: 12, applicationName: "nzila-tests-owner", logger: logger)
        registry = bouncer.makeClient(maximumConnections: 4, applicationName: "nzila-tests-registry", logger: logger)
        groups = (0..<poolGroups).map {
            bouncer.with(database: "nzila_g\($0)").makeClient(maximumConnections: 8, applicationName: "nzila-tests", logger: logger)
        }
        for client in [owner, registry] + groups { Task.detached { await client.run() } }
        root = projectRoot()
        catalog = try SQLCatalog(root: root)
        masterKeyHex = SecretBox.generateHex()
        keys = LocalKeyProvider(current: .hex(masterKeyHex))
        try await Migrator(catalog: catalog, logger: logger).applyGlobal(owner)
        // The platform key starts as the local master (the first start of a deployment with a local master).
        secrets = try await PlatformKey.load(client: owner, provider: keys, mayCreate: true, logger: logger)
        // The sample sanctions and PEP lists, as `nzila dev` loads them (the same file again is a no-op).
        try await SampleLists.load(root: root, client: owner, logger: logger)
        try await RemittanceReference.loadShipped(root: root, client: owner, logger: logger)
        try await MarketReference.loadShipped(root: root, client: owner, logger: logger)
        try await AcademyStore.loadShipped(root: root, client: owner, logger: logger)
        let hash = try PasswordHasher().hash(adminPassword)
        try await owner.query(
            """
            INSERT INTO control.users (id, email, password_hash, role) VALUES (\(UUID()), \(adminEmail), \(hash), 'platform_admin')
            ON CONFLICT (email) DO UPDATE SET password_hash = EXCLUDED.password_hash
            """, logger: logger)
    }

    /// Tests share one database, so only the warm-pool suite (serialized) lets provisioning claim warm
    /// schemas; everywhere else a tenant is built, whatever that suite left in the pool.
    func controlPlane(
        claimWarm: Bool = false, warmPoolSize: Int = 0, clock: NzilaCore.Clock = .system, testClock: Bool = false,
        hasher: PasswordHasher = PasswordHasher(), adjust: (inout ControlPlane.Settings) -> Void = { _ in },
        afterStep: @escaping @Sendable (ProvisioningStep) throws -> Void = { _ in }
    ) -> ControlPlane {
        var settings = ControlPlane.Settings(projectRoot: root)
        settings.requestDeadlineSeconds = Harness.requestDeadlineSeconds
        settings.testClock = testClock
        settings.claimWarmSchemas = claimWarm
        settings.warmPoolSize = warmPoolSize
        settings.port = 0
        settings.poolGroups = poolGroups
        settings.exportDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("nzila-test-exports", isDirectory: true)
        // Tests log staff in far more often than people do; the login-flood test lowers it again.
        settings.addressRateLimit = RateLimit(perSecond: 1_000_000, burst: 1_000_000)
        // The console's cookies travel over plain http here, as under `nzila dev`.
        settings.secureCookies = false
        adjust(&settings)
        return ControlPlane(
            settings: settings, client: owner, secrets: secrets, catalog: catalog, logger: logger, hasher: hasher, clock: clock, afterProvisioningStep: afterStep)
    }

    /// Tests send far more than a member app would, so the platform's rate ceiling is lifted here; the
    /// rate-limit suite lowers it through a tenant's configuration, re-read on every request.
    func dataPlane(
        jwksPort: Int, adjust: (inout DataPlane.Settings) -> Void = { _ in }, logger dataLogger: Logger? = nil, partners: PayoutPartners = .sandbox(),
        identity: IdentityProviders = IdentityProviders(), bankLinks: BankLinkProviders = BankLinkProviders(), rateFallback: RateFallback? = nil,
        documents: (any DocumentStore)? = Harness.localDocuments, clock: NzilaCore.Clock = .system,
        hasher: PasswordHasher = PasswordHasher(), notifiers: Notifiers = .sandbox(), keys: (any KeyProvider)? = nil
    ) -> DataPlane {
        var settings = DataPlane.Settings()
        settings.requestDeadlineSeconds = Harness.requestDeadlineSeconds
        let lifted = RateLimit(perSecond: 1_000_000, burst: 1_000_000)
        settings.rateLimits = RateLimitPolicy(tenant: lifted, caller: lifted, address: lifted)
        settings.port = 0
        settings.jwksURL = "http://127.0.0.1:\(jwksPort)/.well-known/jwks.json"
        settings.requiredTenantSchemaVersion = catalog.latestTenantVersion
        settings.changeFeedURL = changeFeedURL
        // Webhook tests receive on loopback, as under `nzila dev`; the SSRF tests turn it off.
        settings.webhooks.allowLoopback = true
        // The portal's cookies travel over plain http here, as under `nzila dev`.
        settings.secureCookies = false
        adjust(&settings)
        return DataPlane(
            settings: settings, registryClient: registry, groupClients: groups, secrets: secrets, keys: keys ?? self.keys, logger: dataLogger ?? logger, hasher: hasher, clock: clock,
            partners: partners, identity: identity, bankLinks: bankLinks, rateFallback: rateFallback, documents: documents, notifiers: notifiers)
    }

    /// KYC files of this test run, sealed, in a folder of its own (as `nzila dev` keeps them in its state folder).
    static let localDocuments: any DocumentStore = try! LocalDocumentStore(
        folder: FileManager.default.temporaryDirectory.appendingPathComponent("nzila-test-documents-\(ProcessInfo.processInfo.processIdentifier)"))

    /// The application role at the direct server: the data plane's change-feed connection.
    var changeFeedURL: DatabaseURL {
        var url = bouncerURL
        url.host = directURL.host
        url.port = directURL.port
        url.database = directURL.database
        return url
    }

    /// A safety net only: a request the planes have not answered by then is a hung test, never a slow
    /// machine (the deadline middleware's own behaviour is tested on its own).
    static let requestDeadlineSeconds: Double = 120

    /// Runs both planes on live sockets (the data plane with its change feed, and with the outbox
    /// relay if `relay`); the data plane fetches
    /// the control plane's JWKS over HTTP. Both run on `clock`, this test's own platform clock (it runs
    /// at the machine's pace until a test moves it; `MovableClock(frozenAt:)` stands still).
    func withPlanes(
        control: ControlPlane? = nil, data adjust: @escaping @Sendable (inout DataPlane.Settings) -> Void = { _ in }, dataLogger: Logger? = nil,
        partners: PayoutPartners = .sandbox(), identity: IdentityProviders = IdentityProviders(), bankLinks: BankLinkProviders = BankLinkProviders(),
        rateFallback: RateFallback? = nil, documents: (any DocumentStore)? = Harness.localDocuments,
        clock: MovableClock = MovableClock(), hasher: PasswordHasher = PasswordHasher(), relay: Bool = false, notifiers: Notifiers = .sandbox(),
        keys: (any KeyProvider)? = nil, _ body: @Sendable (Planes) async throws -> Void
    ) async throws {
        let control = control ?? controlPlane(clock: .movable(clock))
        let scope = TenantScope()
        try await buildControlPlaneApplication(control).test(.live) { cp in
            let data = dataPlane(
                jwksPort: cp.port!, adjust: { scope.install(&$0); adjust(&$0) }, logger: dataLogger, partners: partners, identity: identity,
                bankLinks: bankLinks, rateFallback: rateFallback, documents: documents, clock: .movable(clock), hasher: hasher, notifiers: notifiers,
                keys: keys)
            try await withThrowingTaskGroup(of: Void.self) { group in
                if let feed = data.changeFeed { group.addTask { try await feed.run() } }
                if let reload = data.partnerReload { group.addTask { try await reload.run() } }
                // The outbox relay and the webhook dispatcher only where a test follows events: each
                // one listens to every tenant's commits in this shared database.
                if relay {
                    group.addTask { try await data.eventRelay().run() }
                    for service in data.streamServices { group.addTask { try await service.run() } }
                    group.addTask { try await data.webhooks.run() }
                    group.addTask { try await data.notifications.run() }
                }
                defer { group.cancelAll() }
                try await buildDataPlaneApplication(data).test(.live) { dp in
                    try await body(Planes(cp: cp, dp: dp, harness: self, control: control, data: data, clock: clock, scope: scope))
                }
            }
        }
    }
}

/// Test clients for both planes plus the request plumbing every test uses.
struct Planes: Sendable {
    let cp: any TestClientProtocol
    let dp: any TestClientProtocol
    let harness: Harness
    let control: ControlPlane
    let data: DataPlane
    /// The platform clock both planes run on: a test that needs "later" moves it.
    let clock: MovableClock
    /// The tenants this test made (its relay and webhook dispatcher serve only these).
    let scope: TenantScope

    struct Reply: Sendable {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let body: Data

        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var text: String { String(decoding: body, as: UTF8.self) }
        var problemCode: String? { (json["type"] as? String)?.split(separator: "/").last.map(String.init) }
    }

    /// Sends one request on its own pooled connection (async-http-client), so requests a test sends
    /// at once run at once, as a member app's would. (HummingbirdTesting's live client is one
    /// pipelined connection whose 20 s read timeout also counts the time a request queues behind the
    /// others: eight provisionings "at once" ran one after another and the last timed out.) The
    /// timeout is a safety net, as the planes' own deadlines are here.
    static func send(
        _ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ path: String, token: String? = nil, tenant: String? = nil,
        json: Any? = nil, raw: Data? = nil, headers extra: HTTPFields = [:]
    ) async throws -> Reply {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        if let tenant { headers[.xTenant] = tenant }
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(client.port!)\(path)")
        request.method = .init(rawValue: method.rawValue)
        if let json {
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json)))
            if headers[.contentType] == nil { headers[.contentType] = "application/json" }
        } else if let raw {
            request.body = .bytes(ByteBuffer(bytes: raw))
        }
        for field in headers { request.headers.add(name: field.name.rawName, value: field.value) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(Int64(Harness.requestDeadlineSeconds) + 30))
        let body = try await response.body.collect(upTo: 64 << 20)
        var fields = HTTPFields()
        for (name, value) in response.headers {
            if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
        }
        return Reply(status: HTTPResponse.Status(code: Int(response.status.code)), headers: fields, body: Data(buffer: body))
    }

    func control(_ method: HTTPRequest.Method, _ path: String, token: String? = nil, json: Any? = nil, headers: HTTPFields = [:]) async throws -> Reply {
        try await Planes.send(cp, method, path, token: token, json: json, headers: headers)
    }

    func data(
        _ method: HTTPRequest.Method, _ path: String, token: String? = nil, tenant: String?, json: Any? = nil, headers: HTTPFields = [:]
    ) async throws -> Reply {
        try await Planes.send(dp, method, path, token: token, tenant: tenant, json: json, headers: headers)
    }

    func adminToken() async throws -> String {
        try await login(cp, email: harness.adminEmail, password: harness.adminPassword)
    }

    func login(_ client: any TestClientProtocol, email: String, password: String, tenant: String? = nil) async throws -> String {
        let reply = try await Planes.send(client, .post, "/v1/auth/login", tenant: tenant, json: ["email": email, "password": password])
        try #require(reply.status == .ok, "login failed: \(reply.text)")
        return try #require(reply.json["access_token"] as? String)
    }

    /// A freshly provisioned tenant with a tenant admin, two members, each with a chequing account.
    struct Fixture: Sendable {
        let slug: String
        let tenantID: String
        let staffToken: String
        let members: [(id: String, token: String, accountID: String)]
    }

    func provisionFixture(prefix: String = "t") async throws -> Fixture {
        let admin = try await adminToken()
        let slug = "\(prefix)_\(UUID().uuidString.prefix(8).lowercased())"
        let created = try await control(
            .post, "/v1/tenants", token: admin, json: ["slug": slug, "name": "Fixture \(slug)"], headers: [.idempotencyKey: UUID().uuidString])
        try #require(created.status == .created, "provisioning failed: \(created.text)")
        let staffEmail = "admin@\(slug).test"
        let staff = try await control(
            .post, "/v1/tenants/\(slug)/staff", token: admin, json: ["email": staffEmail, "password": "staff password 123", "role": "tenant_admin"])
        try #require(staff.status == .created, "staff failed: \(staff.text)")
        let staffToken = try await login(cp, email: staffEmail, password: "staff password 123")
        var members: [(String, String, String)] = []
        for index in 0..<2 {
            let email = "member\(index)@\(slug).test"
            let member = try await data(
                .post, "/v1/members", token: staffToken, tenant: slug,
                json: ["email": email, "full_name": "Member \(index)", "password": "member password \(index)!"])
            try #require(member.status == .created, "member failed: \(member.text)")
            let memberID = try #require(member.json["id"] as? String)
            let account = try await data(
                .post, "/v1/accounts", token: staffToken, tenant: slug, json: ["kind": "chequing", "currency": "CAD", "member_id": memberID])
            try #require(account.status == .created, "account failed: \(account.text)")
            let token = try await login(dp, email: email, password: "member password \(index)!", tenant: slug)
            members.append((memberID, token, try #require(account.json["id"] as? String)))
        }
        let tenantID = try #require(created.json["id"] as? String)
        scope.add(tenantID)
        return Fixture(slug: slug, tenantID: tenantID, staffToken: staffToken, members: members)
    }
}

/// The tenants one test's stack made. Tests share one database but each stack has its own platform
/// clock, so its outbox relay and webhook dispatcher serve only its own tenants.
final class TenantScope: Sendable {
    let ids = Mutex<Set<UUID>>([])

    func add(_ id: String) {
        if let uuid = UUID(uuidString: id) { _ = ids.withLock { $0.insert(uuid) } }
    }

    func contains(_ id: TenantID) -> Bool { ids.withLock { $0.contains(id.rawValue) } }

    func install(_ settings: inout DataPlane.Settings) {
        settings.events.only = { [self] in contains($0) }
        settings.webhooks.only = { [self] in contains($0) }
        settings.notifications.only = { [self] in contains($0) }
    }
}

/// `Schemas/events/<type>.json`, read once, for the outbox's check of every event the suite writes.
enum EventSchemas {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Schemas/events", isDirectory: true)

    /// Each type's schema file, as bytes (parsed at each check: a test's events are few).
    static let all: [String: Data] = {
        var schemas: [String: Data] = [:]
        for file in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] where file.hasSuffix(".json") {
            if let data = try? Data(contentsOf: folder.appendingPathComponent(file)) { schemas[String(file.dropLast(".json".count))] = data }
        }
        return schemas
    }()

    static let check: @Sendable (String, Data) -> [String] = { type, payload in
        guard let file = all[type], let schema = (try? JSONSerialization.jsonObject(with: file)) as? [String: Any] else {
            return ["no schema Schemas/events/\(type).json"]
        }
        guard let value = try? JSONValue.parse(payload) else { return ["$: not JSON"] }
        return JSONSchema.violations(of: value, against: schema)
    }
}
