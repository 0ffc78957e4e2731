import Compliance
import Foundation
import Testing

@Suite("Sanctions and PEP list loaders")
struct ListLoaderTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ReferenceData/sanctions")

    func load(_ path: String, _ format: ListFormat) throws -> LoadedList {
        try ListLoader.load(Self.folder.appendingPathComponent(path), format: format)
    }

    @Test("OFAC SDN CSV: names turned round, aliases from alt.csv, dates and nationality from the remarks, programmes split")
    func ofacCSV() throws {
        let list = try load("ofac-csv/sdn.csv", .ofacCSV)
        #expect(list.entries.count == 5 && list.version.hasPrefix("sha256:") && list.sha256.count == 64)
        let zawahiri = try #require(list.entries.first { $0.sourceID == "6365" })
        #expect(zawahiri.kind == .individual && zawahiri.names == ["Ayman AL-ZAWAHIRI", "Aiman AL-ZAWAHIRI", "Ayman AL-ZAWAHRI", "ABU MUHAMMAD"])
        #expect(zawahiri.datesOfBirth == ["1951-06-19"] && zawahiri.nationalities == ["EG"] && zawahiri.programmes == ["SDGT"])
        #expect(list.entries.first { $0.sourceID == "9640" }?.datesOfBirth == ["1965", "1966", "1967", "1968", "1969"])
        let company = try #require(list.entries.first { $0.sourceID == "15012" })
        #expect(company.kind == .entity && company.programmes == ["SDGT", "IRGC"] && company.nationalities == ["AE"])
        #expect(company.names == ["AL NOOR GENERAL TRADING LLC"])
    }

    @Test("OFAC XML: publication date as version, aliases, dates, nationality")
    func ofacXML() throws {
        let list = try load("ofac-xml/sdn.xml", .ofacXML)
        #expect(list.version == "2026-11-20" && list.entries.count == 2)
        let zawahiri = try #require(list.entries.first)
        #expect(zawahiri.names == ["Ayman AL-ZAWAHIRI", "Aiman AL-ZAWAHIRI", "ABU MUHAMMAD"] && zawahiri.datesOfBirth == ["1951-06-19"])
        #expect(zawahiri.nationalities == ["EG"] && list.entries[1].kind == .entity && list.entries[1].programmes == ["SDGT", "IRGC"])
    }

    @Test("UN consolidated XML: individuals with name parts, aliases, year ranges; entities")
    func un() throws {
        let list = try load("un/consolidated.xml", .unXML)
        #expect(list.version == "2026-11-18" && list.entries.count == 3)
        let turki = try #require(list.entries.first { $0.sourceID == "QDi.260" })
        #expect(turki.names.first == "HASSAN ABDULLAH HERSI AL-TURKI" && turki.names.count == 3 && turki.datesOfBirth == ["1944"])
        #expect(turki.nationalities == ["SO"] && turki.programmes == ["Al-Qaida"])
        #expect(list.entries.first { $0.sourceID == "CFi.007" }?.datesOfBirth == ["1959", "1960", "1961"])
        #expect(list.entries.first { $0.sourceID == "SOe.001" }?.kind == .entity)
    }

    @Test("EU XML: whole names in every script, citizenship codes, birth dates, programmes")
    func eu() throws {
        let list = try load("eu/sanctions.xml", .euXML)
        #expect(list.version == "2026-11-19" && list.entries.count == 2)
        let yanukovych = try #require(list.entries.first)
        #expect(yanukovych.sourceID == "EU.2711.62" && yanukovych.kind == .individual && yanukovych.names.count == 2)
        #expect(yanukovych.nationalities == ["UA"] && yanukovych.datesOfBirth == ["1950-07-09"] && yanukovych.programmes == ["UKR"])
        #expect(list.entries[1].kind == .entity && list.entries[1].names == ["Rosoboronexport", "JSC Rosoboronexport"])
    }

    @Test("Canada SEMA XML and the PEP CSV")
    func semaAndPEP() throws {
        let sema = try load("sema/sema.xml", .semaXML)
        #expect(sema.entries.count == 2 && sema.entries[0].names == ["Oleg Vladimirovich Deripaska", "Oleg Deripaska", "Oleg V. Deripaska"])
        #expect(sema.entries[0].programmes == ["SEMA Russia"] && sema.entries[1].kind == .entity && sema.entries[1].names.contains("IRGC"))
        let pep = try load("pep/pep.csv", .pepCSV)
        #expect(pep.entries.count == 3 && pep.entries[0].nationalities == ["NG"] && pep.entries[2].nationalities == ["CD"])
        #expect(pep.entries[0].programmes == ["PEP: Minister of Finance"] && pep.entries[1].datesOfBirth == ["1970"])
    }

    @Test("a file in the wrong format is refused, naming it")
    func wrongFormat() {
        #expect(throws: (any Error).self) { try load("pep/pep.csv", .unXML) }
        #expect(throws: ListLoader.Invalid.self) { try load("eu/sanctions.xml", .pepCSV) }
    }

    @Test("loaded lists screen: a name from each list is found, with the list's version")
    func screensLoadedLists() throws {
        let lists = try [("ofac-csv/sdn.csv", ListFormat.ofacCSV), ("un/consolidated.xml", .unXML), ("eu/sanctions.xml", .euXML),
                         ("sema/sema.xml", .semaXML), ("pep/pep.csv", .pepCSV)].map { try load($0.0, $0.1) }
        let index = ScreeningIndex(entries: lists.flatMap(\.entries), listVersions: Dictionary(uniqueKeysWithValues: lists.map { ($0.format.source, $0.version) }))
        for (name, source) in [("Aiman Zawahiri", "ofac-sdn"), ("Hassan Turki", "un"), ("Viktor Yanukovich", "eu"), ("Oleg Deripaska", "ca-sema"),
                               ("Ngozi Okonkwo Bello", "pep")] {
            let result = index.screen(ScreeningQuery(name: name))
            #expect(result.decision != .clear && result.candidates.first?.source == source, "\(name): \(result.candidates.map(\.matchedName))")
            #expect(result.candidates.first?.listVersion == result.listVersions[source])
        }
    }
}
