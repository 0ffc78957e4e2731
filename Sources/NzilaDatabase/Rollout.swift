import Foundation
import Logging
import NzilaCore
import PostgresNIO

/// `nzila migrate apply` for many tenants: each tenant's pending migrations in one transaction with
/// its version record, `lock_timeout` and `statement_timeout` set; tenants in parallel; in waves (a
/// canary, a slice, the rest) with a failure budget that halts the rollout; lock timeouts retried
/// with backoff; one rollout at a time (a session advisory lock on a direct connection, released
/// even by kill -9 when the connection drops). Interrupted, a rerun picks up the tenants still
/// behind: a tenant is migrated whole or not at all. Tenants created while it runs (by an older
/// build) are picked up before it ends.
public struct Rollout: Sendable {
    public struct Options: Sendable {
        public var concurrency = 4
        public var waves: [Wave] = [.count(1), .percent(10), .percent(100)]
        /// Failed tenants tolerated before the rollout halts after the current wave.
        public var maxFailures = 0
        public var lockTimeoutMilliseconds = 5_000
        public var statementTimeoutMilliseconds = 300_000
        /// Attempts per tenant when it meets a lock timeout.
        public var lockRetries = 3

        public init() {}
    }

    public enum Wave: Sendable, Equatable, CustomStringConvertible {
        case count(Int)
        case percent(Int)

        /// "1", "10%", "100%".
        public init?(_ text: String) {
            if text.hasSuffix("%"), let value = Int(text.dropLast()), (1...100).contains(value) {
                self = .percent(value)
            } else if let value = Int(text), value >= 1 {
                self = .count(value)
            } else {
                return nil
            }
        }

        public var description: String {
            switch self {
            case .count(let n): return "\(n)"
            case .percent(let p): return "\(p)%"
            }
        }

        /// How many tenants, counted from the first, the rollout has reached by the end of this wave.
        func reach(of total: Int) -> Int {
            switch self {
            case .count(let n): return min(n, total)
            case .percent(let p): return min(total, max(1, Int((Double(total) * Double(p) / 100).rounded(.up))))
            }
        }
    }

    /// Cumulative tenant counts at the end of each wave, for `total` tenants (pure).
    public static func waveEnds(_ waves: [Wave], total: Int) -> [Int] {
        var ends: [Int] = []
        for wave in waves {
            let reach = max(wave.reach(of: total), ends.last ?? 0)
            if reach > (ends.last ?? 0) { ends.append(reach) }
        }
        if (ends.last ?? 0) < total { ends.append(total) }
        return ends
    }

    public enum Event: Sendable {
        case started(tenants: Int, latest: Int)
        case wave(number: Int, tenants: Int)
        case migrated(slug: String, from: Int, to: Int, milliseconds: Int)
        case failed(slug: String, version: Int, error: String)
        case halted(failures: Int)
        case finished(migrated: Int, failed: Int, seconds: Double)
    }

    public enum Refusal: Error, CustomStringConvertible, Equatable {
        case alreadyRunning

        public var description: String { "another migrate apply is running (it holds the rollout lock); wait for it or stop it" }
    }

    public struct Summary: Sendable, Equatable {
        public let migrated: [String]
        public let failed: [String]
        public let halted: Bool
    }

    let migrator: Migrator
    let options: Options
    let logger: Logger

    public init(migrator: Migrator, options: Options, logger: Logger) {
        self.migrator = migrator
        self.options = options
        self.logger = logger
    }

    static let lockKey = "nzila.migrate.apply"

    struct BadSlug: Error, CustomStringConvertible {
        let slug: String
        var description: String { "the registry holds an invalid slug \(slug)" }
    }

    /// Runs the rollout; `lockConnection` is a direct connection that holds the single-runner lock
    /// for the whole run.
    public func run(
        client: PostgresClient, lockConnection: PostgresConnection, only: Set<String>? = nil, report: @escaping @Sendable (Event) -> Void = { _ in }
    ) async throws -> Summary {
        let locked = try await lockConnection.query("SELECT pg_try_advisory_lock(hashtext(\(Self.lockKey)))", logger: logger).first(Bool.self)
        guard locked == .some(true) else { throw Refusal.alreadyRunning }
        // Both session locks (the rollout's own and, at its end, the provisioning barrier) go with
        // one call on this dedicated connection, whichever way the run ends.
        do {
            let summary = try await rollOut(client: client, lockConnection: lockConnection, only: only, report: report)
            _ = try? await lockConnection.query("SELECT pg_advisory_unlock_all()", logger: logger)
            return summary
        } catch {
            _ = try? await lockConnection.query("SELECT pg_advisory_unlock_all()", logger: logger)
            throw error
        }
    }

    func rollOut(
        client: PostgresClient, lockConnection: PostgresConnection, only: Set<String>?, report: @escaping @Sendable (Event) -> Void
    ) async throws -> Summary {
        let latest = migrator.catalog.latestTenantVersion
        let start = ContinuousClock.now
        var migrated: [String] = []
        var failed: [String] = []
        var attempted: Set<String> = []
        var halted = false
        var waveNumber = 0
        // Tenants behind, then unclaimed warm schemas (never a canary: they hold no data); listed again
        // after the waves for schemas created meanwhile, and a last time with provisioning held back
        // (the barrier), so a tenant created during the rollout ends at the latest version.
        var closed = false
        while !halted {
            let behind = try await (migrator.tenantVersions(client) + migrator.warmVersions(client)).filter {
                $0.version < latest && !attempted.contains($0.slug) && (only?.contains($0.slug) ?? true)
            }
            if behind.isEmpty {
                if closed { break }
                try await ProvisioningBarrier.close(lockConnection, logger: logger)
                closed = true
                continue
            }
            if waveNumber == 0 { report(.started(tenants: behind.count, latest: latest)) }
            let ends = waveNumber == 0 ? Self.waveEnds(options.waves, total: behind.count) : [behind.count]
            var from = 0
            for end in ends {
                waveNumber += 1
                let wave = Array(behind[from..<end])
                from = end
                report(.wave(number: waveNumber, tenants: wave.count))
                let results = try await migrate(wave, client: client, latest: latest, report: report)
                for (slug, ok) in results {
                    attempted.insert(slug)
                    if ok { migrated.append(slug) } else { failed.append(slug) }
                }
                if failed.count > options.maxFailures {
                    halted = true
                    report(.halted(failures: failed.count))
                    break
                }
            }
        }
        // A whole-fleet rollout that was not halted declares the fleet's version, still holding
        // provisioning back, so no older build creates a schema that would be left behind.
        if closed, only == nil, !halted { try await ProvisioningBarrier.recordFleetVersion(latest, on: lockConnection, logger: logger) }
        let elapsed = ContinuousClock.now - start
        report(.finished(migrated: migrated.count, failed: failed.count, seconds: elapsed.inSeconds))
        return Summary(migrated: migrated, failed: failed, halted: halted)
    }

    /// One wave, `concurrency` tenants at a time; returns each tenant's outcome.
    func migrate(
        _ tenants: [Migrator.TenantVersion], client: PostgresClient, latest: Int, report: @escaping @Sendable (Event) -> Void
    ) async throws -> [(String, Bool)] {
        try await withThrowingTaskGroup(of: (String, Bool).self) { group in
            var results: [(String, Bool)] = []
            var next = 0
            func launch() {
                guard next < tenants.count else { return }
                let tenant = tenants[next]
                next += 1
                group.addTask { (tenant.slug, await self.migrateOne(tenant, client: client, latest: latest, report: report)) }
            }
            for _ in 0..<max(1, options.concurrency) { launch() }
            while let result = try await group.next() {
                results.append(result)
                launch()
            }
            return results
        }
    }

    /// One tenant, whole or not at all; lock timeouts are retried with backoff. Records the outcome.
    func migrateOne(_ tenant: Migrator.TenantVersion, client: PostgresClient, latest: Int, report: @Sendable (Event) -> Void) async -> Bool {
        let started = ContinuousClock.now
        var attempt = 0
        while true {
            attempt += 1
            do {
                guard let names = tenant.names else { throw BadSlug(slug: tenant.slug) }
                // Transactional runs up to each non-transactional migration, that one on its own, and
                // so on: the version record moves with each step, so an interruption leaves the
                // tenant whole at the last finished step.
                var from: Int?
                while true {
                    let reached = try await transactionalStep(tenant, names: names, client: client, latest: latest)
                    if from == nil { from = reached.from }
                    guard let next = reached.nonTransactional else { break }
                    try await nonTransactionalStep(next, tenant: tenant, names: names, client: client)
                }
                if !tenant.isWarm {
                    try await client.statement("DELETE FROM control.tenant_migration_failures WHERE tenant_id = \(tenant.id)", logger: logger) { _ in }
                }
                let elapsed = ContinuousClock.now - started
                Observability.record("nzila_tenant_migration_duration_seconds", [("result", "migrated")],
                                     seconds: elapsed.inSeconds)
                report(.migrated(slug: tenant.slug, from: from ?? latest, to: latest, milliseconds: Int(elapsed.components.seconds * 1000) + Int(elapsed.components.attoseconds / 1_000_000_000_000_000)))
                return true
            } catch {
                let state = DatabaseErrors.sqlState(error)
                if state == "55P03", attempt < options.lockRetries {
                    Observability.count("nzila_db_transaction_retries_total", [("operation", "tenant-migration"), ("sqlstate", "55P03")])
                    try? await Task.sleep(for: .milliseconds(200 * (1 << attempt)))
                    continue
                }
                let message = Self.describe(error)
                Observability.count("nzila_tenant_migration_failures_total")
                // A warm schema has no registry row to hang a failure on; it stays behind (never claimed)
                // and the event reports it.
                if !tenant.isWarm {
                _ = try? await client.statement(
                    """
                    INSERT INTO control.tenant_migration_failures (tenant_id, version, error, attempts) VALUES (\(tenant.id), \(latest), \(message), 1)
                    ON CONFLICT (tenant_id) DO UPDATE SET version = EXCLUDED.version, error = EXCLUDED.error, failed_at = clock_timestamp(),
                        attempts = control.tenant_migration_failures.attempts + 1
                    """, logger: logger
                ) { _ in }
                }
                report(.failed(slug: tenant.slug, version: latest, error: message))
                return false
            }
        }
    }

    /// One transaction: the tenant's pending transactional migrations up to the next
    /// non-transactional one (or the latest), with the version record. Returns the version it
    /// started from and the non-transactional migration that comes next, if any.
    func transactionalStep(_ tenant: Migrator.TenantVersion, names: TenantSchemaNames, client: PostgresClient, latest: Int) async throws
        -> (from: Int?, nonTransactional: Migration?)
    {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query(
                """
                SELECT set_config('lock_timeout', \("\(options.lockTimeoutMilliseconds)ms"), true),
                       set_config('statement_timeout', \("\(options.statementTimeoutMilliseconds)ms"), true)
                """, logger: logger)
            let current = try await connection.query(
                "SELECT schema_version FROM \(unescaped: tenant.registryTable) WHERE id = \(tenant.id) FOR UPDATE", logger: logger
            ).first(Int.self) ?? latest
            guard current < latest else { return (nil, nil) }
            let next = migrator.catalog.migrations(.tenant).first { $0.version > current && $0.isNonTransactional }
            let target = next.map { $0.version - 1 } ?? latest
            if target > current {
                try await migrator.migrateTenantSchema(connection, names: names, tenantID: tenant.id, fromVersion: current, toVersion: target)
                try await connection.query(
                    "UPDATE \(unescaped: tenant.registryTable) SET schema_version = \(target), updated_at = clock_timestamp() WHERE id = \(tenant.id)", logger: logger)
            }
            return (current, next)
        }
    }

    /// A non-transactional migration on one tenant: each statement on its own on a direct connection
    /// (session settings reset afterwards). An index a crashed run left INVALID is dropped and built
    /// again; one already built is kept. Then the version record, under the registry row lock.
    func nonTransactionalStep(_ migration: Migration, tenant: Migrator.TenantVersion, names: TenantSchemaNames, client: PostgresClient) async throws {
        try await client.withConnection { connection in
            do {
                try await connection.query(
                    """
                    SELECT set_config('search_path', \(names.schema), false), set_config('app.tenant_id', \(tenant.id.uuidString), false),
                           set_config('lock_timeout', \("\(options.lockTimeoutMilliseconds)ms"), false),
                           set_config('statement_timeout', \("\(options.statementTimeoutMilliseconds)ms"), false)
                    """, logger: logger)
                for statement in migration.statements {
                    if let index = Self.concurrentIndexName(statement) {
                        let valid = try await connection.query(
                            """
                            SELECT x.indisvalid FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                            WHERE i.relname = \(index) AND i.relnamespace = \(names.schema)::regnamespace
                            """, logger: logger
                        ).first(Bool.self)
                        if valid == true { continue }
                        if valid == false {
                            try await connection.query(PostgresQuery(unsafeSQL: "DROP INDEX CONCURRENTLY \(names.schema).\(index)"), logger: logger)
                        }
                    }
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("RESET ALL", logger: logger)
            } catch {
                _ = try? await connection.query("RESET ALL", logger: logger)
                throw error
            }
        }
        try await client.withTransaction(logger: logger) { connection in
            let current = try await connection.query(
                "SELECT schema_version FROM \(unescaped: tenant.registryTable) WHERE id = \(tenant.id) FOR UPDATE", logger: logger
            ).first(Int.self)
            guard current == migration.version - 1 else { return }
            try await connection.query(
                "UPDATE \(unescaped: tenant.registryTable) SET schema_version = \(migration.version), updated_at = clock_timestamp() WHERE id = \(tenant.id)", logger: logger)
        }
    }

    /// The index a `CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] name` statement builds.
    public static func concurrentIndexName(_ statement: String) -> String? {
        let statement = statement.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("--") }.joined(separator: "\n")
        let pattern = #"(?i)^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?([a-z_][a-z0-9_]*)"#
        guard let regex = try? NSRegularExpression(pattern: pattern),
            let match = regex.firstMatch(in: statement, range: NSRange(statement.startIndex..., in: statement)),
            let range = Range(match.range(at: 1), in: statement)
        else { return nil }
        return String(statement[range]).lowercased()
    }

    /// The server's message for a database error (SQLSTATE and text), else the error itself.
    static func describe(_ error: any Error) -> String {
        let inner = (error as? PostgresTransactionError)?.cause ?? error
        if let psql = inner as? PSQLError, let message = psql.serverInfo?[.message] {
            return "\(psql.serverInfo?[.sqlState] ?? "?????"): \(message)"
        }
        return String(describing: inner).prefix(500).description
    }
}
