import Foundation

/// What `nzila migrate plan` warns about in a pending migration: statements that rewrite a table,
/// scan it under a heavy lock, or block writes while they build. Pure (text in, warnings out); the
/// plan adds each table's size from the catalogue.
public enum MigrationLint {
    public struct Warning: Sendable, Equatable, CustomStringConvertible {
        public enum Kind: String, Sendable { case rewrite, scan, blocksWrites = "blocks-writes", fails }
        public let kind: Kind
        /// The table the statement works on (unqualified), if it names one.
        public let table: String?
        public let reason: String

        public var description: String { "\(kind.rawValue)\(table.map { " \($0)" } ?? ""): \(reason)" }
    }

    /// Functions whose value changes per row: a column added with one of them as default is written
    /// into every existing row.
    static let volatile = ["random(", "clock_timestamp(", "gen_random_uuid(", "uuid_generate_v4(", "timeofday(", "nextval("]

    public static func warnings(_ statement: String) -> [Warning] {
        let sql = statement.replacingOccurrences(of: "\\s+", with: " ", options: .regularExpression).trimmingCharacters(in: .whitespaces)
        let lower = sql.lowercased()
        var found: [Warning] = []
        let altered = match(lower, #"^alter table (?:only )?(?:if exists )?([a-z_][a-z0-9_.]*)"#)
        if let table = altered {
            for clause in lower.components(separatedBy: ",") {
                if clause.contains("add column") || clause.range(of: #"\badd (?!constraint)"#, options: .regularExpression) != nil {
                    if let defaultIndex = clause.range(of: " default ") {
                        let expression = clause[defaultIndex.upperBound...]
                        if volatile.contains(where: { expression.contains($0) }) {
                            found.append(Warning(kind: .rewrite, table: table, reason: "a column added with a volatile default is written into every row"))
                        }
                    } else if clause.contains("not null") {
                        found.append(Warning(kind: .fails, table: table, reason: "a NOT NULL column without a default fails on a table that has rows"))
                    }
                }
                if clause.range(of: #"alter (?:column )?[a-z_][a-z0-9_]* (?:set data )?type "#, options: .regularExpression) != nil {
                    found.append(Warning(kind: .rewrite, table: table, reason: "changing a column's type rewrites the table (and its indexes) under an exclusive lock"))
                }
                if clause.range(of: #"alter (?:column )?[a-z_][a-z0-9_]* set not null"#, options: .regularExpression) != nil {
                    found.append(Warning(kind: .scan, table: table, reason: "SET NOT NULL scans the whole table under an exclusive lock"))
                }
                if clause.contains("add constraint"), clause.contains("foreign key") || clause.contains("check"), !clause.contains("not valid") {
                    found.append(Warning(kind: .scan, table: table, reason: "the new constraint is checked against every row under lock; add it NOT VALID, then VALIDATE"))
                }
            }
        }
        if lower.hasPrefix("create index") || lower.hasPrefix("create unique index"), !lower.contains(" concurrently ") {
            let table = match(lower, #" on (?:only )?([a-z_][a-z0-9_.]*)"#)
            found.append(Warning(kind: .blocksWrites, table: table, reason: "building an index without CONCURRENTLY blocks writes to the table until it is done"))
        }
        return found
    }

    static func match(_ text: String, _ pattern: String) -> String? {
        guard let regex = try? NSRegularExpression(pattern: pattern),
            let result = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
            let range = Range(result.range(at: 1), in: text)
        else { return nil }
        return String(text[range].split(separator: ".").last ?? "")
    }
}
