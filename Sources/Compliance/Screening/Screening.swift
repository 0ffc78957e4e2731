/// One entry of a sanctions or PEP list, as every loader produces it, whatever the publisher's format.
public struct ListEntry: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable { case individual, entity, vessel, aircraft }

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

public enum ScreeningOutcome: String, Sendable, Codable, CaseIterable { case clear, review, block }

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

    public init(
        source: String, sourceID: String, listVersion: String, kind: ListEntry.Kind, matchedName: String, normalizedName: [String],
        programmes: [String], nameScore: Double, score: Double, reasons: [String]
    ) {
        self.source = source
        self.sourceID = sourceID
        self.listVersion = listVersion
        self.kind = kind
        self.matchedName = matchedName
        self.normalizedName = normalizedName
        self.programmes = programmes
        self.nameScore = nameScore
        self.score = score
        self.reasons = reasons
    }
}

public struct ScreeningResult: Sendable, Codable, Equatable {
    public let decision: ScreeningOutcome
    public let score: Double
    public let normalizedName: [String]
    public let candidates: [ScreeningCandidate]
    public let thresholds: ScreeningThresholds
    /// The version of every list screened against, by source.
    public let listVersions: [String: String]

    public init(
        decision: ScreeningOutcome, score: Double, normalizedName: [String], candidates: [ScreeningCandidate], thresholds: ScreeningThresholds,
        listVersions: [String: String]
    ) {
        self.decision = decision
        self.score = score
        self.normalizedName = normalizedName
        self.candidates = candidates
        self.thresholds = thresholds
        self.listVersions = listVersions
    }
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
    /// Token ids by consonant skeleton (`NameNormalizer.skeleton`), for names written in the Arabic script.
    let skeletons: [String: [Int32]]
    /// Each name: its entry and its distinct token ids — for an organisation or a vessel, those of its core.
    let names: [(entry: Int32, text: String, tokens: [Int32])]
    /// Per name: an organisation's or vessel's (compared on its core), and the legal forms set aside (canonical).
    let organisations: [Bool]
    let forms: [[String]]
    /// For each token id, the names that hold it.
    let postings: [[Int32]]
    /// Per name: how many of its first tokens are a person's family name, as lists write it before a comma
    /// ("KIM, Chol": 1); 0 when the list does not say.
    let surnames: [UInt8]
    /// Organisations' and vessels' initials (three words or more, "of", "the", "for" aside) → the names they abbreviate.
    let acronyms: [String: [Int32]]

    /// Token pairs less similar than this do not count as a match at all.
    static let tokenFloor = 0.85

    public init(entries: [ListEntry], listVersions: [String: String]) {
        self.entries = entries
        self.listVersions = listVersions
        var vocabulary: [[UInt32]] = []
        var vocabularyText: [String] = []
        var tokenIDs: [String: Int32] = [:]
        var names: [(entry: Int32, text: String, tokens: [Int32])] = []
        var organisations: [Bool] = []
        var nameForms: [[String]] = []
        var postings: [[Int32]] = []
        var surnames: [UInt8] = []
        var acronyms: [String: [Int32]] = [:]
        for (index, entry) in entries.enumerated() {
            let organisation = entry.kind != .individual
            for (name, written) in entry.names.flatMap({ organisation ? Self.parenthesised($0) : [($0, $0)] }) {
                var ids: [Int32] = []
                let all = organisation ? LegalForms.joiningLetters(NameNormalizer.tokens(written)) : NameNormalizer.tokens(written)
                var (core, forms) = organisation ? LegalForms.split(all) : (all, [])
                if organisation { core = LegalForms.comparable(core) }
                for token in core {
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
                if organisation, let initials = Self.initials(core) { acronyms[initials, default: []].append(Int32(names.count)) }
                var surname = 0
                if !organisation, let comma = written.firstIndex(of: ",") {
                    let family = Set(NameNormalizer.tokens(String(written[..<comma])))
                    surname = ids.prefix { family.contains(vocabularyText[Int($0)]) }.count
                }
                for id in ids { postings[Int(id)].append(Int32(names.count)) }
                names.append((Int32(index), name, ids))
                organisations.append(organisation)
                nameForms.append(forms)
                surnames.append(UInt8(min(surname, 8)))
            }
        }
        var buckets: [UInt32: [Int32]] = [:]
        var skeletons: [String: [Int32]] = [:]
        for (id, token) in vocabulary.enumerated() {
            buckets[token[0], default: []].append(Int32(id))
            let skeleton = NameNormalizer.skeleton(vocabularyText[id])
            if !skeleton.isEmpty { skeletons[skeleton, default: []].append(Int32(id)) }
        }
        self.skeletons = skeletons
        self.vocabulary = vocabulary
        self.vocabularyText = vocabularyText
        self.tokenIDs = tokenIDs
        self.buckets = buckets
        self.names = names
        self.organisations = organisations
        self.forms = nameForms
        self.postings = postings
        self.surnames = surnames
        self.acronyms = acronyms
    }

    /// An organisation's name with what it writes in parentheses, as lists write an acronym or a former name
    /// ("NAFTIRAN INTERTRADE CO. (NICO) LIMITED"): the name as written, the name without the parenthesis and what the
    /// parenthesis holds, each indexed (the first of each pair is shown, the second compared).
    static func parenthesised(_ name: String) -> [(String, String)] {
        guard let open = name.firstIndex(of: "("), let close = name[open...].firstIndex(of: ")") else { return [(name, name)] }
        let inner = String(name[name.index(after: open)..<close])
        let outer = String(name[..<open]) + " " + String(name[name.index(after: close)...])
        return [(name, name), (name, outer), (name, inner)].filter { !NameNormalizer.tokens($0.1).isEmpty }
    }

    /// Words left out of initials.
    static let acronymStopWords: Set<String> = ["of", "the", "for", "in", "on", "at", "to", "a", "an", "und", "et", "des", "pour"]

    /// The initials of an organisation's core of three words or more, nil for a shorter core or one with a number.
    static func initials(_ core: [String]) -> String? {
        let words = core.filter { !acronymStopWords.contains($0) }
        guard words.count >= 3, words.count <= 8, !words.contains(where: { $0.first?.isNumber ?? true }) else { return nil }
        return String(words.compactMap(\.first))
    }

    public var nameCount: Int { names.count }
    public var vocabularySize: Int { vocabulary.count }

    public func screen(_ query: ScreeningQuery, thresholds: ScreeningThresholds = .platformDefault) -> ScreeningResult {
        var queryTokens: [String] = []
        for token in NameNormalizer.tokens(query.name) where !queryTokens.contains(token) { queryTokens.append(token) }
        guard !queryTokens.isEmpty else {
            return ScreeningResult(decision: .clear, score: 0, normalizedName: [], candidates: [], thresholds: thresholds, listVersions: listVersions)
        }
        var candidates = screen(tokens: queryTokens, query: query, thresholds: thresholds, respaced: nil)
        // The name with its words joined or split otherwise, as the list may write them: each such reading is screened
        // too, and an entry keeps its best candidate.
        for (variant, note) in spacingVariants(queryTokens) {
            for candidate in screen(tokens: variant, query: query, thresholds: thresholds, respaced: note) {
                if let index = candidates.firstIndex(where: { $0.source == candidate.source && $0.sourceID == candidate.sourceID }) {
                    if candidate.score > candidates[index].score { candidates[index] = candidate }
                } else {
                    candidates.append(candidate)
                }
            }
        }
        candidates.sort { ($0.score, $1.source, $1.sourceID) > ($1.score, $0.source, $0.sourceID) }
        let top = Array(candidates.prefix(10))
        let score = top.first?.score ?? 0
        let decision: ScreeningOutcome = score >= thresholds.block ? .block : score >= thresholds.review ? .review : .clear
        return ScreeningResult(
            decision: decision, score: score, normalizedName: Array(queryTokens.prefix(16)), candidates: top, thresholds: thresholds, listVersions: listVersions)
    }

    /// Other readings of a query's words (at most 6): a run of single letters joined ("M. D. S." → mds, "G.I.E." →
    /// gie); two neighbouring words joined where the list holds the joined word ("Fakhr Zadeh" → fakhrzadeh, "Hizb
    /// Allah" → hizballah); a word the list does not hold split in two that it does, or whose first part is a particle
    /// or legal form ("Yahyazadeh" → yahya zadeh, "AlQaida" → qaida, "EtsDiallo" → ets diallo). Each with a note
    /// for the reasons.
    func spacingVariants(_ tokens: [String]) -> [([String], String)] {
        var variants: [([String], String)] = []
        let letters = LegalForms.joiningLetters(tokens)
        if letters != tokens { variants.append((letters, "letters read as one word: \(letters.filter { !tokens.contains($0) }.joined(separator: ", "))")) }
        for i in tokens.indices.dropLast() where variants.count < 6 {
            let joined = tokens[i] + tokens[i + 1]
            guard tokenIDs[joined] != nil else { continue }
            variants.append((Array(tokens[..<i]) + [joined] + Array(tokens[(i + 2)...]), "\(tokens[i]) \(tokens[i + 1]) read as \(joined)"))
        }
        for (i, token) in tokens.enumerated() where variants.count < 6 && token.count >= 5 && tokenIDs[token] == nil {
            let characters = Array(token)
            guard !characters.allSatisfy(\.isNumber) else { continue }
            for k in stride(from: characters.count - 2, through: 2, by: -1) {
                let prefix = String(characters[..<k]), suffix = String(characters[k...])
                guard tokenIDs[suffix] != nil else { continue }
                let parts: [String]
                if tokenIDs[prefix] != nil || LegalForms.formWords.contains(prefix) {
                    parts = [prefix, suffix]
                } else if NameNormalizer.particles.contains(prefix) {
                    parts = [suffix]
                } else {
                    continue
                }
                variants.append((Array(tokens[..<i]) + parts + Array(tokens[(i + 1)...]), "\(token) read as \(prefix) \(suffix)"))
                break
            }
        }
        return variants
    }

    /// The candidates for one reading of the query's words (`respaced`: how they were re-read, nil for as written).
    func screen(tokens: [String], query: ScreeningQuery, thresholds: ScreeningThresholds, respaced: String?) -> [ScreeningCandidate] {
        var queryTokens = tokens
        // Up to 16 distinct query tokens take part (a longer "name" is not a name).
        if queryTokens.count > 16 { queryTokens = Array(queryTokens.prefix(16)) }
        // Against an organisation or a vessel, only the query's core counts, as `LegalForms.comparable` reads it: its
        // legal forms are set aside and its numerals read as numbers. A core token the name does not hold as written
        // is compared as one more query token (`coreMask` says which take part for such names).
        let personCount = queryTokens.count
        let everyToken: UInt16 = personCount == 16 ? .max : (1 << personCount) - 1
        let queryForms = LegalForms.scan(queryTokens)
        var coreMask: UInt16 = 0
        for token in LegalForms.comparable(Array(queryTokens[queryForms?.core ?? 0..<personCount])) {
            if let q = queryTokens.firstIndex(of: token) {
                coreMask |= 1 << q
            } else if queryTokens.count < 16 {
                queryTokens.append(token)
                coreMask |= 1 << (queryTokens.count - 1)
            }
        }
        let queryCount = queryTokens.count
        let arabic = NameNormalizer.isArabicScript(query.name)
        let foreignScript = NameNormalizer.isForeignScript(query.name)
        // sims[q * vocabulary.count + t]: similarity of query token q and index token t (0: not close).
        let width = vocabulary.count
        var sims = [Float](repeating: 0, count: queryCount * width)
        var close: [[Int32]] = Array(repeating: [], count: queryCount)
        for (q, token) in queryTokens.enumerated() {
            let scalars = token.unicodeScalars.map(\.value)
            let slack = max(2, scalars.count / 3)
            scalars.withUnsafeBufferPointer { mine in
                for id in buckets[scalars[0]] ?? [] {
                    let other = vocabulary[Int(id)]
                    guard abs(other.count - scalars.count) <= slack else { continue }
                    // Numbers are identity, not spelling: 11 is not 1.
                    let similarity = Self.isNumber(scalars) || Self.isNumber(other)
                        ? (scalars == other ? 1 : 0) : other.withUnsafeBufferPointer { JaroWinkler.similarity(mine, $0) }
                    if similarity >= Self.tokenFloor {
                        sims[q * width + Int(id)] = Float(similarity)
                        close[q].append(id)
                    }
                }
            }
            // A name written in the Arabic script comes without its short vowels: its consonants are compared too.
            if arabic {
                let skeleton = NameNormalizer.skeleton(token)
                for id in skeletons[skeleton] ?? [] where sims[q * width + Int(id)] < Float(Self.skeletonMatch) {
                    if sims[q * width + Int(id)] == 0 { close[q].append(id) }
                    sims[q * width + Int(id)] = Float(Self.skeletonMatch)
                }
            }
        }
        // Which query tokens each name holds a close token for (a bit per query token).
        var hits = [UInt16](repeating: 0, count: names.count)
        var hitNames: [Int32] = []
        for q in 0..<queryCount {
            for id in close[q] {
                for name in postings[Int(id)] {
                    if hits[Int(name)] == 0 { hitNames.append(name) }
                    hits[Int(name)] |= 1 << q
                }
            }
        }
        // Score only the names that could still reach the report threshold, keeping each entry's best.
        var bestScore = [Double](repeating: 0, count: entries.count)
        var bestName = [Int32](repeating: -1, count: entries.count)
        var touchedEntries: [Int32] = []
        for name in hitNames {
            let tokens = names[Int(name)].tokens
            let organisation = organisations[Int(name)]
            let active = organisation ? coreMask : everyToken
            let bound = Self.scoreBound(
                matched: (hits[Int(name)] & active).nonzeroBitCount, queryCount: active.nonzeroBitCount, nameCount: tokens.count, organisation: organisation)
            guard bound + Self.maximumBoost >= thresholds.report else { continue }
            let score = nameScore(
                active: active, tokens: tokens, sims: sims, width: width, organisation: organisation, strictSpelling: !foreignScript,
                surname: Int(surnames[Int(name)]))
            let entry = Int(names[Int(name)].entry)
            if bestName[entry] < 0 { touchedEntries.append(Int32(entry)) }
            if score > bestScore[entry] || bestName[entry] < 0 {
                bestScore[entry] = score
                bestName[entry] = name
            }
        }
        // Initials: a one-word query that is an organisation's initials (IRGC), or a query of three words or more whose
        // initials are a one-word listed name.
        var initialsNote: [Int32: String] = [:]
        let queryCore = (0..<queryCount).filter { coreMask & (1 << $0) != 0 }.map { queryTokens[$0] }
        var initialsHits: [Int32] = []
        if queryCore.count == 1, let word = queryCore.first, (3...8).contains(word.count), word.allSatisfy(\.isLetter) {
            initialsHits = acronyms[word] ?? []
        } else if let initials = Self.initials(queryCore), let id = tokenIDs[initials] {
            initialsHits = postings[Int(id)].filter { organisations[Int($0)] && names[Int($0)].tokens.count == 1 }
        }
        for name in initialsHits {
            let entry = Int(names[Int(name)].entry)
            guard Self.initialsMatch > bestScore[entry] || bestName[entry] < 0 else { continue }
            if bestName[entry] < 0 { touchedEntries.append(Int32(entry)) }
            bestScore[entry] = Self.initialsMatch
            bestName[entry] = name
            initialsNote[Int32(entry)] = queryCore.count == 1
                ? "name \(queryCore[0]) read as the initials of \(names[Int(name)].tokens.map { vocabularyText[Int($0)] }.joined(separator: " "))"
                : "name read as its initials, \(Self.initials(queryCore) ?? "")"
        }
        let best = touchedEntries.map { (entry: $0, found: (score: bestScore[Int($0)], name: bestName[Int($0)])) }
        var candidates: [ScreeningCandidate] = []
        for (entryIndex, found) in best where found.score >= thresholds.report - Self.maximumBoost {
            let entry = entries[Int(entryIndex)]
            let name = names[Int(found.name)]
            var reasons: [String] = []
            let organisation = organisations[Int(found.name)]
            let active = organisation ? coreMask : everyToken
            if organisation {
                reasons.append("name kind: \(entry.kind == .vessel ? "vessel" : "organisation"), compared on its core")
                let forms = (queryForms?.forms ?? []) + self.forms[Int(found.name)]
                if !forms.isEmpty { reasons.append("legal form recognised: \(Array(Set(forms)).sorted().joined(separator: ", "))") }
            }
            if let respaced { reasons.append("words joined or split: \(respaced)") }
            if let note = initialsNote[entryIndex] { reasons.append(note) }
            for (q, token) in queryTokens.enumerated() where initialsNote[entryIndex] == nil {
                guard active & (1 << q) != 0 else {
                    if q < personCount { reasons.append("name token \(token) set aside (a legal form, or a numeral read as its number)") }
                    continue
                }
                let match = name.tokens.map { ($0, sims[q * width + Int($0)]) }.max { $0.1 < $1.1 }
                if let (id, similarity) = match, similarity > 0 {
                    reasons.append("name token \(token) ~ \(vocabularyText[Int(id)]) (\(Self.format(Double(similarity))))")
                } else {
                    reasons.append("name token \(token) has no counterpart")
                }
            }
            var adjusted = found.score
            if organisation, !LegalForms.compatible(queryForms?.forms ?? [], self.forms[Int(found.name)]) {
                adjusted *= Self.otherLegalForm
                reasons.append("legal forms differ: \((queryForms?.forms ?? []).joined(separator: ", ")) / \(self.forms[Int(found.name)].joined(separator: ", "))")
            }
            if respaced != nil { adjusted *= Self.respacedMatch }
            let boost = Self.boost(query: query, entry: entry, reasons: &reasons)
            // Only a name matched whole on both sides blocks: a partial one tops out just under the block
            // line whatever its date of birth and nationality say, so an officer looks at it.
            let whole = initialsNote[entryIndex] == nil
                && (organisation ? name.tokens.count == active.nonzeroBitCount : NameNormalizer.tokens(name.text).count == personCount)
            let score = min(whole ? 1 : thresholds.block - 0.01, max(0, adjusted + boost))
            guard score >= thresholds.report else { continue }
            candidates.append(
                ScreeningCandidate(
                    source: entry.source, sourceID: entry.sourceID, listVersion: listVersions[entry.source] ?? "", kind: entry.kind,
                    matchedName: name.text, normalizedName: NameNormalizer.tokens(name.text), programmes: entry.programmes,
                    nameScore: Self.rounded(found.score), score: Self.rounded(score), reasons: reasons))
        }
        return candidates
    }

    /// How well a name's tokens and the query's cover each other, order ignored: query and name
    /// tokens are paired one to one, most similar first; the sum of the pairs' similarities over the
    /// shorter side's length, discounted by up to 15% as the two lengths differ. A one-word name or
    /// query against a longer one never reaches a decision on a single shared word (at most 0.70).
    /// An organisation's or vessel's core must be covered on both sides: its score is the pairs' sum over the longer
    /// side, so an extra or missing core word ("Motor Spares", "Shipping") counts fully against it.
    /// A person's name whose listed family name has no counterpart in the query at all ("Mohamed Ahmed" against
    /// "GHAWIL, Khalifa Mohamed Ahmed") is another family's: its score is cut by `surnameMissing`.
    func nameScore(active: UInt16, tokens: [Int32], sims: [Float], width: Int, organisation: Bool, strictSpelling: Bool, surname: Int = 0) -> Double {
        var pairs: [(similarity: Float, q: Int, t: Int)] = []
        for q in 0..<16 where active & (1 << q) != 0 {
            for (t, id) in tokens.enumerated() {
                var similarity = sims[q * width + Int(id)]
                // A company's or vessel's word spelled otherwise is more often another word (Fortune / Fortuna, Salina /
                // Sarina) than a typo: its distance from exact counts `inexactOrganisationWord` times over (not for a
                // query in another script, whose Latin spelling is the transliterator's, not the customer's).
                if organisation, strictSpelling, similarity < 1 { similarity = max(0, 1 - Float(Self.inexactOrganisationWord) * (1 - similarity)) }
                if similarity > 0 { pairs.append((similarity, q, t)) }
            }
        }
        pairs.sort { ($0.similarity, $1.q, $1.t) > ($1.similarity, $0.q, $0.t) }
        var usedQuery: UInt16 = 0
        var usedName: UInt64 = 0
        var sum: Float = 0
        for pair in pairs where usedQuery & (1 << pair.q) == 0 && (pair.t >= 64 || usedName & (1 << UInt64(pair.t)) == 0) {
            usedQuery |= 1 << pair.q
            if pair.t < 64 { usedName |= 1 << UInt64(pair.t) }
            sum += pair.similarity
        }
        let queryCount = active.nonzeroBitCount
        let shorter = min(queryCount, tokens.count), longer = max(queryCount, tokens.count)
        if organisation { return min(1, Double(sum) / Double(longer)) }
        let score = Self.combine(coverage: Double(sum) / Double(shorter), shorter: shorter, longer: longer)
        return surname > 0 && usedName & ((1 << UInt64(surname)) - 1) == 0 ? score * Self.surnameMissing : score
    }

    static let surnameMissing = 0.88

    /// A name matched only once its words were joined or split: held for review, never blocked.
    static let respacedMatch = 0.95

    /// A name matched by its initials: held for review, never blocked (initials are shared by many names).
    static let initialsMatch = 0.90

    /// Two tokens with the same consonants, one of them from the Arabic script: a likely match, never a sure one (it
    /// reaches the review line, not the block line).
    static let skeletonMatch = 0.92

    static let inexactOrganisationWord = 3.0

    static func isNumber(_ scalars: [UInt32]) -> Bool { scalars.allSatisfy { (48...57).contains($0) } }

    /// A name whose legal forms and the query's cannot describe one company (AG and FZE) is another company of the
    /// same core name: its score is cut by this factor, below the review line from a whole match.
    static let otherLegalForm = 0.8

    static let singleWordCap = 0.70

    static func combine(coverage: Double, shorter: Int, longer: Int) -> Double {
        let score = min(1, coverage) * (0.85 + 0.15 * Double(shorter) / Double(longer))
        return shorter == 1 && longer > 1 ? min(score, singleWordCap) : score
    }

    /// The most a name can score when `matched` query tokens have a close token in it.
    static func scoreBound(matched: Int, queryCount: Int, nameCount: Int, organisation: Bool = false) -> Double {
        let shorter = min(queryCount, nameCount), longer = max(queryCount, nameCount)
        guard shorter > 0 else { return 0 }
        if organisation { return Double(min(matched, shorter)) / Double(longer) }
        return combine(coverage: Double(min(matched, shorter)) / Double(shorter), shorter: shorter, longer: longer)
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
