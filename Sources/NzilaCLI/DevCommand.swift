import ArgumentParser
import Banking
import Compliance
import NzilaPartners
import Remittance
import Trading
import ControlPlane
import DataPlane
import Foundation
import Hummingbird
import NzilaCore
import NzilaTelemetry
import NzilaDatabase
import PostgresNIO
import ServiceLifecycle

/// `nzila dev`: the embedded default. Starts a private PostgreSQL 15 + PgBouncer in the state folder
/// (ops/stack.sh), migrates, starts both planes, provisions the demo tenant on first run, writes
/// `<state>/dev.json` and serves until Ctrl-C, then stops everything it started.
struct Dev: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the whole system locally on a private PostgreSQL + PgBouncer.")

    @OptionGroup var state: StateOptions
    @Option(help: "PostgreSQL port (loopback).") var pgPort = Env().int("NZILA_PG_PORT", default: 55432)
    @Option(help: "PgBouncer port (loopback).") var bouncerPort = Env().int("NZILA_BOUNCER_PORT", default: 56432)
    @Option(help: "Control-plane port.") var controlPort = Env().int("NZILA_CONTROL_PORT", default: 8080)
    @Option(help: "Data-plane port.") var dataPort = Env().int("NZILA_DATA_PORT", default: 8081)
    @Option(help: "Port of the providers' sandbox (Interac, Stripe, Stripe Identity, Plaid, Wise shapes; docs/SANDBOX.md).")
    var sandboxPort = Env().int("NZILA_SANDBOX_PORT", default: 8082)
    @Option(help: "PgBouncer pool groups.") var poolGroups = Env().int("NZILA_POOL_GROUPS", default: 2)
    @Option(help: "Base domain of tenant hosts.") var baseDomain = Env().string("NZILA_BASE_DOMAIN", default: "localhost")
    @Option(help: "Access-token lifetime in seconds (long in dev so dev.json tokens stay usable).")
    var tokenLifetime = Env().int("NZILA_TOKEN_LIFETIME", default: 12 * 3600)
    @Option(help: "Unclaimed tenant schemas kept ready for provisioning (0: build each).")
    var warmPool = Env().int("NZILA_WARM_POOL_SIZE", default: 8)
    @Flag(help: "Print a short line per request to the terminal; the JSON lines always go to <state>/logs/nzila.jsonl.")
    var logRequests = false
    @Flag(help: "Run the stack on a movable test clock: GET /v1/test-clock and POST /v1/test-clock/advance on the control plane (platform admin).")
    var testClock = false

    func run() async throws {
        let stateDir = URL(fileURLWithPath: state.state).standardizedFileURL.path
        let root = projectRoot()
        try runStack(root: root, ["up", stateDir, "\(pgPort)", "\(bouncerPort)", "\(poolGroups)"])
        do {
            try await serveStack(stateDir: stateDir)
        } catch {
            try? runStack(root: root, ["down", stateDir])
            throw error
        }
        try runStack(root: root, ["down", stateDir])
        print("stopped PostgreSQL and PgBouncer (\(stateDir))")
    }

    func serveStack(stateDir: String) async throws {
        setenv("NZILA_POOL_GROUPS", "\(poolGroups)", 1)
        // The terminal is for people: JSON lines go to <state>/logs/nzila.jsonl, warnings (and request lines if asked) here.
        let logs = DevLogs(file: DevLogs.defaultFile(state: stateDir), requestLines: logRequests)
        let runtime = try Runtime.load(state: stateDir, label: "nzila.dev", devLogs: logs)
        try await runtime.probe(direct: true, bouncer: true, groups: true)
        let owner = runtime.ownerClient()
        let registry = runtime.registryClient()
        let groups = runtime.groupClients(connectionsPerGroup: 16)
        try await withRunning([owner, registry] + groups) {
            let migrator = Migrator(catalog: runtime.catalog, logger: runtime.logger)
            try await migrator.applyGlobal(owner)
            try await migrator.applyTenants(owner)
            try await SampleLists.load(root: runtime.root, client: owner, logger: runtime.logger)
            try await RemittanceReference.loadShipped(root: runtime.root, client: owner, logger: runtime.logger)
            try await MarketReference.loadShipped(root: runtime.root, client: owner, logger: runtime.logger)
            try await AcademyStore.loadShipped(root: runtime.root, client: owner, logger: runtime.logger)
            let credentials = try DevCredentials.loadOrCreate(stateDir: stateDir)
            try await credentials.ensurePlatformAdmin(owner, logger: runtime.logger)
            let traces = try TraceExport.configured(serviceName: "nzila", logger: runtime.logger)
            // With --test-clock each plane runs on its own movable clock from the stack's stored offset (a
            // restart keeps the time the demo reached); the data plane follows moves through its change feed.
            let offset = testClock ? Double(try await TestClockRegistry.offset(owner, logger: runtime.logger)) / 1_000_000 : 0
            let controlClock: NzilaCore.Clock = testClock ? .movable(MovableClock(offsetSeconds: offset)) : .system
            let dataClock: NzilaCore.Clock = testClock ? .movable(MovableClock(offsetSeconds: offset)) : .system
            let secrets = try await runtime.platformSecrets(owner, mayCreate: true)
            var control = makeControlPlane(
                runtime, client: owner, secrets: secrets, host: "127.0.0.1", port: controlPort, tokenLifetime: tokenLifetime, warmPool: warmPool, clock: controlClock,
                testClock: testClock)
            control.settings.tracer = traces?.tracer
            // The console on plain http: no Secure cookies (the portal likewise, below).
            control.settings.secureCookies = false
            // Both planes' /metrics, behind one token (NZILA_METRICS_TOKEN, else made for this run; in dev.json).
            let metricsToken = control.settings.metricsToken ?? OpaqueToken.generate()
            control.settings.metricsToken = metricsToken
            var settings = DataPlane.Settings()
            settings.metricsToken = metricsToken
            settings.port = dataPort
            settings.baseDomain = baseDomain
            settings.jwksURL = "http://127.0.0.1:\(controlPort)/.well-known/jwks.json"
            settings.tokenLifetimeSeconds = tokenLifetime
            settings.requiredTenantSchemaVersion = runtime.catalog.latestTenantVersion
            settings.changeFeedURL = runtime.changeFeedURL
            settings.tracer = traces?.tracer
            settings.testClock = testClock
            // The demo and its scripts receive webhooks on this machine.
            settings.webhooks.allowLoopback = true
            settings.secureCookies = false
            // The outside providers, on loopback, in their own API shapes, reached through the real adapters; the FX
            // fallback is the sandbox's Wise unless another is named (it prices quotes only with NZILA_FX_STALE_AFTER set).
            let sandbox = try await DevSandbox.prepare(
                stateDir: stateDir, port: sandboxPort, dataPort: dataPort, baseDomain: baseDomain, owner: owner, clock: dataClock, logger: runtime.logger)
            if ProcessInfo.processInfo.environment["NZILA_FX_FALLBACK"] == nil { setenv("NZILA_FX_FALLBACK", DevSandbox.fx, 1) }
            let environment = ProcessInfo.processInfo.environment
            settings.partnerEnvironment = environment
            let sets = try await PartnerSets.load(registry: registry, environment: environment, logger: runtime.logger)
            let documents = try DocumentStores.configured(environment: environment, stateDirectory: stateDir)
            let data = DataPlane(
                settings: settings, registryClient: registry, groupClients: groups, secrets: secrets, keys: runtime.keys, logger: runtime.logger, clock: dataClock,
                partners: sets.partners, identity: sets.identity, bankLinks: sets.bankLinks, rateFallback: sets.rateFallback, documents: documents)
            var services: [any Service] = [traces?.service].compactMap { $0 }
            services += [
                buildControlPlaneApplication(control), buildDataPlaneApplication(data), sandbox.sandbox.application(port: sandboxPort),
                IdempotencyPurger(client: owner, clock: controlClock, logger: runtime.logger), control.warmPool,
            ]
            services += data.workers
            services.append(data.eventRelay())
            services += data.streamServices
            if let feed = data.changeFeed { services.append(feed) }
            if let reload = data.partnerReload { services.append(reload) }
            let apps = services
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await serve(apps, logger: runtime.logger) }
                let seeder = DevSeeder(
                    controlURL: "http://127.0.0.1:\(controlPort)", dataURL: "http://127.0.0.1:\(dataPort)", credentials: credentials,
                    session: { tenant in TenantSession(client: data.groupClients[tenant.poolGroup % groups.count], tenant: tenant, memberID: nil, clock: dataClock, logger: runtime.logger) },
                    directory: data.directory, clock: dataClock)
                let tokens = try await seeder.seed()
                let demo = try await data.directory.tenant(slug: try TenantSlug("demo"), now: dataClock.now())
                let secrets = demo.map { ["interac-sandbox": data.webhookSecret(tenant: $0, provider: "interac-sandbox")] } ?? [:]
                try writeDevJSON(
                    stateDir: stateDir, credentials: credentials, tokens: tokens, webhookSecrets: secrets, metricsToken: metricsToken, runtime: runtime,
                    sandbox: sandbox.url)
                printBanner(stateDir: stateDir, credentials: credentials)
                try await tasks.next()
                tasks.cancelAll()
            }
        }
    }

    func writeDevJSON(
        stateDir: String, credentials: DevCredentials, tokens: DevSeeder.Tokens, webhookSecrets: [String: String], metricsToken: String, runtime: Runtime,
        sandbox: String
    ) throws {
        let document: [String: Any] = [
            "control_plane_url": "http://127.0.0.1:\(controlPort)",
            "data_plane_url": "http://127.0.0.1:\(dataPort)",
            "base_domain": baseDomain,
            "demo_tenant": "demo",
            "admin": ["email": credentials.admin.email, "password": credentials.admin.password, "token": tokens.admin],
            "demo_staff": ["email": credentials.staff.email, "password": credentials.staff.password, "role": "tenant_admin", "token": tokens.staff],
            "demo_member": ["email": credentials.member.email, "password": credentials.member.password, "token": tokens.member],
            "demo_teller": ["email": credentials.teller.email, "password": credentials.teller.password],
            // The staff pages in a browser (docs/PORTAL.md).
            "portal_url": "http://demo.\(baseDomain):\(dataPort)/portal/",
            "console_url": "http://127.0.0.1:\(controlPort)/console/",
            // The demo tenant's funding-webhook secrets (API.md, Webhooks): sign a test event with them.
            "webhook_secrets": webhookSecrets,
            // The outside providers (docs/SANDBOX.md): where a member pays, confirms a card, verifies, links a bank.
            "sandbox": [
                "url": sandbox, "credentials_folder": "\(stateDir)/sandbox",
                "connections": [DevSandbox.interac, DevSandbox.card, DevSandbox.identity, DevSandbox.bank, DevSandbox.fx],
                "interac_deposit": "POST \(sandbox)/interac/pay/{request id}/deposit (or /decline); the page: GET the order's payment_url",
                "card_confirm": "POST \(sandbox)/v1/payment_intents/{id}/confirm client_secret=…&payment_method=pm_card_visa (pm_card_chargeDeclined declines)",
                "identity_outcome": "POST \(sandbox)/identity/verify/{session id}/verified (or /unverified); the page: the session's url",
                "plaid_public_token": "POST \(sandbox)/sandbox/public_token/create with PLAID-CLIENT-ID / PLAID-SECRET from credentials_folder/plaid",
            ],
            // GET /metrics on both planes: Authorization: Bearer <metrics_token>.
            "metrics_token": metricsToken,
            // With --test-clock: GET /v1/test-clock and POST /v1/test-clock/advance {"seconds": N} (admin token).
            "test_clock": testClock,
            // Every log record as a JSON line (the terminal shows only warnings, and requests with --log-requests).
            "log_file": DevLogs.defaultFile(state: stateDir),
            "database": [
                "direct_url": runtime.directURL.redacted, "pgbouncer_url": runtime.bouncerURL.redacted,
                "credentials_file": "\(stateDir)/urls.env",
            ],
        ]
        let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        let path = "\(stateDir)/dev.json"
        guard FileManager.default.createFile(atPath: path, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw Refused(description: "could not write \(path)")
        }
    }

    func printBanner(stateDir: String, credentials: DevCredentials) {
        let requestsHint = logRequests ? "" : " (--log-requests: a line per request here)"
        let clockLine = testClock
            ? "\n  test clock:    POST http://127.0.0.1:\(controlPort)/v1/test-clock/advance {\"seconds\": N} (admin token) moves every plane and worker"
            : ""
        let banner = (
            """

            Nzila is running (Ctrl-C stops everything).
              control plane  http://127.0.0.1:\(controlPort)   admin  \(credentials.admin.email) / \(credentials.admin.password)
              data plane     http://127.0.0.1:\(dataPort)   tenant demo (Host demo.\(baseDomain) or X-Tenant: demo)
                             staff  \(credentials.staff.email) / \(credentials.staff.password)
                             teller \(credentials.teller.email) / \(credentials.teller.password)
                             member \(credentials.member.email) / \(credentials.member.password)
              portal         http://demo.\(baseDomain):\(dataPort)/portal/   (staff or teller above)
              console        http://127.0.0.1:\(controlPort)/console/   (admin above)
              sandbox        http://127.0.0.1:\(sandboxPort)   Interac, cards, identity, bank links, FX (docs/SANDBOX.md)
              tokens and URLs: \(stateDir)/dev.json
              logs (JSON lines): \(DevLogs.defaultFile(state: stateDir))\(requestsHint)\(clockLine)

            """)
        LogOutput.standardOutput.flush()  // terminal log lines from before the banner come before it
        FileHandle.standardOutput.write(Data(banner.utf8))
    }
}

/// Runs ops/stack.sh and fails loudly if it does. posix_spawn + waitpid, because Foundation's
/// Process.waitUntilExit can miss the exit of a script that leaves daemons behind.
func runStack(root: URL, _ arguments: [String]) throws {
    let argv = ["/bin/bash", root.appendingPathComponent("ops/stack.sh").path] + arguments
    var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    defer { for pointer in cArguments { free(pointer) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, "/bin/bash", nil, nil, &cArguments, environ)
    guard spawned == 0 else { throw ValidationError("could not start ops/stack.sh: error \(spawned)") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    let exited = (status & 0x7f) == 0
    let code = (status >> 8) & 0xff
    guard exited && code == 0 else {
        throw ValidationError("ops/stack.sh \(arguments.first ?? "") failed with status \(code)")
    }
}
