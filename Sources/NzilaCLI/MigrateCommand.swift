import ArgumentParser
import Foundation
import NzilaCore
import NzilaDatabase
import PostgresNIO
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show or apply migrations of the control, reference and tenant schemas.", subcommands: [Plan.self, Status.self, Apply.self, Drift.self])

    struct Plan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "For every tenant, its version and the migrations it lacks; flags statements that rewrite or scan a table or block writes, with table sizes.")
        @OptionGroup var state: StateOptions

        func run() async throws {
            try await Runtime.withOwner(state: state.state) { runtime, owner in
                let migrator = Migrator(catalog: runtime.catalog, logger: runtime.logger)
                for status in try await migrator.globalStatus(owner) where !status.applied {
                    print("global   \(status.migration.kind.rawValue)/\(status.migration.name) pending")
                }
                let latest = runtime.catalog.latestTenantVersion
                let behind = try await migrator.tenantVersions(owner).filter { $0.version < latest }
                let warmBehind = try await migrator.warmVersions(owner).filter { $0.version < latest }.count
                print("tenant schemas behind version \(latest): \(behind.count)\(warmBehind > 0 ? " (and \(warmBehind) unclaimed warm schema(s))" : "")")
                for (version, tenants) in Dictionary(grouping: behind, by: \.version).sorted(by: { $0.key < $1.key }) {
                    let pending = runtime.catalog.migrations(.tenant).filter { $0.version > version }
                    print("\n\(tenants.count) tenant(s) at version \(version) lack: \(pending.map(\.name).joined(separator: ", "))")
                    let schemas = tenants.compactMap { try? TenantSlug($0.slug).schemaName }
                    for migration in pending {
                        for warning in migration.statements.flatMap(MigrationLint.warnings) {
                            var line = "  \(migration.name): \(warning)"
                            if let table = warning.table {
                                let sizes = try await owner.statement(
                                    """
                                    SELECT n.nspname::text, c.reltuples::int8, pg_total_relation_size(c.oid)::int8 FROM pg_class c
                                    JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY(\(schemas)) AND c.relname = \(table)
                                    ORDER BY pg_total_relation_size(c.oid) DESC
                                    """, logger: runtime.logger
                                ) { try await $0.all((String, Int64, Int64).self) }
                                if let largest = sizes.first {
                                    let total = sizes.reduce(Int64(0)) { $0 + $1.2 }
                                    line += " — largest \(largest.0).\(table): ~\(max(largest.1, 0)) rows, \(Self.bytes(largest.2)); all \(sizes.count): \(Self.bytes(total))"
                                }
                            }
                            print(line)
                        }
                    }
                }
            }
        }

        static func bytes(_ value: Int64) -> String {
            let units = ["B", "kB", "MB", "GB", "TB"]
            var size = Double(value)
            var unit = 0
            while size >= 1024, unit < units.count - 1 {
                size /= 1024
                unit += 1
            }
            return unit == 0 ? "\(value) B" : String(format: "%.1f %@", size, units[unit])
        }
    }

    struct Drift: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare every tenant schema at the latest version with what the migrations produce; exit 1 naming each difference.")
        @OptionGroup var state: StateOptions
        @Option(help: "Only these tenants (comma-separated slugs).") var only: String?

        func run() async throws {
            let (compared, findings) = try await Runtime.withOwner(state: state.state) { runtime, owner in
                try await DriftCheck(migrator: Migrator(catalog: runtime.catalog, logger: runtime.logger), logger: runtime.logger).check(
                    client: owner, only: slugList(only))
            }
            for finding in findings { print(finding) }
            print("compared \(compared.count) tenant schema(s): \(findings.isEmpty ? "no drift" : "\(findings.count) difference(s) in \(Set(findings.map(\.tenant)).count) tenant(s)")")
            if !findings.isEmpty { throw ExitCode(1) }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Global migrations, tenants per schema version, and the tenants a rollout could not migrate with their last error.")
        @OptionGroup var state: StateOptions

        func run() async throws {
            try await Runtime.withOwner(state: state.state) { runtime, owner in
                let migrator = Migrator(catalog: runtime.catalog, logger: runtime.logger)
                for status in try await migrator.globalStatus(owner) {
                    print("\(status.applied ? "applied" : "pending")  \(status.migration.kind.rawValue)/\(status.migration.name)")
                }
                let latest = runtime.catalog.latestTenantVersion
                let tenants = try await migrator.tenantVersions(owner)
                print("tenant schemas: \(tenants.count), latest version \(latest)")
                for (version, count) in Dictionary(grouping: tenants, by: \.version).mapValues(\.count).sorted(by: { $0.key > $1.key }) {
                    print("  version \(version): \(count)\(version == latest ? " (latest)" : "")")
                }
                let warm = try await WarmPool.counts(owner, logger: runtime.logger)
                print("warm pool: \(warm.reduce(0) { $0 + $1.schemas }) unclaimed schema(s)"
                    + warm.map { " — \($0.schemas) at version \($0.version)\($0.version == latest ? "" : " (migrated by the next apply)")" }.joined())
                let failures = try await FleetStatus.migrationFailures(owner, logger: runtime.logger)
                if !failures.isEmpty { print("failed tenants: \(failures.count)") }
                for failure in failures {
                    print("  \(failure.slug) at version \(failure.schemaVersion), failed to reach \(failure.target) (\(failure.attempts)x, last \(failure.failedAt.rfc3339)): \(failure.error)")
                }
            }
        }
    }

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply pending global migrations, then bring every tenant schema up to date, in waves.",
            discussion: """
                Each tenant's pending migrations run in one transaction with its version record, so a tenant is migrated whole or \
                not at all; interrupted, a rerun picks up the tenants still behind. Only one apply runs at a time.
                """)
        @OptionGroup var state: StateOptions
        @Option(help: "Tenants migrated at once.") var concurrency = 4
        @Option(help: "Cumulative waves: a count or a percentage of the tenants behind.") var waves = "1,10%,100%"
        @Option(help: "Failed tenants tolerated before the rollout halts after the current wave.") var maxFailures = 0
        @Option(help: "lock_timeout per tenant transaction, in milliseconds (lock timeouts are retried with backoff).")
        var lockTimeoutMs = 5_000
        @Option(help: "statement_timeout per tenant transaction, in milliseconds.") var statementTimeoutMs = 300_000
        @Option(help: "Only these tenants (comma-separated slugs).") var only: String?
        @Flag(help: "One JSON object a line for each event, for automation.") var json = false

        func run() async throws {
            var options = Rollout.Options()
            options.concurrency = max(1, concurrency)
            options.maxFailures = max(0, maxFailures)
            options.lockTimeoutMilliseconds = lockTimeoutMs
            options.statementTimeoutMilliseconds = statementTimeoutMs
            let parsed = waves.split(separator: ",").map { Rollout.Wave(String($0).trimmingCharacters(in: .whitespaces)) }
            guard !parsed.isEmpty, parsed.allSatisfy({ $0 != nil }) else { throw ValidationError("--waves takes counts and percentages, such as 1,10%,100%") }
            options.waves = parsed.compactMap { $0 }
            let summary = try await Runtime.withOwner(state: state.state) { runtime, owner in
                let migrator = Migrator(catalog: runtime.catalog, logger: runtime.logger)
                for migration in try await migrator.applyGlobal(owner) {
                    if !json { Progress.write("applied  \(migration.kind.rawValue)/\(migration.name)\n") }
                }
                let lock = try await runtime.directURL.connect(applicationName: "nzila-migrate", logger: runtime.logger)
                defer { Task { try? await lock.close() } }
                let progress = Progress(json: json, terminal: isatty(1) != 0)
                return try await Rollout(migrator: migrator, options: options, logger: runtime.logger).run(
                    client: owner, lockConnection: lock, only: slugList(only), report: progress.report)
            }
            if summary.halted || !summary.failed.isEmpty { throw ExitCode(1) }
        }
    }
}

/// `--only a,b,c` as a set of slugs (nil: every tenant).
func slugList(_ option: String?) -> Set<String>? {
    option.map { Set($0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }) }
}

/// What `migrate apply` prints: a live line on a terminal, plain lines otherwise, JSON lines with --json.
final class Progress: Sendable {
    struct State {
        var total = 0
        var done = 0
        var failed = 0
        var started = ContinuousClock.now
    }

    let json: Bool
    let terminal: Bool
    let state = Mutex(State())

    init(json: Bool, terminal: Bool) {
        self.json = json
        self.terminal = terminal
    }

    var report: @Sendable (Rollout.Event) -> Void { { [self] in handle($0) } }

    func handle(_ event: Rollout.Event) {
        let line = state.withLock { state -> String? in
            switch event {
            case .started(let tenants, let latest):
                state.total = tenants
                state.started = .now
                return json ? Self.json(["event": "started", "tenants": tenants, "latest": latest]) : "tenants behind: \(tenants), migrating to version \(latest)"
            case .wave(let number, let tenants):
                return json ? Self.json(["event": "wave", "wave": number, "tenants": tenants]) : terminal ? nil : "wave \(number): \(tenants) tenant(s)"
            case .migrated(let slug, let from, let to, let ms):
                state.done += 1
                if json { return Self.json(["event": "migrated", "tenant": slug, "from": from, "to": to, "ms": ms]) }
                return terminal ? Self.live(state) : nil
            case .failed(let slug, let version, let error):
                state.failed += 1
                if json { return Self.json(["event": "failed", "tenant": slug, "version": version, "error": error]) }
                // On a terminal it clears the live line and keeps its own line.
                return terminal ? "\r\u{1B}[Kfailed   \(slug): \(error)\n" : "failed   \(slug): \(error)"
            case .halted(let failures):
                return json ? Self.json(["event": "halted", "failures": failures]) : "\nhalted: \(failures) failure(s), over the budget"
            case .finished(let migrated, let failed, let seconds):
                if json { return Self.json(["event": "finished", "migrated": migrated, "failed": failed, "seconds": seconds]) }
                let rate = seconds > 0 ? Double(migrated) / seconds : 0
                return (terminal ? "\n" : "") + String(format: "migrated %d tenant(s), %d failed, in %.2f s (%.1f tenants/s)", migrated, failed, seconds, rate)
            }
        }
        guard let line else { return }
        // Unbuffered, so a live line shows at once; it ends without a newline so the next overwrites it.
        let live = terminal && !json && line.hasPrefix("\r")
        Self.write(live ? line : line + "\n")
    }

    /// "\r 120/400 done, 1 failed, 279 left, 85.3/s, ETA 3 s".
    static func live(_ state: State) -> String {
        let elapsed = ContinuousClock.now - state.started
        let seconds = elapsed.inSeconds
        let rate = seconds > 0 ? Double(state.done) / seconds : 0
        let left = state.total - state.done - state.failed
        let eta = rate > 0 ? String(format: "%.0f s", Double(left) / rate) : "?"
        return String(format: "\r\u{1B}[K%d/%d done, %d failed, %d left, %.1f/s, ETA %@", state.done, state.total, state.failed, left, rate, eta)
    }

    /// Unbuffered standard output (print buffers, and the two would interleave out of order).
    static func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    static func json(_ object: [String: Any]) -> String {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
