import ArgumentParser
import Ledger
import ControlPlane
import DataPlane
import Foundation
import NzilaCore
import NzilaDatabase
import PostgresNIO
import Tontine

struct Tenants: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list and show tenants directly against the database (operator tool).",
        subcommands: [Create.self, List.self, Show.self, VerifyLedger.self, Purge.self, Export.self, Import.self, WebhookSecret.self])

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Drop an offboarded tenant's role and schema, after its retention period and only if its export verifies.")
        @OptionGroup var state: StateOptions
        @Argument(help: "The tenant's slug.") var slug: String
        @Option(help: "Days an offboarded tenant is kept before it may be purged (env NZILA_OFFBOARD_RETENTION_DAYS).")
        var retentionDays = Env().int("NZILA_OFFBOARD_RETENTION_DAYS", default: 30)

        func run() async throws {
            let slug = try TenantSlug(slug)
            let export = try await Runtime.withOwner(state: state.state) { runtime, owner in
                // Retention is business time: on a `nzila dev --test-clock` stack, the stack's clock.
                let clock = try await stackClock(runtime, owner)
                return try await tools(runtime, owner, clock: clock).purge(slug, retentionDays: retentionDays, actor: NSUserName())
            }
            print("purged \(slug.value): role and schema dropped; its export stays at \(export.path)")
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a copy of a serving tenant for staging or support, its personal data replaced by format-preserving tokens.",
            discussion: """
                Names, emails, phone numbers, document hints, device ids, notes, recipients, screening subjects and linked \
                accounts become tokens of the same shape, the same value the same token within this export (under a key \
                made for it and then forgotten). Password hashes are replaced; sealed fields stay sealed under keys only \
                production's master unwraps. The copy is taken from one snapshot without holding the tenant's writes back, \
                and `nzila tenants import` restores it. A copy with personal data in the clear is only made by offboarding.
                """)
        @OptionGroup var state: StateOptions
        @Argument(help: "The tenant's slug.") var slug: String
        @Flag(help: "Replace personal data by tokens (required).") var tokenizePii = false
        @Option(help: "The folder the export is written under (default: the exports folder).") var into: String?

        func run() async throws {
            guard tokenizePii else { throw ValidationError("say --tokenize-pii: a copy with personal data in the clear is only made by offboarding") }
            let slug = try TenantSlug(slug)
            let (archive, manifest, hash) = try await Runtime.withMigratedOwner(state: state.state) { runtime, owner in
                let found = try await owner.statement(
                    "SELECT id FROM control.tenants WHERE slug = \(slug.value) AND purged_at IS NULL", logger: runtime.logger
                ) { rows in try await rows.first(UUID.self) }
                guard let id = found else { throw Refused(description: "no tenant \(slug.value)") }
                let directory = into.map { URL(fileURLWithPath: $0, isDirectory: true) } ?? runtime.exportDirectory
                let made = try await TenantArchive.export(
                    tenant: id, slug: slug, tables: runtime.catalog.tenantTables, into: directory, client: owner, logger: runtime.logger,
                    tokenizer: PIITokenizer(), lock: false)
                try await owner.statement(
                    """
                    INSERT INTO control.audit_log (actor, actor_role, tenant_id, action, target, detail)
                    VALUES (NULL, 'operator', \(id), 'tenant.export_tokenized', \("tenant:\(slug.value)"),
                            jsonb_build_object('operator', \(NSUserName())::text, 'folder', \(made.0.folder.path)::text, 'manifest_sha256', \(made.2)::text))
                    """, logger: runtime.logger) { _ in }
                return made
            }
            let rows = manifest.tables.reduce(0) { $0 + $1.rows }
            print("exported \(slug.value) with personal data tokenized: \(manifest.tables.count) tables, \(rows) rows, in \(archive.folder.path) (manifest sha256 \(hash))")
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Restore a tenant export into a new tenant.")
        @OptionGroup var state: StateOptions
        @Argument(help: "The export folder (it holds manifest.json).") var archive: String
        @Option(help: "The new tenant's slug.") var slug: String
        @Option(help: "Its name (default: the exported tenant's).") var name: String?

        func run() async throws {
            let slug = try TenantSlug(slug)
            let record = try await Runtime.withOwner(state: state.state) { runtime, owner in
                try await tools(runtime, owner).importArchive(
                    TenantArchive(folder: URL(fileURLWithPath: archive, isDirectory: true)), as: slug, name: name, actor: NSUserName())
            }
            print(String(decoding: try JSONEncoder.api.encode(record), as: UTF8.self))
        }
    }

    /// The platform clock of the stack: on a `nzila dev --test-clock` stack its stored offset, else the system's.
    static func stackClock(_ runtime: Runtime, _ owner: PostgresClient) async throws -> NzilaCore.Clock {
        let offset = try await TestClockRegistry.offset(owner, logger: runtime.logger)
        return offset > 0 ? .movable(MovableClock(offsetSeconds: Double(offset) / 1_000_000)) : .system
    }

    static func tools(_ runtime: Runtime, _ owner: PostgresClient, clock: NzilaCore.Clock = .system) -> TenantLifecycleTools {
        TenantLifecycleTools(
            client: owner, provisioner: Provisioner(migrator: Migrator(catalog: runtime.catalog, logger: runtime.logger), poolGroups: runtime.poolGroups),
            projectRoot: runtime.root, clock: clock, logger: runtime.logger)
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Provision a tenant in one transaction, or many from a CSV file (slug,name[,template]) with progress and a report.")
        @OptionGroup var state: StateOptions
        @Option(help: "Slug: ^[a-z][a-z0-9_]{2,39}$") var slug: String?
        @Option(help: "Display name") var name: String?
        @Option(help: "Template in TenantTemplates/") var template = "default"
        @Option(help: "A CSV file with a header line: slug,name and optionally template.") var fromFile: String?
        @Option(help: "Tenants provisioned at once (with --from-file).") var concurrency = 4

        func validate() throws {
            guard (fromFile == nil) != (slug == nil && name == nil) else { throw ValidationError("give --slug and --name, or --from-file") }
            if fromFile == nil, slug == nil || name == nil { throw ValidationError("give both --slug and --name") }
        }

        func run() async throws {
            if let fromFile {
                let report = try await Runtime.withOwner(state: state.state) { runtime, owner in
                    try await BulkProvisioning(runtime: runtime, owner: owner, concurrency: concurrency).run(file: fromFile, defaultTemplate: template)
                }
                if report.failed > 0 { throw ExitCode(1) }
                return
            }
            guard let slugText = slug, let name else { return }
            let slug = try TenantSlug(slugText)
            let record = try await Runtime.withOwner(state: state.state) { runtime, owner in
                let template = try TenantTemplate.load(named: template, from: runtime.root, tenantName: name)
                let provisioner = Provisioner(migrator: Migrator(catalog: runtime.catalog, logger: runtime.logger), poolGroups: runtime.poolGroups)
                return try await owner.withTransaction(logger: runtime.logger) { connection in
                    try await provisioner.provision(id: UUID(), slug: slug, name: name, template: template, on: connection, logger: runtime.logger)
                }
            }
            print(String(decoding: try JSONEncoder.api.encode(record), as: UTF8.self))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tenants.")
        @OptionGroup var state: StateOptions

        func run() async throws {
            try await Runtime.withOwner(state: state.state) { runtime, owner in
                let rows = try await owner.statement(
                    "SELECT slug, name, status, schema_version, pool_group FROM control.tenants ORDER BY slug", logger: runtime.logger
                ) { try await $0.all((String, String, String, Int, Int).self) }
                for (slug, name, status, version, group) in rows {
                    print("\(slug)\t\(status)\tv\(version)\tgroup \(group)\t\(name)")
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one tenant and its current configuration.")
        @OptionGroup var state: StateOptions
        @Argument var slug: String

        func run() async throws {
            try await Runtime.withOwner(state: state.state) { runtime, owner in
                let row = try await owner.statement(
                    """
                    SELECT row_to_json(t)::text, (SELECT config::text FROM control.tenant_config_versions c
                        WHERE c.tenant_id = t.id ORDER BY version DESC LIMIT 1)
                    FROM control.tenants t WHERE slug = \(slug)
                    """, logger: runtime.logger
                ) { try await $0.first((String, String?).self) }
                guard let (tenant, config) = row else { throw ValidationError("no tenant \(slug)") }
                print(tenant)
                print(config ?? "{}")
            }
        }
    }

    struct WebhookSecret: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "webhook-secret",
            abstract: "Print a tenant's signing secret for a webhook provider (derived from the master key; give it to the provider only).")
        @OptionGroup var state: StateOptions
        @Argument(help: "Tenant slug") var slug: String
        @Option(help: "The provider as it appears in /v1/webhooks/funding/{provider}") var provider = "interac-sandbox"

        func run() async throws {
            let secret = try await Runtime.withOwner(state: state.state) { runtime, owner in
                guard let id = try await owner.statement("SELECT id FROM control.tenants WHERE slug = \(slug)", logger: runtime.logger, { try await $0.first(UUID.self) }) else {
                    throw ValidationError("no tenant \(slug)")
                }
                return DataPlane.webhookSecret(try await runtime.platformSecrets(owner, mayCreate: true), tenantID: TenantID(id), provider: provider)
            }
            print(secret)
        }
    }

    struct VerifyLedger: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify-ledger",
            abstract: "Recompute balances from entries and check every journal sums to zero; exit 1 and name what is wrong.")
        @OptionGroup var state: StateOptions
        @Argument(help: "Tenant slug (or use --all)") var slug: String?
        @Flag(help: "Every tenant") var all = false

        func validate() throws {
            guard (slug != nil) != all else { throw ValidationError("name one tenant or pass --all") }
        }

        func run() async throws {
            let problems = try await Runtime.withOwner(state: state.state) { runtime, owner in
                let tenants = try await owner.statement("SELECT id, slug FROM control.tenants WHERE purged_at IS NULL ORDER BY slug", logger: runtime.logger)
                     { try await $0.all((UUID, String).self) }.filter { all || $0.1 == slug }
                guard !tenants.isEmpty else { throw ValidationError("no tenant \(slug ?? "")") }
                var count = 0
                for (id, name) in tenants {
                    let findings = try await owner.withTransaction(logger: runtime.logger) { connection in
                        try await connection.query("SET TRANSACTION READ ONLY", logger: runtime.logger)
                        return try await LedgerVerifier(checks: DataPlane.ledgerChecks).verify(slug: try TenantSlug(name), tenantID: id, on: connection, logger: runtime.logger)
                    }
                    print(findings.isEmpty ? "ok       \(name)" : "FAILED   \(name)")
                    for finding in findings { print("  \(finding)") }
                    count += findings.count
                }
                return count
            }
            if problems > 0 { throw ExitCode(1) }
        }
    }
}

/// `nzila tenants create --from-file`: many tenants, each in its own transaction, a few at a time,
/// with a line per tenant and a report; one failure does not stop the others.
struct BulkProvisioning {
    let runtime: Runtime
    let owner: PostgresClient
    let concurrency: Int

    struct Report {
        var created = 0
        var failed = 0
    }

    struct Row: Sendable {
        let line: Int
        let slug: String
        let name: String
        let template: String
    }

    func run(file: String, defaultTemplate: String) async throws -> Report {
        let rows = try Self.rows(String(contentsOfFile: file, encoding: .utf8), defaultTemplate: defaultTemplate)
        let provisioner = Provisioner(migrator: Migrator(catalog: runtime.catalog, logger: runtime.logger), poolGroups: runtime.poolGroups)
        let start = ContinuousClock.now
        var report = Report()
        print("provisioning \(rows.count) tenant(s) from \(file), \(concurrency) at a time")
        try await withThrowingTaskGroup(of: (Row, Result<Duration, any Error>).self) { group in
            var next = 0
            func launch() {
                guard next < rows.count else { return }
                let row = rows[next]
                next += 1
                group.addTask { [runtime, owner] in
                    let began = ContinuousClock.now
                    do {
                        let slug = try TenantSlug(row.slug)
                        let template = try TenantTemplate.load(named: row.template, from: runtime.root, tenantName: row.name)
                        _ = try await owner.withTransaction(logger: runtime.logger) { connection in
                            try await provisioner.provision(id: UUID(), slug: slug, name: row.name, template: template, on: connection, logger: runtime.logger)
                        }
                        return (row, .success(ContinuousClock.now - began))
                    } catch {
                        return (row, .failure(error))
                    }
                }
            }
            for _ in 0..<max(1, concurrency) { launch() }
            while let (row, outcome) = try await group.next() {
                switch outcome {
                case .success(let took):
                    report.created += 1
                    print("created  \(row.slug) (\(took.components.seconds * 1000 + took.components.attoseconds / 1_000_000_000_000_000) ms)")
                case .failure(let error):
                    report.failed += 1
                    let reason = (error as? PostgresTransactionError)?.cause ?? error
                    print("failed   \(row.slug) (line \(row.line)): \((reason as? Problem)?.detail ?? "\(reason)")")
                }
                launch()
            }
        }
        let elapsed = ContinuousClock.now - start
        let seconds = elapsed.inSeconds
        print(String(format: "created %d, failed %d, in %.2f s (%.1f tenants/s)", report.created, report.failed, seconds, seconds > 0 ? Double(report.created) / seconds : 0))
        return report
    }

    /// The rows of the CSV: a header naming slug and name (template optional), then one tenant a line.
    static func rows(_ text: String, defaultTemplate: String) throws -> [Row] {
        let lines = CSV.records(text)
        guard let header = lines.first?.map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }),
            let slugColumn = header.firstIndex(of: "slug"), let nameColumn = header.firstIndex(of: "name")
        else { throw Refused(description: "the first line must name the columns: slug,name[,template]") }
        let templateColumn = header.firstIndex(of: "template")
        return lines.dropFirst().enumerated().compactMap { offset, fields in
            guard fields.count > max(slugColumn, nameColumn) else { return nil }
            let template = templateColumn.flatMap { $0 < fields.count ? fields[$0] : nil }.flatMap { $0.isEmpty ? nil : $0 } ?? defaultTemplate
            return Row(line: offset + 2, slug: fields[slugColumn].trimmingCharacters(in: .whitespaces), name: fields[nameColumn], template: template)
        }
    }
}
