import ArgumentParser
import Banking
import ControlPlane
import DataPlane
import Compliance
import Foundation
import NzilaPartners
import Trading
import Hummingbird
import Logging
import NzilaCore
import NzilaTelemetry
import NzilaDatabase
import PostgresNIO
import Remittance
import ServiceLifecycle

struct ControlPlaneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "control-plane", abstract: "Serve the control plane (applies pending global migrations first).")

    @OptionGroup var state: StateOptions
    @Option(help: "Listen address (env NZILA_CONTROL_HOST).") var host = Env().string("NZILA_CONTROL_HOST", default: "127.0.0.1")
    @Option(help: "Listen port (env NZILA_CONTROL_PORT).") var port = Env().int("NZILA_CONTROL_PORT", default: 8080)
    @Option(help: "Access-token lifetime in seconds (env NZILA_TOKEN_LIFETIME).")
    var tokenLifetime = Env().int("NZILA_TOKEN_LIFETIME", default: 900)
    @Option(help: "Unclaimed tenant schemas kept ready for provisioning (env NZILA_WARM_POOL_SIZE; 0: build each).")
    var warmPool = Env().int("NZILA_WARM_POOL_SIZE", default: 8)

    func run() async throws {
        let runtime = try Runtime.load(state: state.state, label: "nzila.control-plane")
        try await runtime.probe(direct: true)
        let owner = runtime.ownerClient()
        try await withRunning([owner]) {
            try await Migrator(catalog: runtime.catalog, logger: runtime.logger).applyGlobal(owner)
            let traces = try TraceExport.configured(serviceName: "nzila-control-plane", logger: runtime.logger)
            let secrets = try await runtime.platformSecrets(owner, mayCreate: true)
            var plane = makeControlPlane(
                runtime, client: owner, secrets: secrets, host: host, port: port, tokenLifetime: tokenLifetime, warmPool: warmPool)
            plane.settings.tracer = traces?.tracer
            // NZILA_TLS_CERT + NZILA_TLS_KEY: TLS 1.3 only (checked here, before anything listens).
            plane.settings.tls = try PlaneTLS.fromEnvironment()
            try await serve(
                [traces?.service].compactMap { $0 }
                    + [buildControlPlaneApplication(plane), IdempotencyPurger(client: owner, clock: plane.clock, logger: runtime.logger), plane.warmPool],
                logger: runtime.logger)
        }
    }
}

struct DataPlaneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "data-plane", abstract: "Serve the tenant-scoped data plane.")

    @OptionGroup var state: StateOptions
    @Option(help: "Listen address (env NZILA_DATA_HOST).") var host = Env().string("NZILA_DATA_HOST", default: "127.0.0.1")
    @Option(help: "Listen port (env NZILA_DATA_PORT).") var port = Env().int("NZILA_DATA_PORT", default: 8081)
    @Option(help: "Tenants are <slug>.<base domain> (env NZILA_BASE_DOMAIN).")
    var baseDomain = Env().string("NZILA_BASE_DOMAIN", default: "localhost")
    @Option(help: "The control plane's JWKS (env NZILA_JWKS_URL).")
    var jwksURL = Env().string("NZILA_JWKS_URL", default: "http://127.0.0.1:8080/.well-known/jwks.json")
    @Option(help: "Connections per pool group (env NZILA_GROUP_CONNECTIONS).")
    var groupConnections = Env().int("NZILA_GROUP_CONNECTIONS", default: 16)
    @Option(help: "Member access-token lifetime in seconds (env NZILA_TOKEN_LIFETIME).")
    var tokenLifetime = Env().int("NZILA_TOKEN_LIFETIME", default: 900)

    func validate() throws {
        switch Env()["NZILA_MARKET_FEED"] ?? "seeded" {
        case "seeded": break
        case "alphavantage":
            guard AlphaVantageFeed.Configuration(environment: ProcessInfo.processInfo.environment) != nil else {
                throw ValidationError("NZILA_MARKET_FEED=alphavantage needs NZILA_ALPHAVANTAGE_KEY")
            }
        case let other: throw ValidationError("NZILA_MARKET_FEED must be seeded or alphavantage, not \(other)")
        }
    }

    func run() async throws {
        let runtime = try Runtime.load(state: state.state, label: "nzila.data-plane")
        try await runtime.probe(bouncer: true, groups: true)
        let registry = runtime.registryClient()
        let groups = runtime.groupClients(connectionsPerGroup: groupConnections)
        try await withRunning([registry] + groups) {
            var settings = DataPlane.Settings()
            settings.host = host
            settings.port = port
            settings.tls = try PlaneTLS.fromEnvironment()
            settings.baseDomain = baseDomain
            settings.jwksURL = jwksURL
            settings.tokenLifetimeSeconds = tokenLifetime
            settings.requiredTenantSchemaVersion = runtime.catalog.latestTenantVersion
            settings.changeFeedURL = runtime.changeFeedURL
            let traces = try TraceExport.configured(serviceName: "nzila-data-plane", logger: runtime.logger)
            settings.tracer = traces?.tracer
            // The registry's partner connections (nzila partners add) beside the sandbox ones, credentials resolved here,
            // and again whenever the registry changes.
            let environment = ProcessInfo.processInfo.environment
            settings.partnerEnvironment = environment
            let sets = try await PartnerSets.load(registry: registry, environment: environment, logger: runtime.logger)
            // KYC files: NZILA_DOCUMENTS (local by default, in <state>/documents; or s3://bucket).
            let documents = try DocumentStores.configured(environment: environment, stateDirectory: state.state)
            let plane = DataPlane(
                settings: settings, registryClient: registry, groupClients: groups, secrets: try await runtime.platformSecrets(registry, mayCreate: false),
                keys: runtime.keys, logger: runtime.logger,
                partners: sets.partners, identity: sets.identity, bankLinks: sets.bankLinks, rateFallback: sets.rateFallback,
                documents: documents, notifiers: try .fromEnvironment())
            // NZILA_DATA_PLANE_WORKERS=off: an instance that only serves requests (another one's workers move
            // remittances and release holds; requests still kick them through the database's due times).
            let serving = Env()["NZILA_DATA_PLANE_WORKERS"] == "off"
            let workers: [any Service] = serving ? [] : plane.workers
            // Every instance fans events out to its own streams; only one with workers numbers them.
            var services: [any Service] = [traces?.service].compactMap { $0 }
            services.append(buildDataPlaneApplication(plane))
            services += workers
            services.append(plane.eventRelay(publishes: !serving))
            services += plane.streamServices
            if let feed = plane.changeFeed { services.append(feed) }
            if let reload = plane.partnerReload { services.append(reload) }
            try await serve(
                services,
                logger: runtime.logger)
        }
    }
}

func makeControlPlane(
    _ runtime: Runtime, client: PostgresClient, secrets: SecretBox, host: String, port: Int, tokenLifetime: Int, warmPool: Int, clock: NzilaCore.Clock = .system,
    testClock: Bool = false
) -> ControlPlane {
    var settings = ControlPlane.Settings(projectRoot: runtime.root)
    settings.warmPoolSize = max(0, warmPool)
    // A server without a pool builds every tenant (and leaves other servers' warm schemas alone).
    settings.claimWarmSchemas = warmPool > 0
    settings.host = host
    settings.port = port
    settings.poolGroups = runtime.poolGroups
    settings.tokenLifetimeSeconds = tokenLifetime
    settings.exportDirectory = runtime.exportDirectory
    settings.testClock = testClock
    return ControlPlane(settings: settings, client: client, secrets: secrets, catalog: runtime.catalog, logger: runtime.logger, clock: clock)
}

/// Runs the applications until SIGINT or SIGTERM, then shuts them down gracefully.
func serve(_ services: [any Service], logger: Logger) async throws {
    let group = ServiceGroup(
        configuration: .init(services: services, gracefulShutdownSignals: [.sigint, .sigterm], logger: logger))
    try await group.run()
}
