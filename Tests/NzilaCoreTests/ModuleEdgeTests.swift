import Foundation
import Testing

/// The module edges of docs/ADDING_A_DOMAIN.md: a product domain imports the platform and the
/// platform services, never another product domain; the platform never imports a domain. A new
/// folder under `Sources/` is a product domain unless it is listed here, so a new domain is held to
/// the rule from its first file.
@Suite("Module edge lint")
struct ModuleEdgeTests {
    /// Values, HTTP and database plumbing, telemetry, the registry of partner connections and their HTTP calls, and the
    /// outside providers' sandbox of `nzila dev`.
    static let platform: Set<String> = ["NzilaValues", "NzilaCore", "NzilaDatabase", "NzilaTelemetry", "NzilaPartners", "NzilaSandbox", "CArgon2"]
    /// What every money-moving domain builds on: the ledger, and compliance (KYC limits, screening,
    /// AML rules, cases and FINTRAC reports are obligations of every money movement, so compliance is
    /// a service any domain calls; its staff routes are also a domain a tenant enables).
    static let services: Set<String> = ["Ledger", "Compliance"]
    /// Where the planes are put together: they may import everything.
    static let compositionRoots: Set<String> = ["ControlPlane", "DataPlane", "NzilaCLI"]

    static func imports(of module: String) throws -> [String: Set<String>] {
        var found: [String: Set<String>] = [:]
        for file in ErrorSeamTests.swiftFiles(under: ErrorSeamTests.sources.appendingPathComponent(module)) {
            for line in try String(contentsOf: file, encoding: .utf8).split(separator: "\n") where line.hasPrefix("import ") {
                let imported = String(line.dropFirst("import ".count)).trimmingCharacters(in: .whitespaces)
                found[imported, default: []].insert(file.lastPathComponent)
            }
        }
        return found
    }

    @Test("product domains import the platform and its services, never each other; the platform imports no domain")
    func edges() throws {
        let modules = try FileManager.default.contentsOfDirectory(atPath: ErrorSeamTests.sources.path).filter { !$0.hasPrefix(".") }
        let domains = Set(modules).subtracting(Self.platform).subtracting(Self.services).subtracting(Self.compositionRoots)
        #expect(domains.isSuperset(of: ["Banking", "Remittance"]), "the lint no longer sees the domains: \(domains.sorted())")
        var offenders: [String] = []
        for module in modules.sorted() where !Self.compositionRoots.contains(module) {
            for (imported, files) in try Self.imports(of: module).sorted(by: { $0.key < $1.key }) {
                let forbidden: Bool
                if domains.contains(imported) {
                    forbidden = true  // nobody but a composition root imports a product domain
                } else if Self.services.contains(imported) {
                    // A service is imported by domains and other services, never by the platform below it.
                    forbidden = Self.platform.contains(module) || imported == "Compliance" && module == "Ledger"
                } else {
                    forbidden = false
                }
                if forbidden { offenders.append("\(module) imports \(imported) (\(files.sorted().joined(separator: ", ")))") }
            }
        }
        #expect(offenders.isEmpty, "module edges broken:\n\(offenders.joined(separator: "\n"))")
    }
}
