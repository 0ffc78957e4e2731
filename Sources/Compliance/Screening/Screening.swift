/// One entry of a sanctions or PEP list, as every loader produces it, whatever the publisher's format.
public struct ListEntry: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable { case individual, entity, vessel, aircraft }

    /// `ofac-sdn`, `un`, `eu`, `ca-sema`, `pep`.
    public var source: String
    /// The publisher's own identifier (OFAC ent_num, UN reference number, EU logical id, …).
    public var sourceID: String
    public var kind: Kind
    /// The primary name first, then every alias.
    public var names: [String]
    /// `YYYY-MM-DD`, `YYYY-MM` or `YYYY`, as precise as the publisher gives.
    public var datesOfBirth: [String]
    /// ISO 3166 alpha-2 codes where the publisher's text maps to one, else its text.
    public var nationalities: [String]
    public var programmes: [String]

    public init(
        source: String, sourceID: String, kind: Kind, names: [String], datesOfBirth: [String] = [], nationalities: [String] = [],
        programmes: [String] = []
    ) {
        self.source = source
        self.sourceID = sourceID
        self.kind = kind
        self.names = names
        self.datesOfBirth = datesOfBirth
        self.nationalities = nationalities
        self.programmes = programmes
    }
}

/// Where scores turn into decisions; from the tenant's configuration, with these platform defaults.
public struct ScreeningThresholds: Sendable, Codable, Equatable {
    /// At or above: held for an officer's review.
    public var review: Double
    /// At or above: blocked.
    public var block: Double
    /// Candidates scoring below this are not reported at all.
    public var report: Double

    public static let platformDefault = ScreeningThresholds(review: 0.85, block: 0.97, report: 0.75)

    public init(review: Double, block: Double, report: Double) {
        self.review = review
        self.block = block
        self.report = report
    }
}

public struct ScreeningQuery: Sendable, Equatable {
    public var name: String
    /// `YYYY-MM-DD`.
    public var dateOfBirth: String?
    /// ISO 3166 alpha-2.
    public var nationality: String?

    public init(name: String, dateOfBirth: String? = nil, nationality: String? = nil) {
        self.name = name
        self.dateOfBirth = dateOfBirth
        self.nationality = nationality
    }
}

public enum ScreeningOutcome: String, Sendable, Codable { case clear, review, block }

/// A list entry that resembles the screened name, with everything an officer needs to see why.
public struct ScreeningCandidate: Sendable, Codable, Equatable {
    public let source: String
    public let sourceID: String
    public let listVersion: String
    public let kind: ListEntry.Kind
    public let matchedName: String
    public let normalizedName: [String]
    public let programmes: [String]
    public let nameScore: Double
    public let score: Double
    public let reasons: [String]
}

public struct ScreeningResult: Sendable, Codable, Equatable {
    public let decision: ScreeningOutcome
    public let score: Double
    public let normalizedName: [String]
    public let candidates: [ScreeningCandidate]
    public let thresholds: ScreeningThresholds
    /// The version of every list screened against, by source.
    public let listVersions: [String: String]
}

/// Every list entry's names, indexed for fuzzy token search. Built once per set of list versions
/// (immutable, shared by all requests). A query's tokens are compared (Jaro-Winkler) only with index
/// tokens of the same first letter and similar length — transliterations that change the first letter
/// are folded by `NameNormalizer` first — and only the names holding a close token are scored.
public final class ScreeningIndex: Sendable {
    public let entries: [ListEntry]
    public let listVersions: [String: String]
    /// Distinct tokens, as Unicode scalar values and as text.
    let vocabulary: [[UInt32]]
    let vocabularyText: [String]
    let tokenIDs: [String: Int32]
    /// Token ids by first scalar.
    let buckets: [UInt32: [Int32]]
    /// Each name: its entry and its distinct token ids.
    let names: [(entry: Int32, text: String, tokens: [Int32])]
    /// For each token id, the names that hold it.
    let postings: [[Int32]]

    /// Token pairs less similar than this do not count as a match at all.
    static let tokenFloor = 0.80

    public init(entries: [ListEntry], listVersions: [String: String]) {
        self.entries = entries
        self.listVersions = listVersions
        var vocabulary: [[UInt32]] = []
        var vocabularyText: [String] = []
        var tokenIDs: [String: Int32] = [:]
        var names: [(entry: Int32, text: String, tokens: [Int32])] = []
        var postings: [[Int32]] = []
        for (index, entry) in entries.enumerated() {
            for name in entry.names {
                var ids: [Int32] = []
                for token in NameNormalizer.tokens(name) {
                    let id: Int32
                    if let known = tokenIDs[token] {
                        id = known
                    } else {
                        id = Int32(vocabulary.count)
                        tokenIDs[token] = id
                        vocabulary.append(token.unicodeScalars.map(\.value))
                        vocabularyText.append(token)
                        postings.append([])
                    }
                    if !ids.contains(id) { ids.append(id) }
                }
                guard !ids.isEmpty else { continue }
                for id in ids { postings[Int(id)].append(Int32(names.count)) }
                names.append((Int32(index), name, ids))
            }
        }
        var buckets: [UInt32: [Int32]] = [:]
        for (id, token) in vocabulary.enumerated() { buckets[token[0], default: []].append(Int32(id)) }
        self.vocabulary = vocabulary
        self.vocabularyText = vocabularyText
        self.tokenIDs = tokenIDs
        self.buckets = buckets
        self.names = names
        self.postings = postings
    }

    public var nameCount: Int { names.count }

    public func screen(_ query: ScreeningQuery, thresholds: ScreeningThresholds = .platformDefault) -> ScreeningResult {
        var queryTokens: [String] = []
        for token in NameNormalizer.tokens(query.name) where !queryTokens.contains(token) { queryTokens.append(token) }
        guard !queryTokens.isEmpty else {
            return ScreeningResult(decision: .clear, score: 0, normalizedName: [], candidates: [], thresholds: thresholds, listVersions: listVersions)
        }
        // sims[q * vocabulary.count + t]: similarity of query token q and index token t (0: not close).
        let width = vocabulary.count
        var sims = [Float](repeating: 0, count: queryTokens.count * width)
        var touched: [Int32] = []
        for (q, token) in queryTokens.enumerated() {
            let scalars = token.unicodeScalars.map(\.value)
            let slack = max(2, scalars.count / 3)
            scalars.withUnsafeBufferPointer { mine in
                for id in buckets[scalars[0]] ?? [] {
                    let other = vocabulary[Int(id)]
                    guard abs(other.count - scalars.count) <= slack else { continue }
                    let similarity = other.withUnsafeBufferPointer { JaroWinkler.similarity(mine, $0) }
                    if similarity >= Self.tokenFloor {
                        sims[q * width + Int(id)] = Float(similarity)
                        touched.append(id)
                    }
                }
            }
        }
        // Score each name that holds a close token; keep each entry's best name.
        var seen = Set<Int32>()
        var best: [Int32: (score: Double, name: Int32)] = [:]
        for id in touched {
            for name in postings[Int(id)] where seen.insert(name).inserted {
                let score = nameScore(queryCount: queryTokens.count, tokens: names[Int(name)].tokens, sims: sims, width: width)
                let entry = names[Int(name)].entry
                if score > (best[entry]?.score ?? 0) { best[entry] = (score, name) }
            }
        }
        var candidates: [ScreeningCandidate] = []
        for (entryIndex, found) in best where found.score >= thresholds.report - Self.maximumBoost {
            let entry = entries[Int(entryIndex)]
            let name = names[Int(found.name)]
            var reasons: [String] = []
            for (q, token) in queryTokens.enumerated() {
                let match = name.tokens.map { ($0, sims[q * width + Int($0)]) }.max { $0.1 < $1.1 }
                if let (id, similarity) = match, similarity > 0 {
                    reasons.append("name token \(token) ~ \(vocabularyText[Int(id)]) (\(Self.format(Double(similarity))))")
                } else {
                    reasons.append("name token \(token) has no counterpart")
                }
            }
            let boost = Self.boost(query: query, entry: entry, reasons: &reasons)
            let score = min(1, max(0, found.score + boost))
            guard score >= thresholds.report else { continue }
            candidates.append(
                ScreeningCandidate(
                    source: entry.source, sourceID: entry.sourceID, listVersion: listVersions[entry.source] ?? "", kind: entry.kind,
                    matchedName: name.text, normalizedName: NameNormalizer.tokens(name.text), programmes: entry.programmes,
                    nameScore: Self.rounded(found.score), score: Self.rounded(score), reasons: reasons))
        }
        candidates.sort { ($0.score, $1.source, $1.sourceID) > ($1.score, $0.source, $0.sourceID) }
        let top = Array(candidates.prefix(10))
        let score = top.first?.score ?? 0
        let decision: ScreeningOutcome = score >= thresholds.block ? .block : score >= thresholds.review ? .review : .clear
        return ScreeningResult(
            decision: decision, score: score, normalizedName: queryTokens, candidates: top, thresholds: thresholds, listVersions: listVersions)
    }

    /// How well a name's tokens and the query's cover each other, order ignored: the shorter side's
    /// average best similarity, discounted by up to 15% as the two lengths differ. A single shared
    /// token between a one-word and a longer name never reaches review on its own (at most 0.80).
    func nameScore(queryCount: Int, tokens: [Int32], sims: [Float], width: Int) -> Double {
        var queryCover: Float = 0
        for q in 0..<queryCount {
            var top: Float = 0
            for t in tokens { top = max(top, sims[q * width + Int(t)]) }
            queryCover += top
        }
        var nameCover: Float = 0
        for t in tokens {
            var top: Float = 0
            for q in 0..<queryCount { top = max(top, sims[q * width + Int(t)]) }
            nameCover += top
        }
        let shorter = min(queryCount, tokens.count), longer = max(queryCount, tokens.count)
        let coverage = queryCount <= tokens.count ? Double(queryCover) / Double(queryCount) : Double(nameCover) / Double(tokens.count)
        let score = coverage * (0.85 + 0.15 * Double(shorter) / Double(longer))
        return shorter == 1 && longer > 1 ? min(score, 0.80) : score
    }

    static let maximumBoost = 0.06

    /// Date of birth and nationality move a score: an exact date +0.04, the same year +0.02, a list
    /// entry whose every date has another year −0.08; a shared nationality +0.02, none in common −0.04.
    static func boost(query: ScreeningQuery, entry: ListEntry, reasons: inout [String]) -> Double {
        var boost = 0.0
        if let dob = query.dateOfBirth, !entry.datesOfBirth.isEmpty {
            let year = String(dob.prefix(4))
            if entry.datesOfBirth.contains(dob) {
                boost += 0.04
                reasons.append("date of birth \(dob) matches")
            } else if entry.datesOfBirth.contains(where: { $0.hasPrefix(year) }) {
                boost += 0.02
                reasons.append("year of birth \(year) matches")
            } else {
                boost -= 0.08
                reasons.append("date of birth \(dob) differs from \(entry.datesOfBirth.joined(separator: ", "))")
            }
        }
        if let nationality = query.nationality?.uppercased(), !entry.nationalities.isEmpty {
            if entry.nationalities.contains(where: { $0.uppercased() == nationality }) {
                boost += 0.02
                reasons.append("nationality \(nationality) matches")
            } else {
                boost -= 0.04
                reasons.append("nationality \(nationality) differs from \(entry.nationalities.joined(separator: ", "))")
            }
        }
        return boost
    }

    static func rounded(_ value: Double) -> Double { (value * 10_000).rounded() / 10_000 }

    static func format(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        return "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
    }
}
