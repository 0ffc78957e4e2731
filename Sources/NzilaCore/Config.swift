import Foundation

/// Reads `NZILA_…` settings with documented defaults; flags override them in the CLI.
public struct Env: Sendable {
    public let values: [String: String]

    public init(_ values: [String: String] = ProcessInfo.processInfo.environment) { self.values = values }

    public func string(_ name: String, default fallback: String) -> String { values[name] ?? fallback }

    public func int(_ name: String, default fallback: Int) -> Int { values[name].flatMap(Int.init) ?? fallback }

    public subscript(_ name: String) -> String? { values[name] }
}

/// Where the project's SQL and templates live at run time: `NZILA_HOME`, else the first folder at or
/// above the working directory that holds `Migrations/`.
public func projectRoot(environment: Env = Env()) -> URL {
    if let home = environment["NZILA_HOME"] { return URL(fileURLWithPath: home) }
    var directory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    for _ in 0..<8 {
        if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Migrations").path) { return directory }
        directory.deleteLastPathComponent()
    }
    return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
}
