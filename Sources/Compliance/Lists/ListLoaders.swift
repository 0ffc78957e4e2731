import Crypto
import Foundation
import NzilaCore

/// The publishers' file formats `nzila reference load-sanctions` reads.
public enum ListFormat: String, CaseIterable, Sendable {
    /// OFAC SDN in CSV: `sdn.csv`, with `alt.csv` (aliases) and `add.csv` (addresses) read from the same folder.
    case ofacCSV = "ofac-csv"
    /// OFAC SDN in XML (`sdn.xml`).
    case ofacXML = "ofac-xml"
    /// The UN Security Council consolidated list (`consolidated.xml`).
    case unXML = "un-xml"
    /// The EU consolidated financial sanctions list (FSF XML export).
    case euXML = "eu-xml"
    /// Canada's Special Economic Measures Act consolidated list (XML).
    case semaXML = "sema-xml"
    /// Politically exposed persons, CSV: `id,name,aliases,date_of_birth,country,position` (aliases `;`-separated).
    case pepCSV = "pep-csv"

    public var source: String {
        switch self {
        case .ofacCSV, .ofacXML: return "ofac-sdn"
        case .unXML: return "un"
        case .euXML: return "eu"
        case .semaXML: return "ca-sema"
        case .pepCSV: return "pep"
        }
    }
}

/// One list file read into entries, with the publisher's version (its publication date when the file
/// carries one, else the file's SHA-256 prefix) and the SHA-256 of everything read.
public struct LoadedList: Sendable {
    public let format: ListFormat
    public let version: String
    public let sha256: String
    public let entries: [ListEntry]
}

public enum ListLoader {
    public struct Invalid: Error, CustomStringConvertible {
        public let file: String
        public let reason: String
        public var description: String { "\(file): \(reason)" }
    }

    /// Reads `file` in `format`. Entries without a usable name are skipped; a file with none is refused.
    public static func load(_ file: URL, format: ListFormat) throws -> LoadedList {
        var hasher = SHA256()
        func read(_ url: URL) throws -> Data {
            guard let data = FileManager.default.contents(atPath: url.path) else { throw Invalid(file: url.lastPathComponent, reason: "cannot be read") }
            hasher.update(data: data)
            return data
        }
        let data = try read(file)
        var published: String?
        let entries: [ListEntry]
        switch format {
        case .ofacCSV:
            let folder = file.deletingLastPathComponent()
            let alt = FileManager.default.fileExists(atPath: folder.appendingPathComponent("alt.csv").path) ? try read(folder.appendingPathComponent("alt.csv")) : nil
            let add = FileManager.default.fileExists(atPath: folder.appendingPathComponent("add.csv").path) ? try read(folder.appendingPathComponent("add.csv")) : nil
            entries = OFAC.csv(sdn: text(data), alt: alt.map(text), add: add.map(text))
        case .ofacXML:
            (published, entries) = try OFAC.xml(XMLNode.parse(data))
        case .unXML:
            (published, entries) = try UN.xml(XMLNode.parse(data))
        case .euXML:
            (published, entries) = try EU.xml(XMLNode.parse(data))
        case .semaXML:
            entries = try SEMA.xml(XMLNode.parse(data))
        case .pepCSV:
            entries = PEP.csv(text(data))
        }
        let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        guard !entries.isEmpty else { throw Invalid(file: file.lastPathComponent, reason: "holds no entry with a name in the \(format.rawValue) format") }
        return LoadedList(format: format, version: published ?? "sha256:" + digest.prefix(12), sha256: digest, entries: entries)
    }

    static func text(_ data: Data) -> String {
        // Publishers' CSV files are Latin-1 as often as UTF-8; an end-of-file control character is dropped.
        (String(data: data, encoding: .utf8) ?? String(decoding: data, as: UTF8.self)).replacingOccurrences(of: "\u{1A}", with: "")
    }
}

/// Dates of birth as publishers write them: "19 Jun 1951", "Jun 1951", "1951", "circa 1951",
/// "1950 to 1952", "1951-06-19". Returns `YYYY-MM-DD`, `YYYY-MM` or `YYYY` (a range: each year).
enum ListDates {
    static let months = ["jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12]

    static func parse(_ raw: String) -> [String] {
        let text = raw.lowercased().replacingOccurrences(of: "circa", with: "").replacingOccurrences(of: "approximately", with: "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        if text.count >= 10, let _ = Int(text.prefix(4)), text.dropFirst(4).first == "-" { return [String(text.prefix(10))] }
        let words = text.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
        if let to = words.firstIndex(of: "to"), to > 0, to + 1 < words.count, let from = Int(words[to - 1]), let until = Int(words[to + 1]),
            from <= until, until - from <= 10
        {
            return (from...until).map(String.init)
        }
        switch words.count {
        case 3:
            if let day = Int(words[0]), let month = months[String(words[1].prefix(3))], let year = Int(words[2]) {
                return [String(format: "%04d-%02d-%02d", year, month, day)]
            }
        case 2:
            if let month = months[String(words[0].prefix(3))], let year = Int(words[1]) { return [String(format: "%04d-%02d", year, month)] }
        case 1:
            if let year = Int(words[0]), (1800...2100).contains(year) { return [String(year)] }
        default: break
        }
        return []
    }
}

/// Country names as the lists write them, to ISO 3166 alpha-2 (the form screening queries use).
/// Unknown names are kept as written.
enum Countries {
    static let codes: [String: String] = [
        "afghanistan": "AF", "algeria": "DZ", "angola": "AO", "belarus": "BY", "benin": "BJ", "burkina faso": "BF", "burma": "MM", "myanmar": "MM",
        "burundi": "BI", "cameroon": "CM", "canada": "CA", "central african republic": "CF", "chad": "TD", "china": "CN", "colombia": "CO",
        "congo, democratic republic of the": "CD", "democratic republic of the congo": "CD", "congo": "CG", "cote d'ivoire": "CI", "ivory coast": "CI",
        "cuba": "CU", "egypt": "EG", "eritrea": "ER", "ethiopia": "ET", "france": "FR", "gabon": "GA", "gambia": "GM", "germany": "DE", "ghana": "GH",
        "guinea": "GN", "guinea-bissau": "GW", "haiti": "HT", "india": "IN", "indonesia": "ID", "iran": "IR", "iran (islamic republic of)": "IR",
        "iraq": "IQ", "israel": "IL", "jordan": "JO", "kenya": "KE", "korea, north": "KP", "north korea": "KP",
        "democratic people's republic of korea": "KP", "kuwait": "KW", "lebanon": "LB", "liberia": "LR", "libya": "LY", "mali": "ML",
        "mauritania": "MR", "mexico": "MX", "morocco": "MA", "mozambique": "MZ", "nicaragua": "NI", "niger": "NE", "nigeria": "NG", "pakistan": "PK",
        "palestinian": "PS", "qatar": "QA", "russia": "RU", "russian federation": "RU", "rwanda": "RW", "saudi arabia": "SA", "senegal": "SN",
        "sierra leone": "SL", "somalia": "SO", "south africa": "ZA", "south sudan": "SS", "sudan": "SD", "syria": "SY", "syrian arab republic": "SY",
        "tanzania": "TZ", "togo": "TG", "tunisia": "TN", "turkey": "TR", "turkiye": "TR", "uganda": "UG", "ukraine": "UA",
        "united arab emirates": "AE", "united kingdom": "GB", "united states": "US", "venezuela": "VE", "yemen": "YE", "zambia": "ZM", "zimbabwe": "ZW",
    ]

    static func code(_ name: String) -> String {
        let key = name.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        if key.count == 2, key.allSatisfy(\.isLetter) { return key.uppercased() }
        return codes[key] ?? name.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

enum OFAC {
    static let null = "-0-"

    static func clean(_ value: String) -> String? {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty || trimmed == null ? nil : trimmed
    }

    /// "LAST, First Middle" (how OFAC writes individuals) as "First Middle LAST"; entities as written.
    static func displayName(_ raw: String, individual: Bool) -> String {
        guard individual, let comma = raw.firstIndex(of: ",") else { return raw }
        let last = raw[..<comma].trimmingCharacters(in: .whitespaces), first = raw[raw.index(after: comma)...].trimmingCharacters(in: .whitespaces)
        return first.isEmpty ? last : "\(first) \(last)"
    }

    static func kind(_ type: String?) -> ListEntry.Kind {
        switch type?.lowercased() {
        case "individual": return .individual
        case "vessel": return .vessel
        case "aircraft": return .aircraft
        default: return .entity
        }
    }

    /// `sdn.csv` rows: ent_num, SDN_Name, SDN_Type, Program, Title, Call_Sign, Vess_type, Tonnage, GRT,
    /// Vess_flag, Vess_owner, Remarks. `alt.csv`: ent_num, alt_num, alt_type, alt_name, alt_remarks.
    /// Dates of birth and nationalities come from the remarks ("DOB 19 Jun 1951; nationality Egypt").
    static func csv(sdn: String, alt: String?, add: String?) -> [ListEntry] {
        var aliases: [String: [String]] = [:]
        for row in CSV.records(alt ?? "") where row.count >= 4 {
            if let id = clean(row[0]), let name = clean(row[3]) { aliases[id, default: []].append(name) }
        }
        var countries: [String: [String]] = [:]
        for row in CSV.records(add ?? "") where row.count >= 5 {
            if let id = clean(row[0]), let country = clean(row[4]) { countries[id, default: []].append(country) }
        }
        var entries: [ListEntry] = []
        for row in CSV.records(sdn) where row.count >= 4 {
            guard let id = clean(row[0]), let rawName = clean(row[1]) else { continue }
            let kind = kind(clean(row[2]))
            let remarks = row.count >= 12 ? clean(row[11]) ?? "" : ""
            var dobs: [String] = []
            var nationalities: [String] = []
            for part in remarks.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                let lower = part.lowercased()
                if lower.hasPrefix("dob ") { dobs += ListDates.parse(String(part.dropFirst(4))) }
                for prefix in ["nationality ", "citizen "] where lower.hasPrefix(prefix) {
                    nationalities.append(Countries.code(String(part.dropFirst(prefix.count)).trimmingCharacters(in: CharacterSet(charactersIn: ". "))))
                }
            }
            let names = [displayName(rawName, individual: kind == .individual)]
                + (aliases[id] ?? []).map { displayName($0, individual: kind == .individual) }
            let programmes = clean(row[3]).map { $0.split(separator: "]").map { $0.replacingOccurrences(of: "[", with: "").trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty } } ?? []
            entries.append(ListEntry(
                source: "ofac-sdn", sourceID: id, kind: kind, names: unique(names), datesOfBirth: unique(dobs),
                nationalities: unique(nationalities.isEmpty && kind != .individual ? (countries[id] ?? []).map(Countries.code) : nationalities),
                programmes: programmes))
        }
        return entries
    }

    /// `sdn.xml`: sdnEntry elements with uid, firstName, lastName, sdnType, programList/program,
    /// akaList/aka (firstName, lastName), dateOfBirthList/dateOfBirthItem/dateOfBirth,
    /// nationalityList/nationality/country; publshInformation/Publish_Date (MM/DD/YYYY) is the version.
    static func xml(_ root: XMLNode) -> (String?, [ListEntry]) {
        var published: String?
        if let date = root.first("publshInformation")?.value("Publish_Date") {
            let parts = date.split(separator: "/")
            if parts.count == 3 { published = "\(parts[2])-\(parts[0])-\(parts[1])" }
        }
        let entries = root.all("sdnEntry").compactMap { entry -> ListEntry? in
            guard let id = entry.value("uid") else { return nil }
            let kind = kind(entry.value("sdnType"))
            func whole(_ node: XMLNode) -> String? {
                let name = [node.value("firstName"), node.value("lastName")].compactMap { $0 }.joined(separator: " ")
                return name.isEmpty ? nil : name
            }
            guard let primary = whole(entry) else { return nil }
            let aliases = entry.first("akaList")?.all("aka").compactMap(whole) ?? []
            let dobs = entry.first("dateOfBirthList")?.all("dateOfBirthItem").compactMap { $0.value("dateOfBirth") }.flatMap(ListDates.parse) ?? []
            let nationalities = (entry.first("nationalityList")?.all("nationality").compactMap { $0.value("country") } ?? []).map(Countries.code)
            let programmes = entry.first("programList")?.all("program").map { $0.text.trimmingCharacters(in: .whitespacesAndNewlines) } ?? []
            return ListEntry(source: "ofac-sdn", sourceID: id, kind: kind, names: unique([primary] + aliases), datesOfBirth: unique(dobs),
                             nationalities: unique(nationalities), programmes: programmes)
        }
        return (published, entries)
    }
}

enum UN {
    /// CONSOLIDATED_LIST (dateGenerated) with INDIVIDUALS/INDIVIDUAL (REFERENCE_NUMBER, FIRST_NAME…FOURTH_NAME,
    /// UN_LIST_TYPE, NATIONALITY/VALUE, INDIVIDUAL_ALIAS/ALIAS_NAME, INDIVIDUAL_DATE_OF_BIRTH/DATE|YEAR|FROM_YEAR,TO_YEAR)
    /// and ENTITIES/ENTITY (FIRST_NAME, ENTITY_ALIAS/ALIAS_NAME).
    static func xml(_ root: XMLNode) -> (String?, [ListEntry]) {
        let published = root.attributes["dateGenerated"].map { String($0.prefix(10)) }
        var entries: [ListEntry] = []
        for person in root.descendants("INDIVIDUAL") {
            guard let id = person.value("REFERENCE_NUMBER") ?? person.value("DATAID") else { continue }
            let primary = ["FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME"].compactMap { person.value($0) }.joined(separator: " ")
            guard !primary.isEmpty else { continue }
            let aliases = person.all("INDIVIDUAL_ALIAS").compactMap { $0.value("ALIAS_NAME") }
            var dobs: [String] = []
            for date in person.all("INDIVIDUAL_DATE_OF_BIRTH") {
                if let exact = date.value("DATE") { dobs += ListDates.parse(exact) }
                if let year = date.value("YEAR") { dobs += ListDates.parse(year) }
                if let from = date.value("FROM_YEAR"), let to = date.value("TO_YEAR") { dobs += ListDates.parse("\(from) to \(to)") }
            }
            let nationalities = person.all("NATIONALITY").flatMap { $0.all("VALUE") }.map { Countries.code($0.text) }
            entries.append(ListEntry(source: "un", sourceID: id, kind: .individual, names: unique([primary] + aliases), datesOfBirth: unique(dobs),
                                     nationalities: unique(nationalities), programmes: person.value("UN_LIST_TYPE").map { [$0] } ?? []))
        }
        for entity in root.descendants("ENTITY") {
            guard let id = entity.value("REFERENCE_NUMBER") ?? entity.value("DATAID"), let name = entity.value("FIRST_NAME") else { continue }
            let aliases = entity.all("ENTITY_ALIAS").compactMap { $0.value("ALIAS_NAME") }
            entries.append(ListEntry(source: "un", sourceID: id, kind: .entity, names: unique([name] + aliases),
                                     programmes: entity.value("UN_LIST_TYPE").map { [$0] } ?? []))
        }
        return (published, entries)
    }
}

enum EU {
    /// export (generationDate) / sanctionEntity (logicalId, euReferenceNumber) with subjectType@code,
    /// nameAlias@wholeName (or first/middle/last), citizenship@countryIso2Code, birthdate@birthdate|@year,
    /// regulation@programme.
    static func xml(_ root: XMLNode) -> (String?, [ListEntry]) {
        let published = root.attributes["generationDate"].map { String($0.prefix(10)) }
        let entries = root.all("sanctionEntity").compactMap { entity -> ListEntry? in
            guard let id = entity.attributes["euReferenceNumber"] ?? entity.attributes["logicalId"] else { return nil }
            let names = entity.all("nameAlias").compactMap { alias -> String? in
                if let whole = alias.attributes["wholeName"], !whole.isEmpty { return whole }
                let parts = ["firstName", "middleName", "lastName"].compactMap { alias.attributes[$0] }.filter { !$0.isEmpty }
                return parts.isEmpty ? nil : parts.joined(separator: " ")
            }
            guard !names.isEmpty else { return nil }
            let kind: ListEntry.Kind = entity.first("subjectType")?.attributes["code"] == "person" ? .individual : .entity
            let dobs = entity.all("birthdate").flatMap { date -> [String] in
                if let full = date.attributes["birthdate"], !full.isEmpty { return ListDates.parse(full) }
                return date.attributes["year"].map(ListDates.parse) ?? []
            }
            let citizenships = entity.all("citizenship").compactMap { $0.attributes["countryIso2Code"] }.filter { $0.count == 2 && $0 != "00" }
            let programmes = entity.all("regulation").compactMap { $0.attributes["programme"] }
            return ListEntry(source: "eu", sourceID: id, kind: kind, names: unique(names), datesOfBirth: unique(dobs),
                             nationalities: unique(citizenships.map { $0.uppercased() }), programmes: unique(programmes))
        }
        return (published, entries)
    }
}

enum SEMA {
    /// data-donnees / record with Country (the sanctions regime), LastName, GivenName, EntityOrShip,
    /// Aliases (comma or semicolon separated), DateOfBirthOrShipBuildDate, Schedule, Item.
    static func xml(_ root: XMLNode) -> [ListEntry] {
        root.all("record").enumerated().compactMap { index, record -> ListEntry? in
            let person = [record.value("GivenName"), record.value("LastName")].compactMap { $0 }.joined(separator: " ")
            let entity = record.value("EntityOrShip")
            guard let primary = person.isEmpty ? entity : person else { return nil }
            let aliases = record.value("Aliases")?.split(whereSeparator: { $0 == ";" || $0 == "," }).map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty } ?? []
            let regime = record.value("Country") ?? "?"
            let id = "\(regime)/\(record.value("Schedule") ?? "-")/\(record.value("Item") ?? String(index + 1))"
            return ListEntry(
                source: "ca-sema", sourceID: id, kind: person.isEmpty ? .entity : .individual, names: unique([primary] + aliases),
                datesOfBirth: person.isEmpty ? [] : record.value("DateOfBirthOrShipBuildDate").map(ListDates.parse) ?? [],
                programmes: ["SEMA \(regime)"])
        }
    }
}

enum PEP {
    /// `id,name,aliases,date_of_birth,country,position`, a header line first.
    static func csv(_ text: String) -> [ListEntry] {
        CSV.records(text).dropFirst().compactMap { row -> ListEntry? in
            guard row.count >= 6, !row[0].isEmpty, !row[1].isEmpty else { return nil }
            let aliases = row[2].split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            return ListEntry(source: "pep", sourceID: row[0], kind: .individual, names: unique([row[1]] + aliases),
                             datesOfBirth: ListDates.parse(row[3]), nationalities: row[4].isEmpty ? [] : [Countries.code(row[4])],
                             programmes: row[5].isEmpty ? ["PEP"] : ["PEP: \(row[5])"])
        }
    }
}

func unique(_ values: [String]) -> [String] {
    var seen = Set<String>()
    return values.filter { seen.insert($0).inserted }
}
