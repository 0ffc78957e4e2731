import Synchronization

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
    /// Distinct tokens as text, and as Unicode scalar values laid end to end (token i is
    /// `scalars[offsets[i]..<offsets[i + 1]]`).
    let vocabularyText: [String]
    let scalars: [UInt32]
    let offsets: [Int32]
    let tokenIDs: [String: Int32]
    /// Tokens by first scalar and length (`bucketKey`), each with a mask of the scalars it holds (value mod 64) and how
    /// many of its scalars repeat one before it: enough to rule out most tokens before Jaro-Winkler (`couldBeClose`),
    /// reading one array front to back.
    let buckets: [UInt64: [Candidate]]

    struct Candidate {
        let id: Int32
        let repeats: UInt8
        let mask: UInt64
    }
    /// Token ids by consonant skeleton (`NameNormalizer.skeleton`), for names written in the Arabic script.
    let skeletons: [String: [Int32]]
    /// Each name: its entry and its distinct token ids — for an organisation or a vessel, those of its core.
    let names: [(entry: Int32, text: String, tokens: [Int32])]
    /// Per name: an organisation's or vessel's (compared on its core), and the legal forms set aside (canonical).
    let organisations: [Bool]
    let forms: [[String]]
    /// For each token id, the names that hold it.
    let postings: [[Int32]]
    /// Per person's name whose family name the list marks, before a comma ("KIM, Chol") or in capitals among other words
    /// ("Chol KIM", OFAC's names turned round): the bit of its first family word (low byte) and of its first given name
    /// (high byte, 0 without one) among its first eight tokens; 0 when the list does not say.
    let leads: [UInt16]
    /// Organisations' and vessels' initials (three words or more, "of", "the", "for" aside) → the names they abbreviate.
    let acronyms: [String: [Int32]]
    /// The names holding each pair of distinct tokens (`pairKey`), sorted by key: `pairKeys[i]` is held by
    /// `pairNames[pairStarts[i]..<pairStarts[i + 1]]`. A name of two tokens or more can only reach the report line
    /// with two of the query's tokens matched, so its candidates are found through the pairs, never by walking the
    /// long postings of a common name (Muhammad, Kim).
    /// Within a pair's run, the names of those two tokens alone come first and end at `pairShortEnds[i]`.
    let pairKeys: [UInt64]
    let pairStarts: [Int32]
    let pairShortEnds: [Int32]
    let pairNames: [Int32]
    /// Where the pairs whose smaller token is token t begin in `pairKeys` (they run to `pairFirst[t + 1]`).
    let pairFirst: [Int32]
    /// The one-token names holding each token.
    let singles: [Int32: [Int32]]
    /// Per person's name: how many words it normalises to (matched whole, it has as many as the query); 0 for others.
    let wordCounts: [UInt8]

    /// Token pairs less similar than this do not count as a match at all.
    static let tokenFloor = 0.85

    /// How often each word names or describes organisations in the lists (`WordStatistics`): the index's own unless
    /// given (an evaluation of single pairs borrows a whole list's).
    let statistics: WordStatistics

    /// The close index tokens of query tokens met before (`closeTokens`, keyed by token and whether the query was in
    /// the Arabic script), shared by every request: customers' names repeat common words (Muhammad, Ali, Grace), so
    /// most words are looked up once. Emptied when it holds `closeCacheLimit` words; a pure cache of a pure function.
    let closeCache = Mutex<[String: CloseRow]>([:])
    static let closeCacheLimit = 50_000

    /// A query token's close index tokens: their similarity, and for those not spelled the same, whether the spelling is
    /// close enough for a person's name (`closeSpelling`, bit 0) and for an organisation's word (`organisationSpelling`,
    /// bit 1) — worked out once per token, not per name holding it.
    /// `usable` is `similar` without the tokens a spelling over budget rules out for both kinds of name: for a query in
    /// the Latin script they cannot count in any name, so they find no candidate.
    struct CloseRow: Sendable {
        let similar: [Int32: Float]
        let spelling: [Int32: UInt8]
        let usable: [Int32: Float]

        static let personSpelling: UInt8 = 1, organisationSpelling: UInt8 = 2, plural: UInt8 = 4

        func allows(_ id: Int32, organisation: Bool) -> Bool {
            guard let verdict = spelling[id] else { return true }
            return verdict & (organisation ? Self.organisationSpelling : Self.personSpelling) != 0
        }

        /// The kinds of name token `id` may count in, for a query in the Latin script: a person's (bit 0), an
        /// organisation's or vessel's (bit 1; a plural is weighed there, `nameScore`).
        func kinds(_ id: Int32) -> UInt8 {
            guard let verdict = spelling[id] else { return 3 }
            return verdict & Self.personSpelling | (verdict & (Self.organisationSpelling | Self.plural) != 0 ? Self.organisationSpelling : 0)
        }
    }

    func closeRow(_ token: String, consonants: NameNormalizer.ConsonantScript?) -> CloseRow {
        let similar = closeTokens(token, consonants: consonants)
        var spelling: [Int32: UInt8] = [:]
        // What every verdict of this token shares, worked out once: its scalars, consonants and whether companies use it.
        let mine = Array(token.unicodeScalars.map(\.value))
        let skeleton = mine.count >= 5 ? NameNormalizer.skeleton(token) : ""
        let knownWord = (statistics.organisationWords[token] ?? 0) >= Self.knownWordLeast
        for (id, similarity) in similar where similarity < 1 {
            let listed = Array(scalars[Int(offsets[Int(id)])..<Int(offsets[Int(id) + 1])])
            let distance = EditDistance.distance(mine, listed)
            let shorter = min(mine.count, listed.count)
            let person = Self.closeSpelling(distance: distance, shorter: shorter) {
                skeleton.count >= 2 && skeleton == NameNormalizer.skeleton(self.vocabularyText[Int(id)])
            }
            let organisation = !knownWord && Self.organisationSpelling(distance: distance, shorter: shorter)
            let plural = Self.isPlural(token, vocabularyText[Int(id)])
            spelling[id] = (person ? CloseRow.personSpelling : 0) | (organisation ? CloseRow.organisationSpelling : 0) | (plural ? CloseRow.plural : 0)
        }
        return CloseRow(similar: similar, spelling: spelling, usable: similar.filter { (spelling[$0.key] ?? 1) != 0 })
    }

    public init(entries: [ListEntry], listVersions: [String: String], statistics: WordStatistics? = nil) {
        self.entries = entries
        self.listVersions = listVersions
        var vocabularyCount = 0
        var vocabularyText: [String] = []
        var tokenIDs: [String: Int32] = [:]
        var names: [(entry: Int32, text: String, tokens: [Int32])] = []
        var organisations: [Bool] = []
        var nameForms: [[String]] = []
        var postings: [[Int32]] = []
        var leads: [UInt16] = []
        var wordCounts: [UInt8] = []
        // The lists' own word statistics, counted from the cores compiled here (unless given).
        var organisationWords: [String: Int] = [:]
        var organisationNames = 0
        var acronyms: [String: [Int32]] = [:]
        for (index, entry) in entries.enumerated() {
            let organisation = entry.kind != .individual
            if organisation { organisationNames += entry.names.count }
            for (name, written) in entry.names.flatMap({ organisation ? Self.parenthesised($0) : [($0, $0)] }) {
                var ids: [Int32] = []
                let (core, forms) = organisation ? Self.organisationCore(written) : (NameNormalizer.tokens(written), [])
                // Each listed name counts once: as written, not its parenthesis-free reading or what its parenthesis holds.
                if organisation, statistics == nil, written == name { for word in Set(core) { organisationWords[word, default: 0] += 1 } }
                for token in core {
                    let id: Int32
                    if let known = tokenIDs[token] {
                        id = known
                    } else {
                        id = Int32(vocabularyCount)
                        vocabularyCount += 1
                        tokenIDs[token] = id
                        vocabularyText.append(token)
                        postings.append([])
                    }
                    if !ids.contains(id) { ids.append(id) }
                }
                guard !ids.isEmpty else { continue }
                if organisation, let initials = Self.initials(core) { acronyms[initials, default: []].append(Int32(names.count)) }
                var lead: UInt16 = 0
                if !organisation, let family = Self.familyName(written),
                   let firstFamily = ids.prefix(8).firstIndex(where: { family.contains(vocabularyText[Int($0)]) }) {
                    lead = UInt16(1) << firstFamily
                    if let firstGiven = ids.prefix(8).firstIndex(where: { !family.contains(vocabularyText[Int($0)]) }) { lead |= UInt16(1) << (8 + firstGiven) }
                }
                for id in ids { postings[Int(id)].append(Int32(names.count)) }
                names.append((Int32(index), name, ids))
                organisations.append(organisation)
                nameForms.append(forms)
                leads.append(lead)
                // A person's name as written is what it is compared as (its words, repeats kept); an organisation's
                // word count is not used (its core is).
                wordCounts.append(organisation ? 0 : UInt8(min(core.count, 255)))
            }
        }
        var buckets: [UInt64: [Candidate]] = [:]
        var skeletons: [String: [Int32]] = [:]
        var scalars: [UInt32] = []
        var offsets: [Int32] = [0]
        for (id, text) in vocabularyText.enumerated() {
            let token = text.unicodeScalars.map(\.value)
            scalars.append(contentsOf: token)
            offsets.append(Int32(scalars.count))
            let (mask, repeated) = Self.signature(token)
            buckets[Self.bucketKey(token[0], token.count), default: []].append(Candidate(id: Int32(id), repeats: repeated, mask: mask))
            let skeleton = NameNormalizer.skeleton(text)
            if skeleton.count >= 2 { skeletons[skeleton, default: []].append(Int32(id)) }
        }
        var pairs: [(key: UInt64, longer: Bool, name: Int32)] = []
        var singles: [Int32: [Int32]] = [:]
        for (index, name) in names.enumerated() {
            let tokens = name.tokens
            if tokens.count == 1 { singles[tokens[0], default: []].append(Int32(index)) }
            for i in tokens.indices {
                for j in tokens.indices where j > i { pairs.append((Self.pairKey(tokens[i], tokens[j]), tokens.count > 2, Int32(index))) }
            }
        }
        pairs.sort { ($0.key, $0.longer ? 1 : 0, $0.name) < ($1.key, $1.longer ? 1 : 0, $1.name) }
        var pairKeys: [UInt64] = []
        var pairStarts: [Int32] = []
        var pairShortEnds: [Int32] = []
        var pairNames: [Int32] = []
        pairNames.reserveCapacity(pairs.count)
        for pair in pairs {
            if pairKeys.last != pair.key {
                pairKeys.append(pair.key)
                pairStarts.append(Int32(pairNames.count))
                pairShortEnds.append(Int32(pairNames.count))
            }
            pairNames.append(pair.name)
            // Two-word names sort first in their run: the run's two-word part ends after the last of them.
            if !pair.longer { pairShortEnds[pairShortEnds.count - 1] = Int32(pairNames.count) }
        }
        pairStarts.append(Int32(pairNames.count))
        var pairFirst = [Int32](repeating: 0, count: vocabularyText.count + 1)
        var cursor = 0
        for token in 0...vocabularyText.count {
            while cursor < pairKeys.count, pairKeys[cursor] >> 32 < UInt64(token) { cursor += 1 }
            pairFirst[token] = Int32(cursor)
        }
        self.pairFirst = pairFirst
        self.pairKeys = pairKeys
        self.pairStarts = pairStarts
        self.pairShortEnds = pairShortEnds
        self.pairNames = pairNames
        self.singles = singles
        self.wordCounts = wordCounts
        self.statistics = statistics ?? WordStatistics(organisationWords: organisationWords, organisationNames: organisationNames)
        self.skeletons = skeletons
        self.scalars = scalars
        self.offsets = offsets
        self.vocabularyText = vocabularyText
        self.tokenIDs = tokenIDs
        self.buckets = buckets
        self.names = names
        self.organisations = organisations
        self.forms = nameForms
        self.postings = postings
        self.leads = leads
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

    /// An organisation's or vessel's name as compared: its letters written apart joined, its legal forms set aside
    /// (canonical), its core's numerals and abbreviations read (`LegalForms.comparable`).
    static func organisationCore(_ written: String) -> (core: [String], forms: [String]) {
        let (core, forms) = LegalForms.split(LegalForms.joiningLetters(NameNormalizer.tokens(written)))
        return (LegalForms.comparable(core), forms)
    }

    /// Whether one word is the other's plural (s, es, ies for y): Fishes / Fish, Farmacias / Farmacia, Industries /
    /// Industry.
    public static func isPlural(_ a: String, _ b: String) -> Bool {
        let (long, short) = a.count > b.count ? (a, b) : (b, a)
        guard short.count >= 3, long.hasPrefix(short.dropLast()) else { return false }
        return long == short + "s" || long == short + "es" || (short.hasSuffix("y") && long == short.dropLast() + "ies")
    }

    /// A person's family name as the list marks it: the words before a comma, else the words in capitals of a name
    /// that also has words in lower case; nil when it does not say.
    public static func familyName(_ written: String) -> Set<String>? {
        if let comma = written.firstIndex(of: ",") { return Set(NameNormalizer.tokens(String(written[..<comma]))) }
        let words = written.split(whereSeparator: { $0 == " " })
        let capitals = words.filter { word in word.contains(where: \.isLetter) && !word.contains(where: \.isLowercase) && word.filter(\.isLetter).count >= 2 }
        guard !capitals.isEmpty, capitals.count < words.count, words.contains(where: { $0.contains(where: \.isLowercase) }) else { return nil }
        return Set(capitals.flatMap { NameNormalizer.tokens(String($0)) })
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
    public var vocabularySize: Int { vocabularyText.count }

    static func bucketKey(_ first: UInt32, _ length: Int) -> UInt64 { UInt64(first) << 8 | UInt64(min(length, 255)) }

    static func pairKey(_ a: Int32, _ b: Int32) -> UInt64 { UInt64(UInt32(min(a, b))) << 32 | UInt64(UInt32(max(a, b))) }

    /// A token's scalars as a 64-bit mask (value mod 64: distinct scalars may share a bit, which only loosens the
    /// bound), and how many of its scalars repeat an earlier one.
    static func signature(_ token: [UInt32]) -> (mask: UInt64, repeats: UInt8) {
        var mask: UInt64 = 0
        var seen = Set<UInt32>()
        var repeated = 0
        for scalar in token {
            mask |= 1 << UInt64(scalar & 63)
            if !seen.insert(scalar).inserted { repeated += 1 }
        }
        return (mask, UInt8(min(repeated, 255)))
    }

    /// Whether two tokens with a common prefix of `prefix` scalars (at most 4 count) could reach `tokenFloor` (0.85):
    /// Jaro-Winkler is j + 0.1p(1 − j), so it needs j ≥ (0.85 − 0.1p) / (1 − 0.1p); and j ≤ (m/|a| + m/|b| + 1) / 3 for m
    /// matching scalars, m at most the scalars the masks share plus the fewer repeats. In integers (tenths):
    /// m(|a| + |b|)(10 − p) ≥ (3(85 − 10p) − 10(10 − p))/10 · |a||b|, i.e. 10·m(|a|+|b|)(10 − p) ≥ (155 − 20p)|a||b|.
    @inline(__always)
    static func couldBeClose(
        _ maskA: UInt64, _ lengthA: Int, _ repeatsA: UInt8, _ maskB: UInt64, _ lengthB: Int, _ repeatsB: UInt8, prefix: Int
    ) -> Bool {
        let m = min(lengthA, lengthB, (maskA & maskB).nonzeroBitCount + Int(min(repeatsA, repeatsB)))
        let p = min(prefix, 4)
        return 10 * m * (lengthA + lengthB) * (10 - p) >= (155 - 20 * p) * lengthA * lengthB
    }

    /// Appends to `found` the names holding a token of `left` and another of `right`. Every pair (a, b) is kept under
    /// its smaller token, its partners sorted: for each token x of either side, the other side's tokens above x are
    /// found in x's partners — by walking them when they are few, else by binary search — so a common token's long
    /// run of partners is never walked for a short list of close tokens.
    func namesHolding(_ left: [Int32: Float], _ right: [Int32: Float], into found: inout [Int32], twoWordsOnly: Bool = false) {
        forEachPair(left, right) { index in
            found.append(contentsOf: pairNames[Int(pairStarts[index])..<Int(twoWordsOnly ? pairShortEnds[index] : pairStarts[index + 1])])
        }
    }

    /// How many names `namesHolding` would append (what walking those pairs costs).
    func pairCount(_ left: [Int32: Float], _ right: [Int32: Float]) -> Int {
        var count = 0
        forEachPair(left, right) { index in count += Int(pairStarts[index + 1] - pairStarts[index]) }
        return count
    }

    /// Calls `body` with the index in `pairKeys` of every pair (a, b) held by some name, a in `left` and b in `right`.
    func forEachPair(_ left: [Int32: Float], _ right: [Int32: Float], _ body: (Int) -> Void) {
        for (side, other) in [(left, right), (right, left)] {
            let others = other.keys.sorted()
            for x in side.keys {
                let low = Int(pairFirst[Int(x)]), high = Int(pairFirst[Int(x) + 1])
                guard low < high else { continue }
                let above = others.drop { $0 <= x }
                guard !above.isEmpty else { continue }
                let range = high - low
                if range <= above.count * 8 {
                    for index in low..<high where other[Int32(truncatingIfNeeded: pairKeys[index] & 0xFFFF_FFFF)] != nil { body(index) }
                } else {
                    var from = low
                    for y in above {
                        let key = Self.pairKey(x, y)
                        var l = from, h = high
                        while l < h {
                            let middle = (l + h) / 2
                            if pairKeys[middle] < key { l = middle + 1 } else { h = middle }
                        }
                        from = l
                        guard l < high else { break }
                        if pairKeys[l] == key { body(l) }
                    }
                }
            }
        }
    }

    /// The index tokens close to a query token (Jaro-Winkler at least `tokenFloor`, numbers only when equal; for a name
    /// in the Arabic or Hebrew script also the tokens of the same consonants, at `skeletonMatch`), with their similarity.
    func closeTokens(_ token: String, consonants: NameNormalizer.ConsonantScript? = nil) -> [Int32: Float] {
        var close: [Int32: Float] = [:]
        let mine = token.unicodeScalars.map(\.value)
        let (mask, repeated) = Self.signature(mine)
        let slack = max(2, mine.count / 3)
        let number = Self.isNumber(mine)
        mine.withUnsafeBufferPointer { mine in
            scalars.withUnsafeBufferPointer { all in
                for length in max(1, mine.count - slack)...(mine.count + slack) {
                    for candidate in buckets[Self.bucketKey(mine[0], length)] ?? [] {
                        // The bound at its loosest (a four-scalar prefix) first: most tokens stop here, unread.
                        guard number || Self.couldBeClose(mask, mine.count, repeated, candidate.mask, length, candidate.repeats, prefix: 4) else { continue }
                        let id = candidate.id
                        let start = Int(offsets[Int(id)])
                        let other = UnsafeBufferPointer(rebasing: all[start..<Int(offsets[Int(id) + 1])])
                        // Numbers are identity, not spelling: 11 is not 1.
                        if number || Self.isNumber(other) {
                            if mine.elementsEqual(other) { close[id] = 1 }
                            continue
                        }
                        var prefix = 1
                        while prefix < 4, prefix < length, prefix < mine.count, mine[prefix] == other[prefix] { prefix += 1 }
                        guard Self.couldBeClose(mask, mine.count, repeated, candidate.mask, length, candidate.repeats, prefix: prefix) else { continue }
                        let similarity = JaroWinkler.similarity(mine, other)
                        if similarity >= Self.tokenFloor { close[id] = Float(similarity) }
                    }
                }
            }
        }
        // A name written in the Arabic or Hebrew script comes without its short vowels: its consonants are compared too,
        // in each Latin reading of its letters (`NameNormalizer.consonantReadings`).
        if let consonants {
            for reading in NameNormalizer.consonantReadings(token, consonants) {
                for id in skeletons[NameNormalizer.skeleton(reading)] ?? [] where (close[id] ?? 0) < Float(Self.skeletonMatch) {
                    close[id] = Float(Self.skeletonMatch)
                }
            }
        }
        return close
    }

    public func screen(_ query: ScreeningQuery, thresholds: ScreeningThresholds = .platformDefault) -> ScreeningResult {
        var queryTokens: [String] = []
        for token in NameNormalizer.tokens(query.name) where !queryTokens.contains(token) { queryTokens.append(token) }
        guard !queryTokens.isEmpty else {
            return ScreeningResult(decision: .clear, score: 0, normalizedName: [], candidates: [], thresholds: thresholds, listVersions: listVersions)
        }
        var cache: [String: CloseRow] = [:]
        var byEntry: [Int32: Scored] = [:]
        for found in screen(tokens: queryTokens, query: query, thresholds: thresholds, respaced: nil, cache: &cache) { byEntry[found.entry] = found }
        // The name with its words joined or split otherwise, as the list may write them: each such reading is screened
        // too, and an entry keeps its best candidate.
        for (variant, note) in spacingVariants(queryTokens) {
            for found in screen(tokens: variant, query: query, thresholds: thresholds, respaced: note, cache: &cache)
            where found.score > byEntry[found.entry]?.score ?? -1 {
                byEntry[found.entry] = found
            }
        }
        // The ten best, by score then list and entry id: only candidates scoring at least the tenth best score are
        // ordered in full (a common name can have thousands of candidates).
        let scores = byEntry.values.map(\.score).sorted(by: >)
        let cutoff = scores.isEmpty ? 0 : scores[min(9, scores.count - 1)]
        let ranked = byEntry.values.filter { $0.score >= cutoff }.sorted {
            if $0.score != $1.score { return $0.score > $1.score }
            let (a, b) = (Int($0.entry), Int($1.entry))
            return (entries[a].source, entries[a].sourceID) < (entries[b].source, entries[b].sourceID)
        }
        let top = ranked.prefix(10).map { $0.build() }
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
                guard tokenIDs[suffix] != nil || suffix == "ul" else { continue }
                let parts: [String]
                // Two words of three letters or more: a two-letter piece is too often found by chance.
                if suffix.count >= 3, prefix.count >= 3, tokenIDs[prefix] != nil || LegalForms.formWords.contains(prefix) {
                    parts = [prefix, suffix]
                } else if suffix.count >= 3, NameNormalizer.particles.contains(prefix) {
                    parts = [suffix]
                } else if prefix.count >= 3, tokenIDs[prefix] != nil, suffix == "ul" {
                    // Arabic's -ul written joined (Jamaatul for Jamaat-ul) is dropped, as it is when apart (not -al: Faizal).
                    parts = [prefix]
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
    func screen(
        tokens: [String], query: ScreeningQuery, thresholds: ScreeningThresholds, respaced: String?, cache: inout [String: CloseRow]
    ) -> [Scored] {
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
        let consonants = NameNormalizer.consonantScript(query.name)
        let foreignScript = NameNormalizer.isForeignScript(query.name)
        // What a name's score may still gain or lose after `nameScore`: a reading joined or split otherwise is worth
        // `respacedMatch` of it, and `boost` adds at most `mostBoost`. A name whose bound cannot reach the report line
        // is not scored.
        let respacing = respaced == nil ? 1 : Self.respacedMatch
        let mostBoost = Self.mostBoost(query)
        // rows[q]: the index tokens close to query token q, with their similarity (shared by the readings of one query).
        var rows: [[Int32: Float]] = []
        var spellings: [CloseRow] = []
        for token in queryTokens {
            if let known = cache[token] {
                rows.append(known.similar)
                spellings.append(known)
            } else {
                let key = consonants == .arabic ? "\u{1}" + token : consonants == .hebrew ? "\u{2}" + token : token
                let close: CloseRow
                if let shared = closeCache.withLock({ $0[key] }) {
                    close = shared
                } else {
                    close = closeRow(token, consonants: consonants)
                    closeCache.withLock { shared in
                        if shared.count >= Self.closeCacheLimit { shared.removeAll(keepingCapacity: true) }
                        shared[key] = close
                    }
                }
                cache[token] = close
                rows.append(close.similar)
                spellings.append(close)
            }
        }
        // For each close index token, the query tokens it may count for (a bit each): in a person's name (the low 16
        // bits) and in an organisation's or vessel's core (the high 16). A Latin-script query's spelling over budget
        // counts for neither kind (`closeSpelling`, `organisationSpelling`): it finds no candidate and lifts no bound.
        let search = foreignScript ? rows : spellings.map(\.usable)
        var closeTo: [Int32: UInt32] = [:]
        for (q, row) in search.enumerated() {
            for id in row.keys {
                let kinds = foreignScript ? 3 : spellings[q].kinds(id)
                closeTo[id, default: 0] |= (kinds & 1 != 0 ? 1 << q : 0) | (kinds & 2 != 0 ? 1 << (16 + q) : 0)
            }
        }
        // The candidates: names holding a close token for two of the query's tokens (through the pair index), and
        // one-token names holding one. A name of two tokens or more with one of them matched scores at most
        // `oneTokenMost`; only when the report line lets such a name through (or the query has one token) is every name
        // holding a close token a candidate. A one-token query scores at most `singleWordCap` against a longer name: when
        // that cannot reach the report line either, its candidates are the one-token names holding a close token.
        var found: [Int32] = []
        if queryCount == 1, Self.singleWordCap * respacing + mostBoost < thresholds.report {
            for id in search[0].keys { found.append(contentsOf: singles[id] ?? []) }
        } else if queryCount == 1 || thresholds.report - mostBoost <= Self.oneTokenMost * respacing {
            for row in search { for id in row.keys { found.append(contentsOf: postings[Int(id)]) } }
        } else {
            // With three query words or more, a name of three words or more may need three of them (`threeWordsNeedThree`):
            // then it holds every pair of those three, and walking the least common of each triple's three pairs finds it,
            // while each pair gives only its names of two words. Names of one word come from `singles`.
            let triples = queryCount <= Self.tripleQueryMost && personCount >= 3
                && Self.threeWordsNeedThree(personCount: personCount, report: thresholds.report)
            for q1 in 0..<queryCount {
                for id in search[q1].keys { found.append(contentsOf: singles[id] ?? []) }
                for q2 in (q1 + 1)..<queryCount { namesHolding(search[q1], search[q2], into: &found, twoWordsOnly: triples) }
            }
            if triples {
                var counts: [Int: Int] = [:]
                func count(_ a: Int, _ b: Int) -> Int {
                    if let known = counts[a << 8 | b] { return known }
                    let value = pairCount(search[a], search[b])
                    counts[a << 8 | b] = value
                    return value
                }
                for q1 in 0..<queryCount {
                    for q2 in (q1 + 1)..<queryCount {
                        for q3 in (q2 + 1)..<queryCount {
                            let least = [(q1, q2), (q1, q3), (q2, q3)].min { count($0.0, $0.1) < count($1.0, $1.1) }!
                            namesHolding(search[least.0], search[least.1], into: &found)
                        }
                    }
                }
            }
        }
        // Score only the names that could still reach the report threshold, each once, keeping each entry's best (the
        // lower name on a tie, so the order names are found in does not matter).
        var best: [Int32: (score: Double, name: Int32)] = [:]
        var seen = [UInt64](repeating: 0, count: found.count > 64 ? (names.count + 63) / 64 : 0)
        if seen.isEmpty {
            found.sort()
            found = found.enumerated().filter { $0.offset == 0 || found[$0.offset - 1] != $0.element }.map(\.element)
        }
        for name in found {
            if !seen.isEmpty {
                let (word, bit) = (Int(name) / 64, UInt64(1) << UInt64(name % 64))
                if seen[word] & bit != 0 { continue }
                seen[word] |= bit
            }
            let tokens = names[Int(name)].tokens
            let organisation = organisations[Int(name)]
            let active = organisation ? coreMask : everyToken
            var covered: UInt32 = 0
            for token in tokens { covered |= closeTo[token] ?? 0 }
            let matched = (UInt16(truncatingIfNeeded: organisation ? covered >> 16 : covered) & active).nonzeroBitCount
            let bound = Self.scoreBound(matched: matched, queryCount: active.nonzeroBitCount, nameCount: tokens.count, organisation: organisation)
            guard bound * respacing + mostBoost >= thresholds.report else { continue }
            let score = nameScore(
                active: active, tokens: tokens, rows: rows, spellings: spellings, organisation: organisation, strictSpelling: !foreignScript,
                lead: Int(leads[Int(name)]), queryTokens: queryTokens)
            let entry = names[Int(name)].entry
            if let known = best[entry], known.score > score || (known.score == score && known.name < name) { continue }
            best[entry] = (score, name)
        }
        // Initials: a one-word query that is an organisation's initials (IRGC), or a query of three words or more whose
        // initials are a one-word listed name.
        var initialsNote: [Int32: String] = [:]
        let queryCore = (0..<queryCount).filter { coreMask & (1 << $0) != 0 }.map { queryTokens[$0] }
        var initialsHits: [Int32] = []
        if queryCore.count == 1, let word = queryCore.first, (3...8).contains(word.count), word.allSatisfy(\.isLetter) {
            initialsHits = acronyms[word] ?? []
        } else if queryCore.count >= 4, let initials = Self.initials(queryCore), let id = tokenIDs[initials] {
            initialsHits = postings[Int(id)].filter { organisations[Int($0)] && names[Int($0)].tokens.count == 1 }
        }
        for name in initialsHits {
            let entry = names[Int(name)].entry
            if let known = best[entry], known.score > Self.initialsMatch || (known.score == Self.initialsMatch && known.name < name) { continue }
            best[entry] = (Self.initialsMatch, name)
            initialsNote[entry] = queryCore.count == 1
                ? "name \(queryCore[0]) read as the initials of \(names[Int(name)].tokens.map { vocabularyText[Int($0)] }.joined(separator: " "))"
                : "name read as its initials, \(Self.initials(queryCore) ?? "")"
        }
        // Each candidate's final score; its reasons and normalised name are written only for those shown (`build`).
        func final(_ entryIndex: Int32, _ found: (score: Double, name: Int32), reasons: inout [String]) -> Double {
            let organisation = organisations[Int(found.name)]
            var adjusted = found.score
            if organisation, !LegalForms.compatible(queryForms?.forms ?? [], self.forms[Int(found.name)]) {
                adjusted *= Self.otherLegalForm
                reasons.append("legal forms differ: \((queryForms?.forms ?? []).joined(separator: ", ")) / \(self.forms[Int(found.name)].joined(separator: ", "))")
            }
            if respaced != nil { adjusted *= Self.respacedMatch }
            // (Read in place: copying the entry for each of thousands of candidates costs more than scoring them.)
            let boost = query.dateOfBirth == nil && query.nationality == nil ? 0 : Self.boost(
                query: query, datesOfBirth: entries[Int(entryIndex)].datesOfBirth, nationalities: entries[Int(entryIndex)].nationalities,
                reasons: &reasons)
            // Only a name matched whole on both sides blocks: a partial one tops out just under the block
            // line whatever its date of birth and nationality say, so an officer looks at it.
            let whole = initialsNote[entryIndex] == nil
                && (organisation ? names[Int(found.name)].tokens.count == coreMask.nonzeroBitCount : Int(wordCounts[Int(found.name)]) == personCount)
            return min(whole ? 1 : thresholds.block - 0.01, max(0, adjusted + boost))
        }
        func build(_ entryIndex: Int32, _ found: (score: Double, name: Int32)) -> ScreeningCandidate {
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
                // A person's token counts only through a spelling close enough (`closeSpelling`); one that is not is named.
                let spelled: (Int32) -> Float = { id in
                    let similarity = rows[q][id] ?? 0
                    return organisation || foreignScript || spellings[q].allows(id, organisation: false) ? similarity : 0
                }
                let match = name.tokens.map { ($0, spelled($0)) }.max { $0.1 < $1.1 }
                let otherName = name.tokens.first { (rows[q][$0] ?? 0) > 0 && spelled($0) == 0 }
                if let (id, similarity) = match, similarity > 0, organisation, similarity < 1, Self.isPlural(token, vocabularyText[Int(id)]) {
                    reasons.append(statistics.descriptive(token, vocabularyText[Int(id)])
                        ? "name token \(token) ~ \(vocabularyText[Int(id)]): a plural of a word many listed organisations use, read as the word (0.90)"
                        : "name token \(token) / \(vocabularyText[Int(id)]): a plural of a word that names the organisation, another name")
                } else if let (id, similarity) = match, similarity > 0 {
                    reasons.append("name token \(token) ~ \(vocabularyText[Int(id)]) (\(Self.format(Double(similarity))))")
                } else if let otherName {
                    reasons.append("name token \(token) / \(vocabularyText[Int(otherName)]): another name, not a spelling of it")
                } else {
                    reasons.append("name token \(token) has no counterpart")
                }
            }
            let score = final(entryIndex, found, reasons: &reasons)
            return ScreeningCandidate(
                source: entry.source, sourceID: entry.sourceID, listVersion: listVersions[entry.source] ?? "", kind: entry.kind,
                matchedName: name.text, normalizedName: NameNormalizer.tokens(name.text), programmes: entry.programmes,
                nameScore: Self.rounded(found.score), score: Self.rounded(score), reasons: reasons)
        }
        var scored: [Scored] = []
        var unused: [String] = []
        for (entryIndex, found) in best where found.score * respacing + mostBoost >= thresholds.report {
            unused.removeAll(keepingCapacity: true)
            let score = Self.rounded(final(entryIndex, found, reasons: &unused))
            guard score >= thresholds.report else { continue }
            scored.append(Scored(entry: entryIndex, score: score, build: { build(entryIndex, found) }))
        }
        return scored
    }

    /// A candidate's entry and final score, and how to write it out in full (only for those shown).
    struct Scored {
        let entry: Int32
        let score: Double
        let build: () -> ScreeningCandidate
    }

    /// How well a name's tokens and the query's cover each other, order ignored: query and name
    /// tokens are paired one to one, most similar first; the sum of the pairs' similarities over the
    /// shorter side's length, discounted by up to 15% as the two lengths differ. A one-word name or
    /// query against a longer one never reaches a decision on a single shared word (at most 0.70).
    /// An organisation's or vessel's core must be covered on both sides: its score is the pairs' sum over the longer
    /// side, so an extra or missing core word ("Motor Spares", "Shipping") counts fully against it.
    /// A person's name whose listed family name has no counterpart in the query at all ("Mohamed Ahmed" against
    /// "GHAWIL, Khalifa Mohamed Ahmed") is another family's: its score is cut by `surnameMissing`. So is one whose first
    /// family word has none when another has ("Maria Martinez" against "CHAVEZ MARTINEZ, Maria Icela": a Chavez goes by
    /// Chavez), and, again, one whose first given name has none ("Saddam Hussein" against "AL-TIKRITI, Qusay Saddam
    /// Hussein": Qusay, son of Saddam, is not his father).
    func nameScore(
        active: UInt16, tokens: [Int32], rows: [[Int32: Float]], spellings: [CloseRow], organisation: Bool, strictSpelling: Bool,
        lead: Int = 0, queryTokens: [String]
    ) -> Double {
        var pairs: [(similarity: Float, q: Int, t: Int)] = []
        for q in rows.indices where active & (1 << q) != 0 {
            for (t, id) in tokens.enumerated() {
                var similarity = rows[q][id] ?? 0
                // A company's or vessel's word spelled otherwise is more often another word (Fortune / Fortuna, Salina /
                // Sarina) than a typo: its distance from exact counts `inexactOrganisationWord` times over (not for a
                // query in another script, whose Latin spelling is the transliterator's, not the customer's).
                // A plural is the same word when the word describes a business (Services, Forces: many listed
                // organisations use it) and another word when it names one (Golden Fishes is not Golden Fish).
                if organisation, similarity < 1, similarity > 0, Self.isPlural(queryTokens[q], vocabularyText[Int(id)]) {
                    similarity = statistics.descriptive(queryTokens[q], vocabularyText[Int(id)]) ? Float(Self.descriptivePlural) : 0
                } else if organisation, strictSpelling, similarity < 1 {
                    similarity = spellings[q].allows(id, organisation: true)
                        ? max(0, 1 - Float(Self.inexactOrganisationWord) * (1 - similarity)) : 0
                } else if !organisation, strictSpelling, similarity < 1, similarity > 0, !spellings[q].allows(id, organisation: false) {
                    similarity = 0
                }
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
        return score * Self.leadsMissing(lead: lead, used: usedName)
    }

    static let surnameMissing = 0.88

    /// Whether an organisation's or vessel's word spelled otherwise may still be the listed word: not when the query's
    /// word is itself a word listed organisations use (Start is not Star, Brokers not Brothers, Hsing not Hsin: another
    /// real word, not a typo), and within a budget of edits — none up to three letters, one up to eight, two beyond.
    /// (The known-word test is the caller's, `closeRow`; this is the budget, from the edit distance and the shorter
    /// word's length.)
    static func organisationSpelling(distance: Int, shorter: Int) -> Bool { distance <= (shorter <= 3 ? 0 : shorter <= 8 ? 1 : 2) }

    /// The names a word must appear in to be a word listed organisations use (once may be a typo in a list).
    static let knownWordLeast = 2

    /// The factor for a person's name whose first family word or first given name (`leads`) has no counterpart among the
    /// name's tokens `used` (a bit each): `surnameMissing` for each. A family name missing whole misses its first word.
    static func leadsMissing(lead: Int, used: UInt64) -> Double {
        var factor = 1.0
        for bit in [lead & 0xFF, lead >> 8] where bit != 0 && used & UInt64(bit) == 0 { factor *= surnameMissing }
        return factor
    }

    /// Whether a person's name token spelled otherwise is still the same name: within a budget of edits set by the
    /// shorter token's length — none up to four letters, one up to eight, two beyond. Jaro-Winkler alone calls Sani and
    /// Said, Hafsat and Hasan, Halima and Hamadi alike; they are other names, not typos. Spellings a transliteration
    /// makes differ more (Mohamed, Muhammad) and are folded by `NameNormalizer.variants` before this.
    /// From the two tokens' edit distance and the shorter's length; `sameConsonants` (skeletons of two letters or more,
    /// equal) is asked only when the edits are over budget and the tokens have five letters or more.
    static func closeSpelling(distance: Int, shorter: Int, sameConsonants: () -> Bool) -> Bool {
        if distance <= (shorter <= 4 ? 0 : shorter <= 8 ? 1 : 2) { return true }
        return shorter >= 5 && sameConsonants()
    }

    /// A plural of a descriptive word, read as the word but not as written: enough for review, not for a block.
    static let descriptivePlural = 0.9

    /// The most a name and a query, each of two tokens or more, score with one token matched: half covered.
    static let oneTokenMost = 0.5

    /// The most query words for which candidates are found through triples of words (C(8, 3) = 56 triples).
    static let tripleQueryMost = 8

    /// Whether, for a query of `personCount` words (three or more), every name of three words or more needs three of
    /// them matched to reach the report line: with two, a person's name scores at most `scoreBound(2, n, L)` and an
    /// organisation's at most 2 / L (its core must be covered on both sides), both below the line at the platform's
    /// report line (2/3 + 0.06 < 0.75), however many words the name has.
    static func threeWordsNeedThree(personCount: Int, report: Double) -> Bool {
        (3...16).allSatisfy { length in
            scoreBound(matched: 2, queryCount: personCount, nameCount: length) + maximumBoost < report
                && scoreBound(matched: 2, queryCount: personCount, nameCount: length, organisation: true) + maximumBoost < report
        }
    }

    /// A name matched only once its words were joined or split: held for review, never blocked.
    static let respacedMatch = 0.95

    /// A name matched by its initials: held for review, never blocked (initials are shared by many names).
    static let initialsMatch = 0.90

    /// Two tokens with the same consonants, one of them from the Arabic script: a likely match, never a sure one (it
    /// reaches the review line, not the block line).
    static let skeletonMatch = 0.92

    static let inexactOrganisationWord = 3.0

    static func isNumber(_ scalars: some Sequence<UInt32>) -> Bool { scalars.allSatisfy { (48...57).contains($0) } }

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

    /// The most `boost` can add for this query — nothing when it gives neither date of birth nor nationality, so a name
    /// whose bound is under the report line is never scored — plus the 0.00005 a final score may gain by `rounded`.
    static func mostBoost(_ query: ScreeningQuery) -> Double {
        (query.dateOfBirth == nil ? 0 : 0.04) + (query.nationality == nil ? 0 : 0.02) + 0.0001
    }

    /// Date of birth and nationality move a score: an exact date +0.04, the same year +0.02, a list
    /// entry whose every date has another year −0.08; a shared nationality +0.02, none in common −0.04.
    static func boost(query: ScreeningQuery, datesOfBirth: [String], nationalities: [String], reasons: inout [String]) -> Double {
        var boost = 0.0
        if let dob = query.dateOfBirth, !datesOfBirth.isEmpty {
            let year = String(dob.prefix(4))
            if datesOfBirth.contains(dob) {
                boost += 0.04
                reasons.append("date of birth \(dob) matches")
            } else if datesOfBirth.contains(where: { $0.hasPrefix(year) }) {
                boost += 0.02
                reasons.append("year of birth \(year) matches")
            } else {
                boost -= 0.08
                reasons.append("date of birth \(dob) differs from \(datesOfBirth.joined(separator: ", "))")
            }
        }
        if let nationality = query.nationality?.uppercased(), !nationalities.isEmpty {
            if nationalities.contains(where: { $0.uppercased() == nationality }) {
                boost += 0.02
                reasons.append("nationality \(nationality) matches")
            } else {
                boost -= 0.04
                reasons.append("nationality \(nationality) differs from \(nationalities.joined(separator: ", "))")
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

/// How many organisation and vessel names of a set of lists hold each word of their core. A word many of them hold
/// (Services, Industries, Forces, Electronics) describes what a business does; a rarer one (Fish, Phoenix) names it.
public struct WordStatistics: Sendable {
    public let organisationWords: [String: Int]
    public let organisationNames: Int

    init(organisationWords: [String: Int], organisationNames: Int) {
        self.organisationWords = organisationWords
        self.organisationNames = organisationNames
    }

    /// The statistics of these lists on their own (an index counts its own while it is built).
    public init(entries: [ListEntry]) {
        var words: [String: Int] = [:]
        var count = 0
        for entry in entries where entry.kind != .individual {
            for name in entry.names {
                count += 1
                for word in Set(ScreeningIndex.organisationCore(name).core) { words[word, default: 0] += 1 }
            }
        }
        organisationWords = words
        organisationNames = count
    }

    /// The least number of names holding a word (its singular and plural together) for it to describe rather than
    /// name: 10, or one name in 1,500 in a longer list. Chosen on the OFAC SDN list of May 2024 (16,198 organisation
    /// and vessel names): Services 198, Forces 89, Electronics 109, Operations 15 describe; Fish 2, Phoenix 4, Vista 4
    /// name.
    public var descriptiveLeast: Int { max(10, organisationNames / 1_500) }

    public func descriptive(_ a: String, _ b: String) -> Bool {
        (organisationWords[a] ?? 0) + (organisationWords[b] ?? 0) >= descriptiveLeast
    }
}
