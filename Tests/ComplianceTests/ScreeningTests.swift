import Compliance
import Testing

@Suite("Name normalisation")
struct NormalizationTests {
    @Test("case, accents, punctuation, honorifics, particles and transliterations fold away", arguments: [
        ("Dr. Mohammed AL-Bashir", ["muhammad", "bashir"]),
        ("MUHAMMAD al Bashir", ["muhammad", "bashir"]),
        ("Muhamad El-Bachir", ["muhammad", "bachir"]),
        ("José Ángel Núñez", ["jose", "angel", "nunez"]),
        ("Sheikh Usama bin Ladin", ["usama", "ladin"]),
        ("Osama BIN LADEN", ["usama", "laden"]),
        ("Ibrahim Ould Ahmed", ["ibrahim", "ould", "ahmad"]),
        ("Søren Łukasz Straße", ["soren", "lukasz", "strasse"]),
        ("O'Brien, Mr. Patrick Jr.", ["obrien", "patrick"]),
        ("Mouammar Kadhafi", ["mouammar", "qadhafi"]),
        ("  ", []),
    ])
    func folds(_ input: String, _ expected: [String]) {
        #expect(NameNormalizer.tokens(input) == expected)
    }

    @Test("Jaro-Winkler: identical 1, disjoint 0, the textbook pairs")
    func jaroWinkler() {
        #expect(JaroWinkler.similarity("martha", "martha") == 1)
        #expect(JaroWinkler.similarity("abc", "xyz") == 0)
        #expect(abs(JaroWinkler.similarity("martha", "marhta") - 0.9611) < 0.0001)
        #expect(abs(JaroWinkler.similarity("dwayne", "duane") - 0.84) < 0.0001)
        #expect(abs(JaroWinkler.similarity("dixon", "dicksonx") - 0.8133) < 0.0001)
        #expect(JaroWinkler.similarity("", "") == 1 && JaroWinkler.similarity("a", "") == 0)
    }
}

@Suite("Screening scores and decisions")
struct MatchingTests {
    static let index = ScreeningIndex(
        entries: [
            ListEntry(source: "ofac-sdn", sourceID: "6365", kind: .individual,
                      names: ["Ayman Muhammad Rabi al-Zawahiri", "Ayman al-Zawahiri", "Abu Muhammad"], datesOfBirth: ["1951-06-19"],
                      nationalities: ["EG"], programmes: ["SDGT"]),
            ListEntry(source: "un", sourceID: "QDi.006", kind: .individual, names: ["Hassan Abdullah Hersi al-Turki"], datesOfBirth: ["1944"],
                      nationalities: ["SO"]),
            ListEntry(source: "eu", sourceID: "EU.123.45", kind: .individual, names: ["Viktor Fyodorovich Yanukovych"],
                      datesOfBirth: ["1950-07-09"], nationalities: ["UA"]),
            ListEntry(source: "ca-sema", sourceID: "RU-77", kind: .entity, names: ["Rosoboronexport", "Rosoboroneksport JSC"]),
            ListEntry(source: "pep", sourceID: "NG-GOV-12", kind: .individual, names: ["Ngozi Adaeze Okonkwo-Bello"], datesOfBirth: ["1966-03-02"],
                      nationalities: ["NG"], programmes: ["PEP: minister"]),
        ],
        listVersions: ["ofac-sdn": "2026-11-20", "un": "2026-11-18", "eu": "2026-11-19", "ca-sema": "2026-11-01", "pep": "test"])

    func screen(_ name: String, dob: String? = nil, nationality: String? = nil) -> ScreeningResult {
        Self.index.screen(ScreeningQuery(name: name, dateOfBirth: dob, nationality: nationality))
    }

    @Test("true matches across transliteration, token order, accents and punctuation block", arguments: [
        "Ayman al-Zawahiri", "ZAWAHIRI, Ayman", "Aymán al Zawahiri", "Ayman Mohammed Rabi Al-Zawahiri", "Viktor Yanukovych Fyodorovich",
        "Rosoboronexport", "Ngozi Adaeze Okonkwo Bello",
    ])
    func trueMatches(_ name: String) {
        let result = screen(name)
        #expect(result.decision == .block, "\(name): \(result.score) \(result.candidates.first?.reasons ?? [])")
    }

    @Test("spelling variants and partial names are held for review, not blocked", arguments: [
        "Aiman al-Zawahri", "Viktor Yanukovich", "Hasan Abdallah al-Turki", "Rosoboroneksport",
    ])
    func reviews(_ name: String) {
        let result = screen(name)
        #expect(result.decision == .review || result.decision == .block, "\(name): \(result.score)")
        #expect(result.candidates.first?.score ?? 0 >= 0.85)
    }

    @Test("near misses and common single names stay clear", arguments: [
        "Ayman Hassan", "Muhammad Ali", "Victor Young", "Ngozi Okafor", "Rosa Borodina", "Hassan", "Muhammad", "John Smith",
    ])
    func nearMisses(_ name: String) {
        let result = screen(name)
        #expect(result.decision == .clear, "\(name): \(result.score) \(result.candidates.map { "\($0.matchedName) \($0.score)" })")
    }

    @Test("date of birth and nationality move the score and say why")
    func boosters() throws {
        let plain = screen("Aiman al-Zawahri")
        let same = screen("Aiman al-Zawahri", dob: "1951-06-19", nationality: "EG")
        let other = screen("Aiman al-Zawahri", dob: "1990-01-01", nationality: "CA")
        #expect(same.score > plain.score && plain.score > other.score)
        let reasons = try #require(same.candidates.first?.reasons)
        #expect(reasons.contains("date of birth 1951-06-19 matches") && reasons.contains("nationality EG matches"))
        #expect(other.candidates.first?.reasons.contains { $0.hasPrefix("date of birth 1990-01-01 differs") } == true)
        #expect(other.decision == .clear || other.score < plain.score)
    }

    @Test("every candidate names its list, entry, version, normalised forms and a reason per token")
    func explains() throws {
        let result = screen("Dr. Ayman AL ZAWAHIRI")
        let top = try #require(result.candidates.first)
        #expect(top.source == "ofac-sdn" && top.sourceID == "6365" && top.listVersion == "2026-11-20")
        #expect(result.normalizedName == ["ayman", "zawahiri"] && top.normalizedName == ["ayman", "zawahiri"])
        #expect(top.reasons.contains("name token zawahiri ~ zawahiri (1.00)"))
        #expect(result.listVersions["un"] == "2026-11-18")
    }

    @Test("thresholds are the caller's: a stricter tenant reviews what the default clears")
    func thresholds() {
        let strict = ScreeningThresholds(review: 0.45, block: 0.99, report: 0.45)
        let result = Self.index.screen(ScreeningQuery(name: "Ayman Hassan"), thresholds: strict)
        #expect(result.decision != .clear)
        #expect(screen("").decision == .clear && screen("").candidates.isEmpty)
    }
}
