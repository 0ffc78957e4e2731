import ArgumentParser
import Compliance
import Foundation
import NzilaCore
import Logging
import NzilaDatabase
import PostgresNIO
import Remittance
import Trading

/// `nzila reference`: platform reference data every tenant reads.
struct Reference: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load platform reference data: sanctions and PEP lists, remittance corridors, FX mid rates, market instruments and the trading academy.",
        subcommands: [LoadSanctions.self, ListVersions.self, ActivateList.self, LoadCorridors.self, LoadRates.self, RefreshRates.self, LoadInstruments.self, LoadAcademy.self])

    struct LoadAcademy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "load-academy",
            abstract: "Check and load the trading academy's courses (Content/academy is the shipped set): a course's lessons are replaced whole.")
        @OptionGroup var state: StateOptions
        @Argument(help: "the folder of courses, one sub-folder each with course.yaml and <lesson>.<en|fr>.md") var folder: String = "Content/academy"

        func run() async throws {
            let courses: [Academy.Course]
            switch Academy.courses(root: URL(fileURLWithPath: folder)) {
            case .success(let parsed): courses = parsed
            case .failure(let refused):
                for problem in refused.problems { print("\(folder): \(problem)") }
                throw ExitCode(2)
            }
            try await Runtime.withMigratedOwner(state: state.state) { runtime, owner in
                try await AcademyStore.save(courses: courses, client: owner, logger: runtime.logger)
            }
            let lessons = courses.reduce(0) { $0 + $1.lessons.count }
            print("loaded \(courses.count) course(s), \(lessons) lesson(s): \(courses.map(\.id).joined(separator: ", "))")
        }
    }

    struct LoadInstruments: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "load-instruments",
            abstract: "Add or update paper trading's instruments and their exchanges' rules (ReferenceData/instruments.csv is the shipped one).")
        @OptionGroup var state: StateOptions
        @Argument(help: "the instruments file: see docs/TRADING.md for its columns") var file: String

        func run() async throws {
            let instruments: [Instrument]
            switch InstrumentsFile.parse(try String(contentsOfFile: file, encoding: .utf8)) {
            case .success(let parsed): instruments = parsed
            case .failure(let refused):
                for problem in refused.problems { print("\(file): \(problem)") }
                throw ExitCode(2)
            }
            try await Runtime.withMigratedOwner(state: state.state) { runtime, owner in
                try await MarketReference.save(instruments: instruments, client: owner, logger: runtime.logger)
            }
            let exchanges = Dictionary(grouping: instruments, by: \.exchange).map { "\($0.key) \($0.value.count)" }.sorted()
            print("loaded \(instruments.count) instrument(s): \(exchanges.joined(separator: ", "))")
        }
    }

    struct LoadCorridors: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "load-corridors", abstract: "Add or update remittance corridors from a CSV (ReferenceData/corridors.csv is the shipped one).")
        @OptionGroup var state: StateOptions
        @Argument(help: "code,payout_methods,partners,min_send_minor,max_send_minor,active") var file: String

        func run() async throws {
            let corridors = try RemittanceReference.corridors(csv: try String(contentsOfFile: file, encoding: .utf8))
            try await Runtime.withMigratedOwner(state: state.state) { runtime, owner in
                try await RemittanceReference.save(corridors: corridors, client: owner, logger: runtime.logger)
            }
            print("loaded \(corridors.count) corridor(s): \(corridors.map(\.code).joined(separator: ", "))")
        }
    }

    struct LoadRates: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "load-rates", abstract: "Set FX mid rates from a CSV of exact decimals (ReferenceData/fx_rates.csv is the shipped one).")
        @OptionGroup var state: StateOptions
        @Argument(help: "base,quote,mid_rate — decimal strings with at least 8 significant digits") var file: String

        func run() async throws {
            let rates = try RemittanceReference.rates(csv: try String(contentsOfFile: file, encoding: .utf8))
            try await Runtime.withMigratedOwner(state: state.state) { runtime, owner in
                try await RemittanceReference.save(rates: rates, source: "file:\(URL(fileURLWithPath: file).lastPathComponent)", client: owner, logger: runtime.logger)
            }
            print("loaded \(rates.count) mid rate(s)")
        }
    }

    struct RefreshRates: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "refresh-rates",
            abstract: "Take the current mid rates from a rate feed (the deterministic simulated feed, anchored on ReferenceData/fx_rates.csv).")
        @OptionGroup var state: StateOptions

        func run() async throws {
            try await Runtime.withOwner(state: state.state) { runtime, owner in
                let anchors = try RemittanceReference.rates(
                    csv: try String(contentsOf: runtime.root.appendingPathComponent("ReferenceData/fx_rates.csv"), encoding: .utf8))
                let feed = SimulatedRateFeed(anchors: anchors)
                let rates = try await feed.rates(at: Clock.system.now())
                try await RemittanceReference.save(rates: rates, source: "feed:\(feed.name)", client: owner, logger: runtime.logger)
                for rate in rates { print("\(rate.base.code)-\(rate.quote.code) \(rate.rate.decimal)") }
            }
        }
    }

    struct LoadSanctions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "load-sanctions",
            abstract: "Load a sanctions or PEP list from its publisher's file as a new version of that list.",
            discussion: """
                Formats: ofac-csv (sdn.csv, with alt.csv and add.csv read from the same folder), ofac-xml (sdn.xml), un-xml \
                (the UN consolidated list), eu-xml (the EU financial sanctions export), sema-xml (Canada's SEMA list), pep-csv \
                (id,name,aliases,date_of_birth,country,position). A loaded version is the one screened against, on every data plane \
                within seconds, until another is loaded or activated (activate-list); loading the same file again changes \
                nothing. Sample files: ReferenceData/sanctions.
                """)
        @OptionGroup var state: StateOptions
        @Argument(help: "The list file.") var file: String
        @Option(help: "ofac-csv, ofac-xml, un-xml, eu-xml, sema-xml or pep-csv.") var format: String
        @Flag(help: "Do not rescreen members against the new version (run nzila compliance rescreen later).") var noRescreen = false

        func run() async throws {
            guard let format = ListFormat(rawValue: format) else {
                throw ValidationError("--format must be one of \(ListFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let list = try ListLoader.load(URL(fileURLWithPath: file), format: format)
            let saved = try await Runtime.withMigratedOwner(state: state.state) { runtime, owner in
                return try await ScreeningLists.save(list, loadedBy: "cli:\(NSUserName())", client: owner, logger: runtime.logger)
            }
            print(saved.new
                ? "loaded \(saved.source) version \(saved.version): \(saved.entries) entries (list \(saved.listID))"
                : "\(saved.source) version \(saved.version) was already loaded from this file (list \(saved.listID), \(saved.entries) entries); "
                    + "to screen against it again if it is not current: nzila reference activate-list '#\(saved.listID)'")
            if saved.new && !noRescreen { try await ComplianceCommand.rescreen(state: state.state, only: nil) }
        }
    }

    struct ListVersions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list-versions",
            abstract: "Every loaded version of every sanctions and PEP list; the current one of each list is marked with *.")
        @OptionGroup var state: StateOptions

        func run() async throws {
            let versions = try await Runtime.withMigratedOwner(state: state.state) { runtime, owner in
                try await owner.withConnection { try await ScreeningLists.versions(on: $0, logger: runtime.logger) }
            }
            guard !versions.isEmpty else { return print("no list is loaded (nzila reference load-sanctions)") }
            let iso = ISO8601DateFormatter()
            print("  source    version                list   entries  loaded                by                    activated             by")
            for v in versions {
                print([
                    v.current ? "*" : " ", pad(v.source, 9), pad(v.version, 22), pad("#\(v.listID)", 6), pad(String(v.entries), 8),
                    pad(iso.string(from: v.loadedAt), 21), pad(v.loadedBy, 21), pad(iso.string(from: v.activatedAt), 21), v.activatedBy,
                ].joined(separator: " "))
            }
        }

        func pad(_ text: String, _ width: Int) -> String { text.count >= width ? text : text + String(repeating: " ", count: width - text.count) }
    }

    struct ActivateList: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "activate-list",
            abstract: "Screen against an earlier loaded version of a list again (a rollback), or a later one; recorded in the audit log.",
            discussion: """
                VERSION is a version as list-versions shows it (2024-05-02, sha256:0123456789ab) or a list id (#12). Every data plane \
                screens against it within seconds; members are then rescreened against the current lists, as after a load.
                """)
        @OptionGroup var state: StateOptions
        @Argument(help: "The version, or #<list id>.") var version: String
        @Option(help: "The list (ofac-sdn, un, eu, ca-sema, pep), when two lists have this version.") var source: String?
        @Flag(help: "Do not rescreen members (run nzila compliance rescreen later).") var noRescreen = false

        func run() async throws {
            let operator_ = "cli:\(NSUserName())"
            let outcome: (activated: ScreeningLists.Version, replaced: ScreeningLists.Version?)
            do {
                outcome = try await Runtime.withMigratedOwner(state: state.state) { runtime, owner in
                    try await owner.withTransaction(logger: runtime.logger) { connection in
                        let outcome = try await ScreeningLists.activate(
                            version: version, source: source, by: operator_, at: Clock.system.now(), on: connection, logger: runtime.logger)
                        guard let replaced = outcome.replaced else { return outcome }
                        let activated = outcome.activated
                        try await connection.query(
                            """
                            INSERT INTO control.audit_log (actor, actor_role, action, target, detail)
                            VALUES (NULL, 'operator', 'screening_list.activate', \("screening_list:\(activated.source)"),
                                    jsonb_build_object('operator', \(operator_)::text,
                                        'before', jsonb_build_object('list_id', \(replaced.listID)::bigint, 'version', \(replaced.version)::text),
                                        'after', jsonb_build_object('list_id', \(activated.listID)::bigint, 'version', \(activated.version)::text)))
                            """, logger: runtime.logger)
                        return outcome
                    }
                }
            } catch let problem as Problem {
                throw Refused(description: problem.detail)
            }
            guard let replaced = outcome.replaced else {
                return print("\(outcome.activated.source) version \(outcome.activated.version) (#\(outcome.activated.listID)) is already current; nothing changed")
            }
            print("\(outcome.activated.source): now screening against version \(outcome.activated.version) (#\(outcome.activated.listID), "
                  + "\(outcome.activated.entries) entries) instead of \(replaced.version) (#\(replaced.listID))")
            if !noRescreen { try await ComplianceCommand.rescreen(state: state.state, only: nil) }
        }
    }
}

/// `nzila compliance`: platform-wide compliance jobs.
struct ComplianceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compliance", abstract: "Compliance jobs across tenants.", subcommands: [Rescreen.self])

    struct Rescreen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Screen every active member of every tenant (with compliance on) against the current lists; open cases for matches.",
            discussion: "Runs after each new list version loaded by load-sanctions. Each tenant in one transaction, through its own role.")
        @OptionGroup var state: StateOptions
        @Option(help: "Only these tenants (comma-separated slugs).") var only: String?

        func run() async throws {
            try await ComplianceCommand.rescreen(state: state.state, only: slugList(only))
        }
    }

    static func rescreen(state: String, only: Set<String>?) async throws {
        let runtime = try Runtime.load(state: state)
        try await runtime.probe(direct: true, groups: true)
        let owner = runtime.ownerClient()
        let groups = runtime.groupClients(connectionsPerGroup: 2)
        try await withRunning([owner] + groups) {
            let latest = runtime.catalog.latestTenantVersion
            let tenants = try await owner.statement(
                """
                SELECT id, slug, pool_group, schema_version, enabled_domains FROM control.tenants
                WHERE status = 'active' AND purged_at IS NULL ORDER BY slug
                """, logger: runtime.logger
            ) { try await $0.all((UUID, String, Int, Int, [String]).self) }
            let cache = ScreeningIndexCache(recheck: .seconds(3600))
            let screening = MemberScreening(cache: cache, logger: runtime.logger)
            var total = MemberScreening.Summary()
            var skipped: [String] = []
            for (id, slug, group, version, domains) in tenants where only?.contains(slug) ?? true {
                guard domains.contains("compliance"), version == latest, let valid = try? TenantSlug(slug) else {
                    skipped.append(slug)
                    continue
                }
                let tenant = TenantRef(id: TenantID(id), slug: valid, status: .active, poolGroup: group, schemaVersion: version, enabledDomains: Set(domains))
                let session = TenantSession(client: groups[group % groups.count], tenant: tenant, memberID: nil, clock: .system, logger: runtime.logger)
                let index = try await cache.index(session)
                guard !index.listVersions.isEmpty else { throw ValidationError("no screening list is loaded: nothing to screen against") }
                let summary = try await screening.rescreen(session: session, index: index)
                if summary.flagged > 0 { print("\(slug): \(summary.screened) screened, \(summary.flagged) flagged, \(summary.casesOpened) case(s) opened") }
                total.screened += summary.screened
                total.flagged += summary.flagged
                total.casesOpened += summary.casesOpened
            }
            print("rescreened \(total.screened) member(s): \(total.flagged) flagged, \(total.casesOpened) new case(s)"
                + (skipped.isEmpty ? "" : "; skipped \(skipped.count) tenant(s) without compliance or not at the latest version"))
        }
    }
}
