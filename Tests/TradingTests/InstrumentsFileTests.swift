import Foundation
import NzilaValues
import Testing
@testable import Trading

/// The shipped `ReferenceData/instruments.csv` and its reader.
@Suite("Instruments file")
struct InstrumentsFileTests {
    static var shipped: String {
        get throws {
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            return try String(contentsOf: root.appendingPathComponent("ReferenceData/instruments.csv"), encoding: .utf8)
        }
    }

    @Test("the shipped file: at least 8 shares on each of NGX, JSE, NSE, BRVM, TSX and NYSE/NASDAQ, a benchmark each, every rule as its exchange has it")
    func shipped() throws {
        let instruments = try InstrumentsFile.parse(try Self.shipped).get()
        let byExchange = Dictionary(grouping: instruments) { $0.exchange == "NYSE" || $0.exchange == "NASDAQ" ? "US" : $0.exchange }
        for exchange in ["NGX", "JSE", "NSE", "BRVM", "TSX", "US"] {
            let listed = byExchange[exchange] ?? []
            #expect(listed.filter { $0.kind == .equity }.count >= 8, "\(exchange)")
            #expect(listed.filter { $0.kind == .index }.count == 1, "\(exchange) has one benchmark")
            #expect(Set(listed.map(\.session)).count == 1, "\(exchange): one session for all its instruments")
            for instrument in listed { #expect(instrument.isOnGrid(instrument.simulation.startPrice), "\(instrument.symbol)") }
        }
        let find = { (symbol: String) in try #require(instruments.first { $0.symbol == symbol }) }
        let npn = try find("NPN")
        #expect(npn.quoteUnit == "ZAc" && npn.currency.code == "ZAR" && npn.unitMinor == 1 && npn.bandBps == nil)
        let ry = try find("RY")
        #expect(ry.lot(at: Price("205")!) == 100 && ry.lot(at: Price("0.50")!) == 500 && ry.tick(at: Price("0.495")!) == Price("0.005"))
        #expect(try find("DANGCEM").bandBps == 1_000 && (try find("SCOM")).bandBps == 1_000 && (try find("SNTS")).bandBps == 750)
        #expect(try find("SCOM").tick(at: Price("32")!) == Price("0.05") && (try find("BAT")).tick(at: Price("500")!) == Price("1"))
        #expect(try find("ETIT").tick(at: Price("73")!) == Price("1") && (try find("SNTS")).tick(at: Price("31495")!) == Price("5"))
        #expect(try find("SNTS").session.timeZone.identifier == "Africa/Abidjan" && (try find("AAPL")).session.timeZone.identifier == "America/New_York")
    }

    @Test("a bad file is refused whole, each bad line named with what is wrong")
    func refusals() {
        let header = InstrumentsFile.columns.joined(separator: ",")
        let good = "RY,TSX,Royal Bank,equity,CAD,CAD,100,1,0.01,,America/Toronto,09:30,16:00,205.00,1800,3,20"
        let text = [
            "# a comment", header, good,
            "RY,TSX,Again,equity,CAD,CAD,100,1,0.01,,America/Toronto,09:30,16:00,205.00,1800,3,20",
            "X1,TSX,\"Quoted, with comma\",equity,CAD,CAD,100,1,0:0.01|5.00:0.05,,America/Toronto,09:30,16:00,5.03,1800,3,20",
            "X2,TSX,Bad zone,equity,CAD,CAD,100,1,0.01,,Mars/Base,09:30,16:00,5.00,1800,3,20",
            "X3,TSX,Bad currency,equity,ZZZ,CAD,100,1,0.01,,America/Toronto,09:30,16:00,5.00,1800,3,20",
            "X4,TSX,Bad band,equity,CAD,CAD,100,1,0:0.01|0.505:0.01,,America/Toronto,09:30,16:00,5.00,1800,3,20",
            "X5,TSX,Short",
        ].joined(separator: "\n")
        guard case .failure(let refused) = InstrumentsFile.parse(text) else {
            Issue.record("a bad file was accepted")
            return
        }
        let problems = refused.problems
        #expect(problems.map(\.line) == [4, 5, 6, 7, 8, 9], "\(problems)")
        #expect(problems[0].message.contains("listed twice") && problems[1].message.contains("5.03 is not on its tick grid"))
        #expect(problems[2].message.contains("IANA") && problems[3].message.contains("ZZZ") && problems[5].message.contains("expected 17"))
        #expect(InstrumentsFile.fields(#"a,"b ""c"", d",e"#) == ["a", #"b "c", d"#, "e"] && InstrumentsFile.fields(#"a,"open"#) == nil)
        #expect(InstrumentsFile.parse("symbol,wrong\n").failureLines == [1])
    }
}

extension Result where Failure == InstrumentsFile.Refused {
    var failureLines: [Int]? {
        if case .failure(let refused) = self { return refused.problems.map(\.line) }
        return nil
    }
}
