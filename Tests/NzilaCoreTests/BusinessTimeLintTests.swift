import Foundation
import Testing

/// One clock for business time (issue 16): business logic never reads PostgreSQL's clock or
/// Swift's `Date()`; it takes the platform clock's `now` and binds it. This lint reads every Swift
/// source's SQL (its string literals), its code, and every migration, so the bug class — "hold expiry
/// written from Swift's clock but judged by SQL now()" — cannot creep back. What remains on the
/// machine's or the database's clock is listed below with its reason.
@Suite("Business time lint")
struct BusinessTimeLintTests {
    /// SQL functions that read the database's clock; never allowed in a decision.
    static let sqlClock = try! NSRegularExpression(
        pattern: #"\b(now\s*\(\s*\)|current_timestamp|current_date|current_time|localtimestamp|localtime|transaction_timestamp\s*\(|statement_timestamp\s*\(|timeofday\s*\()"#,
        options: [.caseInsensitive])
    /// `clock_timestamp()` may stamp a row (`SET updated_at = clock_timestamp()`, a column DEFAULT);
    /// compared or computed with, it is a decision on the database's clock.
    static let comparedClock = try! NSRegularExpression(
        pattern: #"(clock_timestamp\s*\(\s*\)\s*[-+<>])|([-+<>]=?\s*clock_timestamp\s*\()"#, options: [.caseInsensitive])
    static let swiftClock = try! NSRegularExpression(pattern: #"(\bDate\s*\(\s*\))|(\bDate\.now\b)|(timeIntervalSinceNow)"#)

    /// (file suffix, text on the line, why it is not business time).
    static let allowed: [(String, String, String)] = [
        ("NzilaCore/PlatformClock.swift", "Date()", "the platform clock itself: the machine's time, offset by a test clock"),
        ("NzilaCLI/DoctorCommand.swift", "Date()", "nzila doctor compares the machine's clock with the database's, by design"),
        ("ControlPlane/TenantArchive.swift", "Date()", "an export's folder name and manifest record when the file was written"),
        ("NzilaDatabase/IdempotencyPurger.swift", "clock_timestamp() -", "storage retention of keys stamped by the database's clock (created_at DEFAULT)"),
        ("NzilaDatabase/KeyRing.swift", "clock_timestamp() -", "key rotation: retired_at is stamped and judged by the database's clock"),
        ("Migrations/control/0003_tenant_api_transfer.sql", "now()", "applied migrations never change; 0013 replaces this function"),
        ("NzilaDatabase/MigrationLint.swift", "timeofday(", "the names of the volatile functions `nzila migrate plan` warns about"),
    ]

    static var root: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }

    /// The string literals' text of a Swift source and its code outside strings and comments, per line.
    static func split(swift source: String) -> (strings: [Int: String], code: [Int: String]) {
        var strings: [Int: String] = [:]
        var code: [Int: String] = [:]
        enum Mode { case code, line, block, comment, blockComment }
        var mode = Mode.code
        var line = 1
        var interpolation = 0  // parentheses open inside a \( … ) of a string
        var outer = Mode.code
        let characters = Array(source)
        var index = 0
        func starts(_ text: String) -> Bool {
            let chars = Array(text)
            return index + chars.count <= characters.count && Array(characters[index..<index + chars.count]) == chars
        }
        while index < characters.count {
            let character = characters[index]
            if character == "\n" {
                line += 1
                if mode == .comment || mode == .line { mode = mode == .comment ? .code : .code }
            }
            switch mode {
            case .code where interpolation > 0:
                if character == "(" { interpolation += 1 }
                if character == ")" {
                    interpolation -= 1
                    if interpolation == 0 { mode = outer }
                }
                code[line, default: ""].append(character)
            case .code:
                if starts("//") { mode = .comment } else if starts("/*") { mode = .blockComment } else if starts("\"\"\"") {
                    mode = .block
                    index += 3
                    continue
                } else if character == "\"" { mode = .line } else { code[line, default: ""].append(character) }
            case .comment:
                break
            case .blockComment:
                if starts("*/") {
                    mode = .code
                    index += 2
                    continue
                }
            case .line, .block:
                if character == "\\" && index + 1 < characters.count {
                    if characters[index + 1] == "(" {
                        outer = mode
                        mode = .code
                        interpolation = 1
                        index += 2
                        continue
                    }
                    index += 2
                    continue
                }
                if mode == .block && starts("\"\"\"") {
                    mode = .code
                    index += 3
                    continue
                }
                if mode == .line && character == "\"" { mode = .code } else { strings[line, default: ""].append(character) }
            }
            index += 1
        }
        return (strings, code)
    }

    static func matches(_ pattern: NSRegularExpression, _ text: String) -> Bool {
        pattern.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    static func isAllowed(_ path: String, _ text: String) -> Bool {
        allowed.contains { path.hasSuffix($0.0) && text.contains($0.1) }
    }

    static func files(under folder: String, ending suffix: String) -> [URL] {
        let base = root.appendingPathComponent(folder)
        let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil)
        return (walker?.allObjects as? [URL] ?? []).filter { $0.path.hasSuffix(suffix) }.sorted { $0.path < $1.path }
    }

    @Test("the lint's reader finds SQL in strings and code outside them")
    func reader() {
        let (strings, code) = Self.split(swift: """
            let a = Date() // Date() in a comment
            let q = "SELECT now() WHERE x = \\(Date())"
            /* now() */ let b = 1
            """)
        #expect(strings[2]?.contains("now()") == true && strings[1] == nil)
        #expect(code[1]?.contains("Date()") == true && code[2]?.contains("Date()") == true && !(code[3] ?? "").contains("now()"))
        #expect(Self.matches(Self.sqlClock, "expires_at <= now()") && Self.matches(Self.sqlClock, "CURRENT_TIMESTAMP"))
        #expect(Self.matches(Self.comparedClock, "created_at < clock_timestamp() - interval '1 day'"))
        #expect(!Self.matches(Self.comparedClock, "SET updated_at = clock_timestamp()"))
    }

    @Test("no Swift source decides on the database's clock or on Date(); no migration compares with now()")
    func oneClock() throws {
        var findings: [String] = []
        for file in Self.files(under: "Sources", ending: ".swift") {
            let path = file.path.replacingOccurrences(of: Self.root.path + "/", with: "")
            let (strings, code) = Self.split(swift: try String(contentsOf: file, encoding: .utf8))
            for (line, text) in strings.sorted(by: { $0.key < $1.key }) {
                let bad = Self.matches(Self.sqlClock, text) || Self.matches(Self.comparedClock, text)
                if bad && !Self.isAllowed(path, text) { findings.append("\(path):\(line): SQL reads the database's clock: \(text.trimmingCharacters(in: .whitespaces))") }
            }
            for (line, text) in code.sorted(by: { $0.key < $1.key }) where Self.matches(Self.swiftClock, text) && !Self.isAllowed(path, text) {
                findings.append("\(path):\(line): Swift reads the machine's clock: \(text.trimmingCharacters(in: .whitespaces))")
            }
        }
        for file in Self.files(under: "Migrations", ending: ".sql") {
            let path = file.path.replacingOccurrences(of: Self.root.path + "/", with: "")
            for (number, raw) in try String(contentsOf: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let text = String(raw.split(separator: "--", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
                // A column default stamps a row; anything else with the clock in it decides on it.
                let stamped = text.range(of: #"\bDEFAULT\s+(now|clock_timestamp)\s*\(\s*\)"#, options: [.regularExpression, .caseInsensitive]) != nil
                let bad = (Self.matches(Self.sqlClock, text) && !stamped) || Self.matches(Self.comparedClock, text)
                if bad && !Self.isAllowed(path, text) { findings.append("\(path):\(number + 1): \(text.trimmingCharacters(in: .whitespaces))") }
            }
        }
        #expect(findings.isEmpty, "bind the platform clock's now instead (Rules take now; stores bind db.now):\n\(findings.joined(separator: "\n"))")
    }
}
