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
        subcommands: [LoadSanctions.self, LoadCorridors.self, LoadRates.self, RefreshRates.self, LoadInstruments.self, LoadAcademy.self])

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
                (id,name,aliases,date_of_birth,country,position). The newest version of each list is the one screened against, on \
                every data plane within seconds; loading the same file again changes nothing. Sample files: ReferenceData/sanctions.
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
                : "\(saved.source) version \(saved.version) was already loaded from this file (list \(saved.listID), \(saved.entries) entries)")
            if saved.new && !noRescreen { try await ComplianceCommand.rescreen(state: state.state, only: nil) }
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
