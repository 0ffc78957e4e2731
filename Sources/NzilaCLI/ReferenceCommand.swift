import ArgumentParser
import Compliance
import Foundation
import NzilaCore
import Logging
import NzilaDatabase
import PostgresNIO

/// `nzila reference`: platform reference data every tenant reads.
struct Reference: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load platform reference data (sanctions and PEP lists).", subcommands: [LoadSanctions.self])

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

        func run() async throws {
            guard let format = ListFormat(rawValue: format) else {
                throw ValidationError("--format must be one of \(ListFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let list = try ListLoader.load(URL(fileURLWithPath: file), format: format)
            let saved = try await Runtime.withOwner(state: state.state) { runtime, owner in
                try await Migrator(catalog: runtime.catalog, logger: runtime.logger).applyGlobal(owner)
                return try await ScreeningLists.save(list, loadedBy: "cli:\(NSUserName())", client: owner, logger: runtime.logger)
            }
            print(saved.new
                ? "loaded \(saved.source) version \(saved.version): \(saved.entries) entries (list \(saved.listID))"
                : "\(saved.source) version \(saved.version) was already loaded from this file (list \(saved.listID), \(saved.entries) entries)")
        }
    }
}

/// The sample lists the repository ships, loaded into a dev stack so screening works out of the box.
enum SampleLists {
    static let files: [(String, ListFormat)] = [
        ("ofac-csv/sdn.csv", .ofacCSV), ("un/consolidated.xml", .unXML), ("eu/sanctions.xml", .euXML), ("sema/sema.xml", .semaXML),
        ("pep/pep.csv", .pepCSV),
    ]

    static func load(root: URL, client: PostgresClient, logger: Logger) async throws {
        for (path, format) in files {
            let list = try ListLoader.load(root.appendingPathComponent("ReferenceData/sanctions").appendingPathComponent(path), format: format)
            _ = try await ScreeningLists.save(list, loadedBy: "dev", client: client, logger: logger)
        }
    }
}
