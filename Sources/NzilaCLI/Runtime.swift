import Foundation
import Synchronization
import Logging
import NzilaCore
import NzilaDatabase
import NzilaPartners
import PostgresNIO

/// The configuration every command shares, from `NZILA_…` variables, else the state folder:
/// - `NZILA_DIRECT_URL` (owner, straight to PostgreSQL), `NZILA_PGBOUNCER_URL` (app login, through
///   PgBouncer), `NZILA_POOL_GROUPS` (default 2): else `<state>/urls.env`, written by ops/stack.sh;
/// - `NZILA_MASTER_KEY` (64 hex digits): else `<state>/master.key`, created on first use (mode 600);
/// - `NZILA_HOME`: the project folder holding Migrations/, policies/ and TenantTemplates/.
struct Runtime {
    let directURL: DatabaseURL
    let bouncerURL: DatabaseURL
    let poolGroups: Int
    /// The data plane's direct connection for the registry's change feed (LISTEN cannot go through
    /// PgBouncer): NZILA_LISTEN_URL, else the application role at the direct server.
    let changeFeedURL: DatabaseURL
    /// Where offboarding writes tenant exports: NZILA_EXPORT_DIR, else `<state>/exports`.
    let exportDirectory: URL
    /// The master key's provider (NZILA_KEY_PROVIDER): it wraps the platform key and every tenant's data keys.
    let keys: any KeyProvider
    let catalog: SQLCatalog
    let root: URL
    let logger: Logger

    struct Missing: Error, CustomStringConvertible {
        let description: String
    }

    /// `devLogs`: `nzila dev`'s split of JSON lines to a file and a readable terminal; nil (every other
    /// command) keeps JSON lines on standard output.
    static func load(state: String, label: String = "nzila", devLogs: DevLogs? = nil) throws -> Runtime {
        var values = Env().values
        let urlsFile = URL(fileURLWithPath: state).appendingPathComponent("urls.env")
        if let text = try? String(contentsOf: urlsFile, encoding: .utf8) {
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
                if parts.count == 2, values[parts[0]] == nil { values[parts[0]] = parts[1] }
            }
        }
        let environment = Env(values)
        let problems = ConfigurationCheck.problems(environment)
        guard problems.isEmpty else {
            throw Missing(description: "the configuration is not usable:\n  - " + problems.joined(separator: "\n  - "))
        }
        guard let direct = environment["NZILA_DIRECT_URL"].flatMap(DatabaseURL.init) else {
            throw Missing(description: "set NZILA_DIRECT_URL or start the stack (ops/stack.sh) so \(urlsFile.path) exists")
        }
        guard let bouncer = environment["NZILA_PGBOUNCER_URL"].flatMap(DatabaseURL.init) else {
            throw Missing(description: "set NZILA_PGBOUNCER_URL or start the stack so \(urlsFile.path) exists")
        }
        try Runtime.bootstrapLogging(environment, devLogs: devLogs)
        var logger = Logger(label: label)
        logger.logLevel = Logger.Level(rawValue: environment.string("NZILA_LOG_LEVEL", default: "info")) ?? .info
        let root = projectRoot(environment: environment)
        var feed = bouncer
        feed.host = direct.host
        feed.port = direct.port
        feed.database = direct.database
        // The feed reaches the direct server, so it talks TLS as the direct URL says.
        feed.sslMode = direct.sslMode
        feed.rootCertificate = direct.rootCertificate
        if let raw = environment["NZILA_LISTEN_URL"] {
            guard let url = DatabaseURL(raw) else { throw Missing(description: "NZILA_LISTEN_URL is not a postgres:// URL") }
            feed = url
        }
        return Runtime(
            directURL: direct, bouncerURL: bouncer, poolGroups: max(1, environment.int("NZILA_POOL_GROUPS", default: 2)), changeFeedURL: feed,
            exportDirectory: URL(fileURLWithPath: environment["NZILA_EXPORT_DIR"] ?? URL(fileURLWithPath: state).appendingPathComponent("exports").path),
            keys: try keyProvider(environment: environment, state: state), catalog: try SQLCatalog(root: root), root: root, logger: logger)
    }

    /// NZILA_KEY_PROVIDER: `env` (NZILA_MASTER_KEY, 64 hex digits), `file` (NZILA_MASTER_KEY_FILE, read at each use)
    /// or `vault` (NZILA_VAULT_ADDR, NZILA_VAULT_TOKEN_FILE or NZILA_VAULT_TOKEN, NZILA_VAULT_TRANSIT_KEY, optionally
    /// NZILA_VAULT_TRANSIT_MOUNT). Unset: `env` when NZILA_MASTER_KEY is set, else the state folder's master.key
    /// (made on first use, mode 600). During a local master rotation NZILA_MASTER_KEY_PREVIOUS (or
    /// NZILA_MASTER_KEY_PREVIOUS_FILE) names the old master, which still unwraps.
    static func keyProvider(environment: Env, state: String) throws -> any KeyProvider {
        let previous: LocalKeyProvider.Source? =
            environment["NZILA_MASTER_KEY_PREVIOUS"].map { .hex($0) } ?? environment["NZILA_MASTER_KEY_PREVIOUS_FILE"].map { .file($0) }
        let implied = environment["NZILA_MASTER_KEY"] != nil ? "env" : environment["NZILA_MASTER_KEY_FILE"] != nil ? "file" : "state"
        switch environment["NZILA_KEY_PROVIDER"] ?? implied {
        case "env":
            guard let hex = environment["NZILA_MASTER_KEY"] else { throw Missing(description: "NZILA_KEY_PROVIDER=env needs NZILA_MASTER_KEY") }
            return LocalKeyProvider(current: .hex(hex), previous: previous)
        case "file":
            guard let path = environment["NZILA_MASTER_KEY_FILE"] else { throw Missing(description: "NZILA_KEY_PROVIDER=file needs NZILA_MASTER_KEY_FILE") }
            return LocalKeyProvider(current: .file(path), previous: previous)
        case "vault":
            guard let address = environment["NZILA_VAULT_ADDR"], let key = environment["NZILA_VAULT_TRANSIT_KEY"] else {
                throw Missing(description: "NZILA_KEY_PROVIDER=vault needs NZILA_VAULT_ADDR and NZILA_VAULT_TRANSIT_KEY")
            }
            let mount = environment["NZILA_VAULT_TRANSIT_MOUNT"] ?? "transit"
            if let file = environment["NZILA_VAULT_TOKEN_FILE"] {
                // Read at each call: a renewed token written to the file is picked up.
                return VaultTransitKeyProvider(address: address, tokenSource: { try String(contentsOfFile: file, encoding: .utf8) }, mount: mount, key: key)
            }
            guard let token = environment["NZILA_VAULT_TOKEN"]?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty else {
                throw Missing(description: "NZILA_KEY_PROVIDER=vault needs NZILA_VAULT_TOKEN_FILE (or NZILA_VAULT_TOKEN)")
            }
            return VaultTransitKeyProvider(address: address, token: token, mount: mount, key: key)
        default:
            let file = URL(fileURLWithPath: state).appendingPathComponent("master.key")
            if !FileManager.default.fileExists(atPath: file.path) {
                try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
                FileManager.default.createFile(atPath: file.path, contents: Data(SecretBox.generateHex().utf8), attributes: [.posixPermissions: 0o600])
            }
            return LocalKeyProvider(current: .file(file.path), previous: previous)
        }
    }

    /// The platform key, unwrapped by the provider; made on first use when `client` is the owner's.
    func platformSecrets(_ client: PostgresClient, mayCreate: Bool) async throws -> SecretBox {
        try await PlatformKey.load(client: client, provider: keys, mayCreate: mayCreate, logger: logger)
    }

    /// Loads the configuration and runs `body` with the owner pool running: the frame of every
    /// operator command.
    static func withOwner<Result: Sendable>(
        state: String, _ body: (Runtime, PostgresClient) async throws -> Result
    ) async throws -> Result {
        let runtime = try Runtime.load(state: state)
        try await runtime.probe(direct: true)
        let owner = runtime.ownerClient()
        return try await withRunning([owner]) { try await body(runtime, owner) }
    }

    /// `withOwner` after applying pending global migrations, for commands that write `reference` or
    /// `control` tables a newer build may have added.
    static func withMigratedOwner<Result: Sendable>(
        state: String, _ body: (Runtime, PostgresClient) async throws -> Result
    ) async throws -> Result {
        try await withOwner(state: state) { runtime, owner in
            try await Migrator(catalog: runtime.catalog, logger: runtime.logger).applyGlobal(owner)
            return try await body(runtime, owner)
        }
    }

    /// Connects once to each database the command needs (the owner's direct URL; PgBouncer's registry
    /// database and each pool group) and stops with what to fix when one is not there.
    func probe(direct: Bool = false, bouncer: Bool = false, groups: Bool = false) async throws {
        var targets: [(DatabaseURL, String)] = []
        if direct { targets.append((directURL, "NZILA_DIRECT_URL")) }
        if bouncer { targets.append((bouncerURL, "NZILA_PGBOUNCER_URL")) }
        if groups { targets += (0..<poolGroups).map { (bouncerURL.with(database: "nzila_g\($0)"), "NZILA_PGBOUNCER_URL, pool group \($0)") } }
        for (url, setting) in targets { try await StartupProbe.check(url, setting: setting, logger: logger) }
    }

    func ownerClient() -> PostgresClient {
        directURL.makeClient(maximumConnections: 8, applicationName: "nzila-control", logger: logger)
    }

    func registryClient() -> PostgresClient {
        bouncerURL.makeClient(maximumConnections: 4, applicationName: "nzila-registry", logger: logger)
    }

    /// One pool per PgBouncer pool group.
    func groupClients(connectionsPerGroup: Int) -> [PostgresClient] {
        (0..<poolGroups).map {
            bouncerURL.with(database: "nzila_g\($0)").makeClient(
                maximumConnections: connectionsPerGroup, applicationName: "nzila-data-plane", logger: logger)
        }
    }
}

/// Runs the pools in the background while `body` uses them, and shuts them down after.
func withRunning<Result: Sendable>(_ clients: [PostgresClient], _ body: () async throws -> Result) async throws -> Result {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for client in clients { group.addTask { await client.run() } }
        defer { group.cancelAll() }
        // Let the pools' run loops start before the first lease (otherwise postgres-nio warns). The
        // databases were probed (Runtime.probe) before, with what to fix if one is not there.
        try await Task.sleep(for: .milliseconds(20))
        return try await body()
    }
}

extension Runtime {
    /// JSON lines on standard output unless `NZILA_LOG_FORMAT=text`; with `devLogs` (`nzila dev`), JSON
    /// lines to its file whatever the format, and only what a person reads to the terminal. Once per
    /// process (swift-log allows one bootstrap).
    static func bootstrapLogging(_ environment: Env, devLogs: DevLogs? = nil) throws {
        try loggingBootstrapped.withLock { done in
            guard !done else { return }
            if let devLogs {
                let factory = try devLogs.makeHandlerFactory()
                LoggingSystem.bootstrap(factory)
            } else if environment.string("NZILA_LOG_FORMAT", default: "json") != "text" {
                LoggingSystem.bootstrap { JSONLogHandler(label: $0) }
            }
            done = true
        }
    }

    static let loggingBootstrapped = Mutex(false)
}
