/// Company legal forms across languages ("Ltd", "Limited", "S.A.", "Société Anonyme", "OOO", "Sp. z o.o."…),
/// recognised at either end of an organisation's or vessel's name, so the matcher compares what distinguishes the
/// company (its core) and not how its form was written. From OpenSanctions' fingerprints type list
/// (`LegalFormData.swift`, generated), less the spellings that are also the words or numerals that tell companies
/// apart. Pure.
public enum LegalForms {
    /// Spellings the type list treats as forms that must stay part of the core: words that distinguish one company
    /// from its sibling (Import / Export, International), roman numerals, and two-letter words common in names.
    static let keptInCore: Set<String> = [
        "international", "internationale", "intl", "import", "export", "imp", "exp", "impand", "expcorp", "enterprise", "ent",
        "ii", "is", "et", "up", "na", "uk", "eu", "ed", "ok", "san", "ins", "cooperation", "exploitation", "group",
    ]

    /// Canonical forms that name one kind of company in different countries or registers: a name written with one and
    /// listed with another may be the same company. "co" (company) says nothing of the kind and agrees with any form.
    static let families: [Set<String>] = [["ao", "oao", "zao", "rao"], ["llc", "ooo", "too"], ["corp", "inc"]]

    /// Whether two sets of legal forms can describe one company: either side without a form, a form in common, a
    /// family in common, or "co" on either side. Different forms (AG and FZE, LLC and JSC) are different companies.
    public static func compatible(_ a: [String], _ b: [String]) -> Bool {
        guard !a.isEmpty, !b.isEmpty else { return true }
        // A compound form ("co ltd") is each of its parts; "co" beside another form ("Company Limited") is that form.
        func parts(_ forms: [String]) -> Set<String> {
            let all = Set(forms.flatMap { $0.split(separator: " ").map(String.init) })
            return all.count > 1 ? all.subtracting(["co"]) : all
        }
        let left = parts(a), right = parts(b)
        // A vessel is not the company of the same name (its owner or manager).
        if left.contains("vessel") != right.contains("vessel") { return false }
        if left.contains("co") || right.contains("co") { return true }
        if !left.isDisjoint(with: right) { return true }
        return families.contains { !$0.isDisjoint(with: left) && !$0.isDisjoint(with: right) }
    }

    /// Prefixes of a vessel's name (motor vessel, motor tanker…), set aside like a legal form, at the start only.
    static let vesselPrefixes: [String: String] = [
        "mv": "vessel", "m v": "vessel", "mt": "vessel", "m t": "vessel", "msv": "vessel", "ms": "vessel", "m s": "vessel", "ss": "vessel",
        "fv": "vessel", "f v": "vessel", "mv.": "vessel", "motor vessel": "vessel", "motor tanker": "vessel", "tanker": "vessel",
        "my": "vessel", "m y": "vessel", "motor yacht": "vessel",
    ]

    /// Spellings the type list lacks, each read as the canonical form of a spelling it has.
    static let supplements: [(spelling: String, sameAs: String)] = [
        ("public joint stock company", "pjsc"), ("private limited", "limited"), ("pvt ltd", "limited"), ("pvt limited", "limited"),
        ("sociedad anonima de capital variable", "s.a. de c.v."), ("obshchestvo s ogranichennoy otvetstvennostyu", "ooo"),
        ("obshchestvo s ogranichennoi otvetstvennostyu", "ooo"), ("besloten vennootschap", "bv"), ("anonim sirketi", "as"),
        ("aktsionernoe obshchestvo", "ao"), ("publichnoe aktsionernoe obshchestvo", "pao"), ("zakrytoe aktsionernoe obshchestvo", "zao"),
        ("otkrytoe aktsionernoe obshchestvo", "oao"),
        // Forms the table lacks altogether, their own canonical form: the Dutch foundation and association.
        ("stichting", "stichting"), ("vereniging", "vereniging"),
    ]

    /// Normalised spelling (tokens joined by one space) → canonical form.
    static let table: [String: String] = {
        var table: [String: String] = [:]
        for (canonical, variants) in data {
            for variant in variants {
                // The same normalisation as names get, so particles and accents fold alike on both sides.
                let tokens = NameNormalizer.tokens(variant)
                guard !tokens.isEmpty else { continue }
                let key = tokens.joined(separator: " ")
                if tokens.count == 1, keptInCore.contains(key) { continue }
                if table[key] == nil { table[key] = canonical }
            }
        }
        for (spelling, sameAs) in supplements {
            let key = NameNormalizer.tokens(spelling).joined(separator: " ")
            let same = NameNormalizer.tokens(sameAs).joined(separator: " ")
            if table[key] == nil { table[key] = table[same] ?? same }
        }
        return table
    }()

    /// An organisation's tokens with each run of single letters written as one word ("L.L.C." is llc, "M. D. S." mds),
    /// as registers and lists write them either way.
    public static func joiningLetters(_ tokens: [String]) -> [String] {
        guard tokens.contains(where: { $0.count == 1 }) else { return tokens }
        var out: [String] = []
        var run = ""
        for token in tokens + [""] {
            if token.count == 1, token.first?.isLetter == true {
                run += token
                continue
            }
            if !run.isEmpty { out.append(run) }
            run = ""
            if !token.isEmpty { out.append(token) }
        }
        return out
    }

    /// Every word of every spelling and vessel prefix: a name whose end words are not among them has no form there
    /// (the common case, checked without building a string).
    static let formWords: Set<String> = Set(table.keys.flatMap { $0.split(separator: " ").map(String.init) })
        .union(vesselPrefixes.keys.flatMap { $0.split(separator: " ").map(String.init) })

    /// The longest spelling, in tokens.
    static let longest: Int = table.keys.map { $0.split(separator: " ").count }.max() ?? 1

    /// Where the core of an organisation's tokens lies once the legal forms at its start and end are set aside
    /// (canonical forms, in the order met; the longest spelling wins); nil when the name is nothing but forms.
    static func scan(_ tokens: [String]) -> (core: Range<Int>, forms: [String])? {
        var start = 0
        var end = tokens.count
        var forms: [String] = []
        func form(_ range: Range<Int>) -> String? { table[tokens[range].joined(separator: " ")] }
        var found = true
        while found && start < end {
            found = false
            // At the end first ("… Co., Ltd."), then at the start ("OOO …").
            for length in stride(from: min(Self.longest, end - start), through: 1, by: -1) where formWords.contains(tokens[end - 1]) {
                if let canonical = form((end - length)..<end) {
                    forms.append(canonical)
                    end -= length
                    found = true
                    break
                }
            }
            guard start < end else { break }
            for length in stride(from: min(Self.longest, end - start), through: 1, by: -1) where formWords.contains(tokens[start]) {
                if let canonical = form(start..<(start + length)) ?? (length <= 2 ? vesselPrefixes[tokens[start..<(start + length)].joined(separator: " ")] : nil) {
                    forms.append(canonical)
                    start += length
                    found = true
                    break
                }
            }
        }
        return start < end ? (start..<end, forms) : nil
    }

    /// Number signs that say nothing once the number follows ("No. 12", "Nr 3").
    static let numberSigns: Set<String> = ["no", "nr", "num", "number"]

    /// Abbreviations of the words companies' names are made of, as registers and lists write them, read as the word.
    static let abbreviations: [String: String] = [
        "intl": "international", "int'l": "international", "bros": "brothers", "bro": "brother", "imp": "import", "exp": "export",
        "dev": "development", "devt": "development", "engg": "engineering", "engr": "engineering", "inds": "industries",
        "indus": "industries", "est": "establishment", "estab": "establishment", "mfg": "manufacturing", "mfrs": "manufacturers",
        "natl": "national", "assn": "association", "assoc": "association", "dept": "department", "govt": "government",
        "mgmt": "management", "mgt": "management", "svc": "service", "svcs": "services", "tech": "technology", "trdg": "trading",
        "hldgs": "holdings", "hldg": "holding", "invt": "investment", "constr": "construction", "univ": "university",
        "ctr": "center", "centre": "center", "elec": "electric", "petrochem": "petrochemical", "pharma": "pharmaceutical",
        "chem": "chemical", "equip": "equipment", "mach": "machinery", "transp": "transport", "comm": "commercial",
    ]

    /// An organisation's or vessel's core as compared: a roman numeral after the first word read as its number
    /// ("Sparta II" is "Sparta 2"), a number sign before a number dropped ("Hormuz No. 12" is "Hormuz 12"), an
    /// abbreviation read as its word ("Intl" is "International"), and a legal form left inside the core read as its
    /// canonical form ("Company" in "… Company International" is "co").
    public static func comparable(_ core: [String]) -> [String] {
        var out: [String] = []
        for (index, token) in core.enumerated() {
            if numberSigns.contains(token), index + 1 < core.count, core[index + 1].allSatisfy(\.isNumber) || roman(core[index + 1]) != nil {
                continue
            }
            if index > 0, let value = roman(token) {
                out.append(String(value))
            } else if token.count > 1, token.first == "0", token.allSatisfy(\.isNumber) {
                // A number is its value: "09" is 9.
                let digits = token.drop { $0 == "0" }
                out.append(digits.isEmpty ? "0" : String(digits))
            } else if let word = abbreviations[token] {
                out.append(word)
            } else if core.count > 1, let form = table[token], !form.contains(" ") {
                out.append(form)
            } else {
                out.append(token)
            }
        }
        return out.isEmpty ? core : out
    }

    /// The value of a roman numeral from I to XXXIX, nil for anything else.
    public static func roman(_ token: String) -> Int? {
        guard !token.isEmpty, token.count <= 6, token.allSatisfy({ "ivx".contains($0) }) else { return nil }
        let values: [Character: Int] = ["i": 1, "v": 5, "x": 10]
        var total = 0
        let digits = token.map { values[$0]! }
        for (index, value) in digits.enumerated() {
            if index + 1 < digits.count, value < digits[index + 1] { total -= value } else { total += value }
        }
        // Only the canonical spelling of its value counts ("iiii" and "vx" are not numerals).
        let canonical = ["", "i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix"]
        let written = String(repeating: "x", count: total / 10) + canonical[total % 10]
        return total > 0 && total < 40 && written == token ? total : nil
    }

    /// An organisation's tokens split into its core and its legal forms; a name that is nothing but forms keeps them
    /// as its core.
    public static func split(_ tokens: [String]) -> (core: [String], forms: [String]) {
        guard let found = scan(tokens) else { return (tokens, []) }
        return (Array(tokens[found.core]), found.forms)
    }
}
