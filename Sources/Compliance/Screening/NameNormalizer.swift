import Foundation

/// Puts a person's or entity's name in the form the screening matcher compares: lower case, accents and
/// punctuation gone, honorifics and name particles dropped, common transliterations folded to one
/// spelling (Mohammed, Muhamad and Mohamed all become `muhammad`), tokens kept in order (the matcher
/// itself ignores order). Pure and locale-independent.
public enum NameNormalizer {
    /// Titles and honorifics that say nothing about who a person is.
    static let honorifics: Set<String> = [
        "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "professor", "sir", "dame", "lord", "lady", "rev", "reverend", "fr", "father",
        "sheikh", "shaykh", "sheik", "shaikh", "haji", "hajji", "alhaji", "alhaja", "hajia", "hadji", "chief", "mallam", "imam", "mullah",
        "maulana", "general", "gen", "col", "colonel", "maj", "major", "capt", "captain", "lt", "lieutenant", "brig", "brigadier",
        "president", "minister", "hon", "honourable", "honorable", "excellency", "his", "her", "jr", "sr", "junior", "senior",
        "monsieur", "madame", "mme", "mlle", "senor", "senora", "herr", "frau", "oba", "ambassador", "emir", "prince", "princess",
    ]

    /// Particles that join name parts (al-, bin, van …): dropped, so "Abu Bakr al-Baghdadi" and
    /// "Baghdadi, Abu Bakr" compare on their substance.
    static let particles: Set<String> = [
        "al", "el", "ul", "bin", "ibn", "ben", "bint", "binti", "bte", "de", "da", "do", "dos", "das", "del", "della", "di", "du", "la", "le",
        "van", "von", "der", "den", "ter", "y", "e", "and", "bn",
    ]

    /// Spellings of one name across transliterations, folded to the first.
    static let variants: [String: [String]] = [
        "muhammad": ["mohammed", "mohammad", "mohamed", "mohamad", "muhammed", "muhamed", "muhamad", "mohammod", "mahomed", "mohd",
                     "mohamud", "mukhammad", "mouhamed", "mouhammad", "mohammadou", "mamadou", "mahamat", "muhamadu", "mohamadou"],
        "ahmad": ["ahmed", "akhmed", "ahmadu", "amadou", "ahamed", "ahmet"],
        "husayn": ["hussein", "husein", "hussain", "husain", "houssein", "hossein", "hosein", "hussien", "husseini"],
        "hasan": ["hassan", "hacen", "hassane", "hasane"],
        "yusuf": ["yousef", "youssef", "yusef", "yousuf", "yussuf", "youssouf", "yousouf", "yosef", "yussef", "jusuf"],
        "abdul": ["abdel", "abd", "abdal", "abdoul", "abdoel", "abdol"],
        "abdullah": ["abdallah", "abdulla", "abdellah", "abdoulaye", "abdullahi", "abdulahi"],
        "usama": ["osama", "ousama", "oussama", "usamah", "osamah"],
        "umar": ["omar", "omer", "oumar", "omor"],
        "uthman": ["othman", "osman", "usman", "ousmane", "ousman", "usmane", "othmane"],
        "ibrahim": ["ebrahim", "ibraheem", "brahim", "ibrahima", "ebrahima"],
        "mustafa": ["mustapha", "moustafa", "mostafa", "moustapha", "mostapha"],
        "khalid": ["khaled", "khalidou"],
        "qasim": ["kassim", "kasim", "qassim", "qasem", "ghasem", "kacem", "gassim"],
        "abu": ["abou", "abo"],
        "ali": ["aly", "alee"],
        "salih": ["saleh", "salah"],
        "said": ["saeed", "sayed", "sayeed", "saied", "saiid"],
        "sulayman": ["suleiman", "sulaiman", "soliman", "souleymane", "sulemana", "suleman", "suliman", "sleiman"],
        "ismail": ["ismael", "ismaila", "esmail", "smail"],
        "yahya": ["yahia", "yehia", "yahaya"],
        "zawahiri": ["zawahri", "zawahry"],
        "qadhafi": ["gaddafi", "gadhafi", "kadhafi", "qaddafi", "kadafi", "qadafi", "gadafi", "kaddafi", "khadafy"],
        "nasrallah": ["nasrullah", "nasrollah"],
        "jafar": ["jaafar", "jaffar", "djafar"],
        "bakr": ["bakar", "bakir"],
        "aziz": ["azeez"],
        "rahman": ["rehman", "rahmane"],
        "sharif": ["sherif", "cherif", "shareef"],
        "mahmud": ["mahmoud", "mahmood", "mahmut"],
        "fatima": ["fatimah", "fatma", "fatoumata", "fatou"],
        "aisha": ["aicha", "aishah", "ayesha", "aissatou"],
        "yaqub": ["yacoub", "yakub", "yaqoob", "jacoub"],
        "khadija": ["khadijah", "kadiatou", "khadidja"],
        "ivan": ["iwan"],
        "aleksandr": ["alexander", "aleksander", "alexandre", "alexandr"],
        "sergey": ["sergei", "serguei", "sergej"],
        "yevgeny": ["evgeny", "evgeni", "yevgeni", "evgenii", "yevgeniy"],
        "dmitry": ["dmitri", "dmitrii", "dimitri", "dmitriy"],
        "mikhail": ["michail", "mikhael"],
        "faysal": ["feisal", "faisal", "faycal", "faisel", "fayssal"],
        "sayyid": ["sayyed", "seyed", "seyyed", "syed", "seyyid"],
        "husayni": ["hosseini", "husseini", "husaini", "hussaini", "hoseini", "husseiny"],
        "khamenei": ["hamenei", "khamenehi", "khameni"],
    ]

    static let canonical: [String: String] = {
        var map: [String: String] = [:]
        for (canonical, spellings) in variants {
            for spelling in spellings { map[spelling] = canonical }
        }
        return map
    }()

    /// Letters that do not decompose into a base letter and a mark.
    static let specialLetters: [Unicode.Scalar: String] = [
        "ß": "ss", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ø": "o", "Ø": "o", "đ": "d", "Đ": "d", "ł": "l", "Ł": "l", "ı": "i",
        "þ": "th", "ð": "d", "ŉ": "n", "ħ": "h", "ŧ": "t",
    ]

    /// A name in another script, written in Latin letters the way lists write it: Cyrillic by the BGN/PCGN
    /// romanisation (Лукашенко → Lukashenko), Chinese characters as pinyin with the given name's syllables joined
    /// (习近平 → xi jinping), Korean syllable by syllable (`hangul`: 김정은 → kim jong un), anything else by ICU's
    /// Any-Latin (Arabic and Hebrew without their vowels; the Arabic tā' marbūṭa dropped). Nil for a
    /// name already in Latin letters.
    static func latin(_ name: String) -> String? {
        guard isForeignScript(name) else { return nil }
        var cyrillic = true
        var han = true
        for scalar in name.unicodeScalars where scalar.properties.isAlphabetic {
            let value = scalar.value
            let isCyrillic = (0x0400...0x052F).contains(value)
            let isHan = (0x4E00...0x9FFF).contains(value) || (0x3400...0x4DBF).contains(value)
            if !isCyrillic { cyrillic = false }
            if !isHan { han = false }
        }
        if cyrillic, let text = name.applyingTransform(StringTransform(rawValue: "Russian-Latin/BGN"), reverse: false) { return text }
        if let text = hangul(name) { return text }
        // The Arabic tā' marbūṭa (ة) ends a word as an unwritten h: Usama, Hamza, not Usamat, Hamzat.
        let name = isArabicScript(name) ? name.replacingOccurrences(of: "ة", with: "") : name
        guard let text = name.applyingTransform(.toLatin, reverse: false) else { return nil }
        if han {
            // Family name first, one syllable; the given name's syllables are one word in Latin lists.
            let syllables = text.split(separator: " ")
            guard syllables.count > 2 else { return text }
            return String(syllables[0]) + " " + syllables.dropFirst().joined()
        }
        return text
    }

    /// A name in Korean letters, each syllable a word the way sanctions lists write Korean names ("KIM, Jong Un",
    /// "CHOE, Ryong Hae"): McCune-Reischauer without its marks, as North Korea's names are romanised, each syllable
    /// read as at the start of a word (ㄱ k, ㄷ t, ㅂ p, ㅈ j, ㄹ r; ㅓ and ㅗ o, ㅡ and ㅜ u). Nil unless every letter
    /// is a Hangul syllable. The family name 이 is written Lee.
    static func hangul(_ name: String) -> String? {
        let letters = name.unicodeScalars.filter { $0.properties.isAlphabetic }
        guard !letters.isEmpty, letters.allSatisfy({ (0xAC00...0xD7A3).contains($0.value) }) else { return nil }
        let initials = ["k", "kk", "n", "t", "tt", "r", "m", "p", "pp", "s", "ss", "", "j", "jj", "ch", "kh", "th", "ph", "h"]
        let vowels = ["a", "ae", "ya", "yae", "o", "e", "yo", "ye", "o", "wa", "wae", "oe", "yo", "u", "wo", "we", "wi", "yu", "u", "ui", "i"]
        let finals = ["", "k", "k", "k", "n", "n", "n", "t", "l", "k", "m", "l", "l", "l", "p", "l", "m", "p", "p", "t", "t", "ng", "t", "t", "k", "t", "p", "t"]
        var words: [String] = []
        var first = true
        for scalar in name.unicodeScalars {
            guard (0xAC00...0xD7A3).contains(scalar.value) else {
                words.append(" ")
                continue
            }
            let index = Int(scalar.value - 0xAC00)
            var syllable = initials[index / 588] + vowels[(index % 588) / 28] + finals[index % 28]
            if first, syllable == "i" { syllable = "lee" }
            first = false
            words.append(syllable)
        }
        return words.joined(separator: " ")
    }

    /// Whether a name has letters outside the Latin script (and so is read through `latin`): a scan, no transform.
    public static func isForeignScript(_ name: String) -> Bool {
        name.unicodeScalars.contains { $0.value >= 0x0370 && $0.properties.isAlphabetic }
    }

    /// A script that writes names without their short vowels, whose tokens are also compared by their consonants.
    public enum ConsonantScript: Sendable { case arabic, hebrew }

    /// The consonant script a name is written in, if any.
    public static func consonantScript(_ name: String) -> ConsonantScript? {
        if isArabicScript(name) { return .arabic }
        if name.unicodeScalars.contains(where: { (0x0590...0x05FF).contains($0.value) }) { return .hebrew }
        return nil
    }

    /// The Latin spellings a token transliterated from a consonant script may stand for. ICU writes Hebrew's ו as w, a
    /// vowel or v (Levi, Yinon); its ח as h and its כ as k, both also written ch (Chai, Zicherman). Arabic's letters
    /// have one reading each.
    public static func consonantReadings(_ token: String, _ script: ConsonantScript) -> [String] {
        guard script == .hebrew else { return [token] }
        var readings = [token]
        for (letter, other) in [("h", "ch"), ("k", "ch"), ("w", "v")] where token.contains(letter) {
            readings += readings.map { $0.replacingOccurrences(of: letter, with: other) }
        }
        return readings
    }

    /// Whether a name is written in the Arabic script (Arabic, Persian, Urdu, Pashto…).
    public static func isArabicScript(_ name: String) -> Bool {
        name.unicodeScalars.contains { (0x0600...0x06FF).contains($0.value) || (0x0750...0x077F).contains($0.value) }
    }

    /// A token's consonants, as the Arabic script writes a name without its short vowels: the digraphs Latin lists use
    /// for one Arabic letter read as that letter (kh, th, sh, dh, gh; also ph, zh, dj), x as ks, q as k, vowels and the long-vowel letters w and
    /// y dropped, doubled letters once. "muhammad" and the transliterated "mhmd" are both "mhmd"; "tikriti" and
    /// "tkryty" both "tkrt".
    public static func skeleton(_ token: String) -> String {
        var letters: [UInt8] = []
        letters.reserveCapacity(token.utf8.count)
        for byte in token.utf8 where (97...122).contains(byte) || (48...57).contains(byte) { letters.append(byte) }
        // One pass, left to right: a digraph is read as its letter; x as ks.
        var out: [UInt8] = []
        out.reserveCapacity(letters.count + 1)
        func emit(_ letter: UInt8) {
            // Vowels and the long-vowel letters w and y are dropped; q is k; a doubled letter is written once.
            guard !Self.skeletonDropped.contains(letter) else { return }
            let letter = letter == UInt8(ascii: "q") ? UInt8(ascii: "k") : letter
            if out.last != letter { out.append(letter) }
        }
        var i = 0
        while i < letters.count {
            if i + 1 < letters.count, let letter = Self.digraphs[UInt16(letters[i]) << 8 | UInt16(letters[i + 1])] {
                emit(letter)
                i += 2
            } else if letters[i] == UInt8(ascii: "x") {
                emit(UInt8(ascii: "k"))
                emit(UInt8(ascii: "s"))
                i += 1
            } else {
                emit(letters[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static let skeletonDropped: Set<UInt8> = Set("aeiouyw".utf8)

    /// The digraphs Latin lists write for one Arabic (or Cyrillic) letter, read as that letter.
    static let digraphs: [UInt16: UInt8] = {
        var table: [UInt16: UInt8] = [:]
        for (digraph, letter) in [("kh", "k"), ("th", "t"), ("sh", "s"), ("dh", "d"), ("gh", "g"), ("ph", "f"), ("zh", "j"), ("dj", "j")] {
            let bytes = Array(digraph.utf8)
            table[UInt16(bytes[0]) << 8 | UInt16(bytes[1])] = Array(letter.utf8)[0]
        }
        return table
    }()

    /// The name's tokens after normalising; never empty unless the name has no letters or digits.
    public static func tokens(_ name: String) -> [String] {
        let original = name
        let transliterated = latin(name)
        let name = transliterated ?? name
        var folded = ""
        folded.unicodeScalars.reserveCapacity(name.unicodeScalars.count)
        // Canonical decomposition (NFD): a precomposed letter becomes its base letter and its marks.
        for scalar in name.decomposedStringWithCanonicalMapping.unicodeScalars {
            if let replacement = specialLetters[scalar] {
                folded += replacement
            } else if scalar.properties.generalCategory == .nonspacingMark || scalar.properties.generalCategory == .enclosingMark {
                continue
            } else if scalar == "'" || scalar == "’" || scalar == "`" || scalar == "ʼ" || scalar == "ʻ" || scalar == "ʿ" || scalar == "ʾ"
                || scalar == "ʹ" || scalar == "ʺ" {
                // Apostrophes join (O'Brien, Ma'mun); they do not split.
                continue
            } else if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                folded.unicodeScalars.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            } else {
                folded.unicodeScalars.append(" ")
            }
        }
        var raw = folded.split(separator: " ").map(String.init).filter { !honorifics.contains($0) }
        // Arabic script writes the article joined to its noun (الظواهري → alzwahry): set apart, as al- is in Latin.
        if transliterated != nil, isArabicScript(original) {
            raw = raw.map { $0.count > 4 && $0.hasPrefix("al") ? String($0.dropFirst(2)) : $0 }
        }
        let substantive = raw.filter { !particles.contains($0) }
        // A name made only of particles (rare, but "De La" is a name) keeps them.
        return (substantive.isEmpty ? raw : substantive).map { canonical[$0] ?? $0 }
    }
}
