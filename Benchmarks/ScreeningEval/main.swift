// Screening quality (issue 24): screens each labelled pair of Benchmarks/Screening/pairs.csv — the query against an
// index holding only the pair's list name — and prints precision, recall, F1 and false alerts per 100 non-matches per
// category, per kind and overall, at the platform's review line, then the line a threshold sweep would choose.
// Run through ops/bench/screening-eval.sh. Nothing is asserted.
//   ScreeningEval [--pairs Benchmarks/Screening/pairs.csv] [--review 0.85] [--show-misses]
//   ScreeningEval --customers Benchmarks/Screening/customers.csv --ofac FOLDER   (FOLDER holds OFAC's sdn.csv and alt.csv:
//   every customer screened against the whole list at the platform's lines; the share sent to review and to block)
import Compliance
import Foundation

var pairsPath = "Benchmarks/Screening/pairs.csv"
var review = ScreeningThresholds.platformDefault.review
var showMisses = false
var customersPath: String? = nil
var ofacFolder: String? = nil
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let flag = arguments.next() {
    switch flag {
    case "--pairs": pairsPath = arguments.next() ?? pairsPath
    case "--review": review = Double(arguments.next() ?? "") ?? review
    case "--show-misses": showMisses = true
    case "--customers": customersPath = arguments.next()
    case "--ofac": ofacFolder = arguments.next()
    default: fatalError("unknown argument \(flag)")
    }
}

/// RFC 4180 CSV: quoted fields may hold commas, quotes (doubled) and newlines.
func parseCSV(_ text: String) -> [[String]] {
    var rows: [[String]] = []
    var row: [String] = []
    var field = ""
    var quoted = false
    var iterator = Array(text).makeIterator()
    var pending: Character? = nil
    while let c = pending ?? iterator.next() {
        pending = nil
        if quoted {
            if c == "\"" {
                if let next = iterator.next() {
                    if next == "\"" { field.append("\"") } else { quoted = false; pending = next }
                } else { quoted = false }
            } else { field.append(c) }
        } else {
            switch c {
            case "\"": quoted = true
            case ",": row.append(field); field = ""
            case "\n", "\r\n": row.append(field); field = ""; rows.append(row); row = []
            case "\r": break
            default: field.append(c)
            }
        }
    }
    if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
    return rows
}

struct Pair {
    let id, kind, category, query, listName: String
    let match: Bool
}

/// The OFAC list, when given: the background every pair is screened with (word statistics), and the list customers are
/// screened against.
let ofacList = try ofacFolder.map { try ListLoader.load(URL(fileURLWithPath: $0).appendingPathComponent("sdn.csv"), format: .ofacCSV) }

if let customersPath, let ofacList {
    guard let text = try? String(contentsOfFile: customersPath, encoding: .utf8) else { fatalError("cannot read \(customersPath)") }
    let rows = parseCSV(text).filter { $0.count == 3 && $0[0] != "id" && !$0[0].hasPrefix("#") }
    let list = ofacList
    let index = ScreeningIndex(entries: list.entries, listVersions: ["ofac-sdn": list.version])
    let thresholds = ScreeningThresholds.platformDefault
    var outcomes: [ScreeningOutcome: Int] = [:]
    var byLocale: [String: (count: Int, alerts: Int)] = [:]
    var alerts: [(name: String, locale: String, result: ScreeningResult)] = []
    var latencies: [Double] = []
    for row in rows {
        let started = ContinuousClock.now
        let result = index.screen(ScreeningQuery(name: row[2]), thresholds: thresholds)
        let elapsed = ContinuousClock.now - started
        latencies.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
        outcomes[result.decision, default: 0] += 1
        byLocale[row[1], default: (0, 0)].count += 1
        if result.decision != .clear {
            byLocale[row[1], default: (0, 0)].alerts += 1
            alerts.append((row[2], row[1], result))
        }
    }
    latencies.sort()
    let n = Double(rows.count)
    print("customers: \(rows.count) from \(customersPath), screened against OFAC SDN \(list.version): \(list.entries.count) entries, \(index.nameCount) names")
    print(String(format: "at review %.2f / block %.2f: clear %d, review %d (%.2f%%), block %d (%.2f%%); aim: at most 2%% to review",
                 thresholds.review, thresholds.block, outcomes[.clear] ?? 0, outcomes[.review] ?? 0, 100 * Double(outcomes[.review] ?? 0) / n,
                 outcomes[.block] ?? 0, 100 * Double(outcomes[.block] ?? 0) / n))
    print(String(format: "latency per name: p50 %.3f ms, p99 %.3f ms (debug builds are slower)", latencies[latencies.count / 2],
                 latencies[min(latencies.count - 1, Int(Double(latencies.count) * 0.99))]))
    for (locale, tally) in byLocale.sorted(by: { $0.key < $1.key }) {
        print(String(format: "  %-6@ %5d customers, %4d alerts (%.2f%%)", locale as NSString, tally.count, tally.alerts, 100 * Double(tally.alerts) / Double(tally.count)))
    }
    if showMisses {
        for alert in alerts {
            guard let top = alert.result.candidates.first else { continue }
            print("\(alert.result.decision) \(alert.locale) \(alert.name)  ->  \(top.matchedName) (\(top.sourceID)) \(top.score)  \(top.reasons.joined(separator: "; "))")
        }
    }
    exit(0)
}

guard let text = try? String(contentsOfFile: pairsPath, encoding: .utf8) else { fatalError("cannot read \(pairsPath)") }
let table = parseCSV(text)
guard let header = table.first, header == ["id", "kind", "category", "query", "list_name", "label", "source"] else { fatalError("unexpected header") }
let pairs = table.dropFirst().filter { $0.count == 7 }.map { Pair(id: $0[0], kind: $0[1], category: $0[2], query: $0[3], listName: $0[4], match: $0[5] == "match") }

func entryKind(_ kind: String) -> ListEntry.Kind {
    switch kind {
    case "person": return .individual
    case "vessel": return .vessel
    default: return .entity
    }
}

// Which words describe organisations rather than name them is read from a whole list, as in production: OFAC's when
// given (--ofac), else the list names of all the pairs together.
let statistics = WordStatistics(
    entries: ofacList?.entries ?? pairs.map { ListEntry(source: "eval", sourceID: $0.id, kind: entryKind($0.kind), names: [$0.listName]) })
print("word statistics from \(ofacList.map { "OFAC SDN \($0.version)" } ?? "the pairs' list names"): \(statistics.organisationNames) organisation names")

// Each pair's score: the best candidate's, 0 when the list name is not even a candidate.
let started = ContinuousClock.now
let scored: [(pair: Pair, score: Double, reasons: [String])] = pairs.map { pair in
    let index = ScreeningIndex(
        entries: [ListEntry(source: "eval", sourceID: pair.id, kind: entryKind(pair.kind), names: [pair.listName])], listVersions: ["eval": "eval"],
        statistics: statistics)
    let thresholds = ScreeningThresholds(review: 0.01, block: 0.99, report: 0.01)
    let result = index.screen(ScreeningQuery(name: pair.query), thresholds: thresholds)
    let top = result.candidates.first
    return (pair, top?.score ?? 0, top?.reasons ?? [])
}
let elapsed = ContinuousClock.now - started

struct Tally {
    var tp = 0, fp = 0, fn = 0, tn = 0
    mutating func add(match: Bool, flagged: Bool) {
        switch (match, flagged) {
        case (true, true): tp += 1
        case (true, false): fn += 1
        case (false, true): fp += 1
        case (false, false): tn += 1
        }
    }
    var precision: Double { tp + fp == 0 ? 1 : Double(tp) / Double(tp + fp) }
    var recall: Double { tp + fn == 0 ? 1 : Double(tp) / Double(tp + fn) }
    var f1: Double { precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall) }
    var falseAlertsPer100: Double { fp + tn == 0 ? 0 : 100 * Double(fp) / Double(fp + tn) }
}

func tally(at line: Double, _ rows: [(pair: Pair, score: Double, reasons: [String])]) -> Tally {
    var t = Tally()
    for row in rows { t.add(match: row.pair.match, flagged: row.score >= line) }
    return t
}

func padded(_ text: String, _ width: Int) -> String { text.count >= width ? text : text + String(repeating: " ", count: width - text.count) }

func line(_ name: String, _ t: Tally) -> String {
    padded(name, 20) + String(format: "%4d %4d  precision %.3f  recall %.3f  F1 %.3f  false alerts %5.1f / 100 non-matches",
                              t.tp + t.fn, t.fp + t.tn, t.precision, t.recall, t.f1, t.falseAlertsPer100)
}

print("pairs: \(pairs.count) (\(pairs.filter(\.match).count) match, \(pairs.filter { !$0.match }.count) non-match) from \(pairsPath); screened in \(elapsed)")
print(String(format: "at the review line %.2f (a pair is flagged when its score reaches it):", review))
print(padded("", 20) + "   m    n   (matches, non-matches)")
for category in Array(Set(pairs.map(\.category))).sorted() {
    print(line(category, tally(at: review, scored.filter { $0.pair.category == category })))
}
for kind in ["person", "organisation", "vessel"] {
    print(line("kind " + kind, tally(at: review, scored.filter { $0.pair.kind == kind })))
}
let overall = tally(at: review, scored)
print(line("overall", overall))

// The sweep: the line with the best F1, and the highest line that keeps recall at 0.95 or more.
var best = (line: review, f1: 0.0)
var recallLine: Double? = nil
for step in stride(from: 50, through: 99, by: 1) {
    let candidate = Double(step) / 100
    let t = tally(at: candidate, scored)
    if t.f1 > best.f1 { best = (candidate, t.f1) }
    if t.recall >= 0.95 { recallLine = candidate }
}
print(line(String(format: "best F1 @ %.2f", best.line), tally(at: best.line, scored)))
if let recallLine { print(line(String(format: "recall>=.95 @ %.2f", recallLine), tally(at: recallLine, scored))) }
else { print("no line keeps recall at 0.95 or more") }
print("aim: recall >= 0.95 and at most 5 false alerts per 100 non-matches overall")
// What no matcher of the words alone can tell apart: non-matches made of the very words of their list name (relatives
// whose names are a permutation: "Hassan Mahmoud Ayache" / "AYACHE, Mahmoud Hassan"), and matches sharing no word with
// theirs (another name altogether: "PARTY OF GOD" / "HIZBALLAH"; other categories' pairs sharing no word as written are
// reachable by spelling, spacing or initials). Latin-script pairs only (another script's
// words are compared after transliteration).
let sameWords = pairs.filter { pair in
    !pair.match && !NameNormalizer.isForeignScript(pair.query)
        && Set(NameNormalizer.tokens(pair.query)) == Set(NameNormalizer.tokens(pair.listName))
}
let noWordShared = pairs.filter { pair in
    pair.match && pair.category == "alias" && !NameNormalizer.isForeignScript(pair.query)
        && Set(NameNormalizer.tokens(pair.query)).isDisjoint(with: NameNormalizer.tokens(pair.listName))
}
let matches = pairs.filter(\.match).count, nonMatches = pairs.count - matches
print(String(format: "words alone cannot separate: %d non-matches have exactly their list name's words (at least %.1f false alerts / 100 non-matches for any matcher of words), %d aliases share no word with theirs (recall at most %.3f without an alias or translation table)",
             sameWords.count, 100 * Double(sameWords.count) / Double(max(1, nonMatches)), noWordShared.count,
             1 - Double(noWordShared.count) / Double(max(1, matches))))
print("the sweep, overall, by line:")
for step in stride(from: 70, through: 98, by: 2) {
    print(line(String(format: "  line %.2f", Double(step) / 100), tally(at: Double(step) / 100, scored)))
}

if showMisses {
    for row in scored where row.pair.match != (row.score >= review) {
        print(String(format: "%@ %@ %@ %.3f  %@  |  %@  %@", row.pair.id as NSString, row.pair.category as NSString,
                     (row.pair.match ? "missed" : "false alert") as NSString, row.score, row.pair.query as NSString, row.pair.listName as NSString,
                     row.reasons.joined(separator: "; ") as NSString))
    }
}
