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
        pattern: #"\b(now\s*\(\s*\)|current_timestamp|current_date|current_time|localtimestamp|localtime|transaction_timestamp\s*\(|statement_timestamp\s*\(|timeofday\s*\()|'now'\s*::"#,
        options: [.caseInsensitive])
    /// `clock_timestamp()` may stamp a row (`SET updated_at = clock_timestamp()`, a column DEFAULT);
    /// compared or computed with, it is a decision on the database's clock.
    static let comparedClock = try! NSRegularExpression(
        pattern: #"(clock_timestamp\s*\(\s*\)\s*[-+<>])|([-+<>]=?\s*clock_timestamp\s*\()"#, options: [.caseInsensitive])
    /// `Clock.system.now()` is the machine's clock by another name: allowed only where listed below.
    static let swiftClock = try! NSRegularExpression(
        pattern: #"(\bDate\s*\(\s*\))|(\bDate\.init\s*\(\s*\))|(\bDate\.now\b)|(timeIntervalSinceNow)|(Clock\.system\.now\s*\()"#)

    /// (file suffix, text on the line, why it is not business time).
    static let allowed: [(String, String, String)] = [
        ("NzilaValues/PlatformClock.swift", "public static let system = Clock { Date() }", "the platform clock's production source"),
        ("NzilaValues/PlatformClock.swift", "machine: @escaping @Sendable () -> Date = { Date() }", "a movable clock runs at the machine's pace"),
        ("NzilaDatabase/FleetStatus.swift", "localSeconds: Date().timeIntervalSince1970", "nzila doctor and GET /v1/doctor compare the machine's clock with the database's"),
        ("ControlPlane/Store/TenantArchive.swift", "let stamp = Date().rfc3339", "an export's folder is named for when it was written"),
        ("ControlPlane/Store/TenantArchive.swift", "exportedAt: Date()", "an export's manifest records when it was written"),
        ("NzilaCLI/ReferenceCommand.swift", "feed.rates(at: Clock.system.now())", "the CLI loads today's rates from the feed"),
        ("NzilaCLI/ReferenceCommand.swift", "at: Clock.system.now(), on: connection", "a list version's activation records when the operator made it"),
        ("NzilaCore/WebhookSignature.swift", "try verify(Int64(Clock.system.now()", "a provider signs an inbound webhook with the real time"),
        ("NzilaDatabase/IdempotencyPurger.swift", "created_at < clock_timestamp() -", "storage retention of keys the database stamps (created_at DEFAULT)"),
        ("NzilaDatabase/KeyRing.swift", "retired_at > clock_timestamp() -", "key rotation: retired_at is stamped and judged by the database"),
        ("DataPlane/Webhooks/WebhookStore.swift", "d.leased_until <= clock_timestamp()", "a delivery's lease is mutual exclusion between dispatchers, not business time"),
        ("DataPlane/Webhooks/WebhookStore.swift", "leased_until = clock_timestamp() +", "a delivery's lease is mutual exclusion between dispatchers, not business time"),
        ("DataPlane/Webhooks/WebhookStore.swift", "d.leased_until > clock_timestamp()", "a delivery's lease is mutual exclusion between dispatchers, not business time"),
        ("NzilaPartners/DocumentStore.swift", "client: HTTPClient = .shared, now: @escaping @Sendable () -> Date = { Date() }", "S3 judges a request's signature by real time"),
        ("DataPlane/Notifications/Notifiers.swift", "now: @escaping @Sendable () -> Date = { Date() }", "push providers judge their tokens by real time"),
        ("DataPlane/Notifications/NotificationStore.swift", "leased_until <= clock_timestamp()", "a message's lease is mutual exclusion between senders, not business time"),
        ("DataPlane/Notifications/NotificationStore.swift", "leased_until = clock_timestamp() +", "a message's lease is mutual exclusion between senders, not business time"),
        ("NzilaDatabase/MigrationLint.swift", "timeofday(", "the names of the volatile functions `nzila migrate plan` warns about"),
        ("Migrations/control/0003_tenant_api_transfer.sql", "h.expires_at <= now()", "applied migrations never change; 0013 replaces the function"),
    ]

    static var root: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }

    /// The string literals' text of a Swift source and its code outside strings and comments, per line.
    /// Understands multi-line strings, raw strings (`#"…"#`, whose interpolation is `\#(…)`) and
    /// interpolations (read as code); nested strings inside an interpolation are read as code.
    static func split(swift source: String) -> (strings: [Int: String], code: [Int: String]) {
        var strings: [Int: String] = [:]
        var code: [Int: String] = [:]
        enum Mode { case code, string, comment, blockComment }
        var mode = Mode.code
        var multiline = false
        var hashes = 0  // the raw string's number of #
        var line = 1
        var interpolation = 0  // parentheses open inside an interpolation
        let characters = Array(source)
        var index = 0
        func starts(_ text: String, at offset: Int = 0) -> Bool {
            let chars = Array(text)
            let from = index + offset
            return from + chars.count <= characters.count && Array(characters[from..<from + chars.count]) == chars
        }
        let hashRun = { (at: Int) -> Int in
            var count = 0
            while at + count < characters.count && characters[at + count] == "#" { count += 1 }
            return count
        }
        while index < characters.count {
            let character = characters[index]
            if character == "\n" {
                line += 1
                if mode == .comment { mode = .code }
                if mode == .string && !multiline { mode = .code }  // an unterminated single-line string ends here
            }
            switch mode {
            case .code where interpolation > 0:
                if character == "(" { interpolation += 1 }
                if character == ")" {
                    interpolation -= 1
                    if interpolation == 0 {
                        mode = .string
                        index += 1
                        continue
                    }
                }
                code[line, default: ""].append(character)
            case .code:
                if starts("//") {
                    mode = .comment
                } else if starts("/*") {
                    mode = .blockComment
                } else if character == "#" || character == "\"" {
                    let count = character == "#" ? hashRun(index) : 0
                    guard starts("\"", at: count) else {
                        code[line, default: ""].append(character)
                        break
                    }
                    hashes = count
                    multiline = starts("\"\"\"", at: count)
                    mode = .string
                    index += count + (multiline ? 3 : 1)
                    continue
                } else {
                    code[line, default: ""].append(character)
                }
            case .comment:
                break
            case .blockComment:
                if starts("*/") {
                    mode = .code
                    index += 2
                    continue
                }
            case .string:
                let close = (multiline ? "\"\"\"" : "\"") + String(repeating: "#", count: hashes)
                if starts(close) {
                    mode = .code
                    index += close.count
                    continue
                }
                if character == "\\" && hashRun(index + 1) >= hashes {
                    let after = index + 1 + hashes
                    if after < characters.count && characters[after] == "(" {
                        mode = .code
                        interpolation = 1
                        index = after + 1
                        continue
                    }
                    if hashes == 0 {
                        index += 2  // an escape: \" and \\ are not the string's end
                        continue
                    }
                }
                strings[line, default: ""].append(character)
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
        #expect(Self.matches(Self.sqlClock, "expires_at < 'now'::timestamptz") && Self.matches(Self.swiftClock, "let t = Clock.system.now()"))
        // Raw strings: their text is SQL, their interpolation code.
        let raw = Self.split(swift: ##"""
            let q = #"SELECT now() \#(Date()) "quoted""#; let r = "\(x)"
            let m = #"""
                UPDATE t SET a = \#(b) WHERE c < current_date
                """#
            """##)
        #expect(raw.strings[1]?.contains("now()") == true && raw.code[1]?.contains("Date()") == true && !(raw.strings[1] ?? "").contains("Date()"))
        #expect(raw.strings[3]?.contains("current_date") == true && raw.code[3]?.contains("b") == true)
        #expect(!Self.matches(Self.comparedClock, "SET updated_at = clock_timestamp()"))
    }

    @Test("no Swift source decides on the database's clock or on Date(); no migration compares with now()")
    func oneClock() throws {
        var findings: [String] = []
        let sources = Self.files(under: "Sources", ending: ".swift")
        let migrations = Self.files(under: "Migrations", ending: ".sql")
        #expect(sources.count > 100 && migrations.count > 20, "the lint found the project's files")
        for file in sources {
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
        for file in migrations {
            let path = file.path.replacingOccurrences(of: Self.root.path + "/", with: "")
            for (number, raw) in try String(contentsOf: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let text = String(raw.split(separator: "--", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
                // A column default stamps a row; anything else with the clock in it decides on it.
                let stamped = text.range(of: #"\bDEFAULT\s+(now|clock_timestamp)\s*\(\s*\)(?!\s*[-+])"#, options: [.regularExpression, .caseInsensitive]) != nil
                let bad = (Self.matches(Self.sqlClock, text) && !stamped) || Self.matches(Self.comparedClock, text)
                if bad && !Self.isAllowed(path, text) { findings.append("\(path):\(number + 1): \(text.trimmingCharacters(in: .whitespaces))") }
            }
        }
        #expect(findings.isEmpty, "bind the platform clock's now instead (Rules take now; stores bind db.now):\n\(findings.joined(separator: "\n"))")
    }
}
