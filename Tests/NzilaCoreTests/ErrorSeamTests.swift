import Foundation
import Testing

/// One error seam (issue 17): Rules speak values, never HTTP, and every error a domain declares says
/// once which `RuleError` it is (`DomainError`), so `ProblemMiddleware` maps it in one place and no
/// domain error can slip through as a 500.
@Suite("Error seam lint")
struct ErrorSeamTests {
    static var sources: URL { BusinessTimeLintTests.root.appendingPathComponent("Sources") }

    static func swiftFiles(under folder: URL) -> [URL] {
        let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)
        return (walker?.allObjects as? [URL] ?? []).filter { $0.pathExtension == "swift" }.sorted { $0.path < $1.path }
    }

    /// What a Rules file may import: values only.
    static let rulesMayImport: Set<String> = [
        "Foundation", "NzilaValues",
        // HMAC for webhook signatures.
        "Crypto",
        // A domain's journals are planned with the Ledger's posting rules and FX arithmetic.
        "Ledger",
    ]

    @Test("Rules import only values: no HTTP, no database")
    func rulesImportValues() throws {
        var offenders: [String] = []
        let domains = try FileManager.default.contentsOfDirectory(at: Self.sources, includingPropertiesForKeys: nil)
        for domain in domains {
            let rules = domain.appendingPathComponent("Rules")
            for file in Self.swiftFiles(under: rules) {
                for line in try String(contentsOf: file, encoding: .utf8).split(separator: "\n") where line.hasPrefix("import ") {
                    let module = String(line.dropFirst("import ".count)).trimmingCharacters(in: .whitespaces)
                    if !Self.rulesMayImport.contains(module) { offenders.append("\(domain.lastPathComponent)/Rules/\(file.lastPathComponent): import \(module)") }
                }
            }
        }
        #expect(offenders.isEmpty, "Rules must import values only:\n\(offenders.joined(separator: "\n"))")
    }

    /// Error types of the domains that never end a request, and why.
    static let neverInARequest: [String: String] = [
        "Unavailable": "a payout partner's transport failure: the worker retries or fails the order, no request waits on it",
        "Unreachable": "the sandbox partner's simulated outage, seen by the worker only",
        "Invalid": "reference data and sanctions lists loaded by the CLI",
        "Malformed": "an XML sanctions list the CLI loads",
        "PartnerAnswerTooLarge": "a partner's answer over the call's limit: callers turn it into their own 503, or leave the file at the provider",
        "Unresolved": "a partner connection's credential not set: said when a data plane starts and by nzila partners test",
        "BankLinkRefused": "a bank-linking provider's refusal: BankLinkRoutes.call answers it as a 422, or a 409 to sign in again",
        "StaleReferenceRate": "a quote's reference rate is stale: QuoteRoutes catches it and prices the quote again at the FX fallback's rate",
        "FundingRefused": "a funding provider refused to make a payment request: the worker tries again, never in a request",
        "ResealFailure": "a KYC file that cannot be re-sealed: said by nzila keys rotate-data-key, never in a request",
    ]

    @Test("every error type a domain declares adopts DomainError, or is listed as never ending a request")
    func everyDomainErrorIsMapped() throws {
        let declaration = try NSRegularExpression(pattern: #"(?:enum|struct|class)\s+(\w+)\s*:\s*([^{]*)\{"#)
        let adoption = try NSRegularExpression(pattern: #"extension\s+([\w.]+)\s*:\s*[^{]*\bDomainError\b"#)
        var unmapped: [String] = []
        for domain in ["Ledger", "Banking", "Compliance", "Remittance", "Tontine"] {
            let files = Self.swiftFiles(under: Self.sources.appendingPathComponent(domain))
            let texts = try files.map { try String(contentsOf: $0, encoding: .utf8) }
            let all = texts.joined(separator: "\n")
            let adopted = Set(adoption.matches(in: all, range: NSRange(all.startIndex..., in: all)).compactMap {
                Range($0.range(at: 1), in: all).map { String(all[$0].split(separator: ".").last ?? "") }
            })
            for (file, text) in zip(files, texts) {
                for match in declaration.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                    guard let nameRange = Range(match.range(at: 1), in: text), let inheritRange = Range(match.range(at: 2), in: text) else { continue }
                    let name = String(text[nameRange])
                    let inherits = text[inheritRange].split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
                    guard inherits.contains("Error") || inherits.contains("DomainError") else { continue }
                    if inherits.contains("DomainError") || adopted.contains(name) || Self.neverInARequest[name] != nil { continue }
                    unmapped.append("\(domain)/\(file.lastPathComponent): \(name)")
                }
            }
        }
        #expect(unmapped.isEmpty, "these errors would answer a 500; adopt DomainError:\n\(unmapped.joined(separator: "\n"))")
    }
}
