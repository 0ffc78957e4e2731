import Foundation
import Logging
import PostgresNIO

/// The sample lists the repository ships, loaded into a dev stack so screening works out of the box.
public enum SampleLists {
    public static let files: [(String, ListFormat)] = [
        ("ofac-csv/sdn.csv", .ofacCSV), ("un/consolidated.xml", .unXML), ("eu/sanctions.xml", .euXML), ("sema/sema.xml", .semaXML),
        ("pep/pep.csv", .pepCSV),
    ]

    public static func load(root: URL, client: PostgresClient, logger: Logger) async throws {
        for (path, format) in files {
            let list = try ListLoader.load(root.appendingPathComponent("ReferenceData/sanctions").appendingPathComponent(path), format: format)
            _ = try await ScreeningLists.save(list, loadedBy: "samples", client: client, logger: logger)
        }
    }
}
