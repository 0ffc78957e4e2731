import Foundation
import Ledger
import NzilaValues
import Testing
@testable import Trading

/// The academy's shipped content, quiz grading, and each lesson's scenario doing what its lesson says.
@Suite("Academy")
struct AcademyTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func courses() throws -> [Academy.Course] {
        try Academy.courses(root: root.appendingPathComponent("Content/academy")).get()
    }

    static func instruments() throws -> [String: Instrument] {
        let text = try String(contentsOf: root.appendingPathComponent("ReferenceData/instruments.csv"), encoding: .utf8)
        return Dictionary(uniqueKeysWithValues: try InstrumentsFile.parse(text).get().map { ($0.symbol, $0) })
    }

    static func replay(_ lesson: String, _ order: Academy.ScenarioOrder? = nil) throws -> ScenarioReplay.Result {
        let found = try #require(try courses().flatMap(\.lessons).first { $0.id == lesson })
        let scenario = try #require(found.scenario)
        let instrument = try #require(try instruments()[scenario.symbol])
        let feed = SeededQuoteFeed(seed: "nzila-academy")
        let quotes = ScenarioReplay.quotes(scenario, instrument: instrument, feed: feed)
        return ScenarioReplay.run(
            scenario, order: order ?? scenario.order, instrument: instrument, quotes: quotes, reference: feed.reference(of: instrument, at: scenario.from),
            rates: try #require(ScenarioReplay.rates(scenario)))
    }

    @Test("the shipped course: every lesson in English and French, with a quiz, and a scenario per order mechanic")
    func shipped() throws {
        let courses = try Self.courses()
        let course = try #require(courses.first { $0.id == "order-mechanics" })
        #expect(course.lessons.map(\.id) == ["market-vs-limit", "stop-that-gaps", "partial-fills", "lots-and-bands", "fx-in-a-cad-portfolio"])
        for lesson in course.lessons {
            #expect(!lesson.title.en.isEmpty && !lesson.title.fr.isEmpty && lesson.title.en != lesson.title.fr, "\(lesson.id)")
            #expect(lesson.body.fr.contains("## À vous") && lesson.body.en.contains("## Try it"), "\(lesson.id)")
            #expect(lesson.quiz != nil && lesson.scenario != nil, "\(lesson.id)")
        }
    }

    @Test("content problems are all named: a missing translation, an answer out of range, a bad rate")
    func problems() {
        let yaml = """
            id: c1
            title: {en: "T", fr: "T"}
            summary: {en: "S", fr: "S"}
            lessons:
              - id: l1
                quiz: {pass_pct: 100, questions: [{prompt: {en: "Q", fr: "Q"}, choices: [{en: "a", fr: "a"}, {en: "b", fr: "b"}], answer: 2}]}
                scenario: {symbol: RY, from: 2026-03-03T15:00:00Z, steps: 4, rate: "x", holding: 0, starting_cash_minor: 1, order: {side: buy, type: market, qty: 1}}
            """
        guard case .failure(let error) = Academy.course(yaml: yaml, file: { $0 == "l1.en.md" ? "# Title\nBody" : nil }) else {
            Issue.record("accepted")
            return
        }
        #expect(error.problems.contains { $0.contains("l1.fr.md is missing") }, "\(error)")
        #expect(error.problems.contains { $0.contains("answer is not one of its choices") }, "\(error)")
        #expect(error.problems.contains { $0.contains("rate") }, "\(error)")
    }

    @Test("grading: one answer per question, each among its choices; passed at the pass mark, in integers")
    func grading() {
        let q = Academy.Quiz.Question(prompt: .init(en: "q", fr: "q"), choices: [.init(en: "a", fr: "a"), .init(en: "b", fr: "b")], answer: 1)
        let quiz = Academy.Quiz(passPct: 67, questions: [q, q, q])
        #expect(quiz.grade([1, 1, 0]) == .init(correct: [true, true, false], score: 2, total: 3, passed: false))  // 66.7% < 67%
        #expect(Academy.Quiz(passPct: 66, questions: [q, q, q]).grade([1, 1, 0])?.passed == true)
        #expect(quiz.grade([1, 1]) == nil)
        #expect(quiz.grade([1, 1, 2]) == nil)
        #expect(quiz.grade([1, 1, -1]) == nil)
    }

    @Test("market vs limit: the market buy fills at the first ask; a limit under the price waits")
    func marketVsLimit() throws {
        let market = try Self.replay("market-vs-limit")
        #expect(market.refused.isEmpty, "\(market.refused)")
        let first = try #require(market.steps.first)
        #expect(first.fillPrice == first.ask && first.fillQty == 500 && first.status == .filled, "\(first)")
        let limit = try Self.replay("market-vs-limit", .init(side: .buy, type: .limit, qty: 500, limitPrice: "-3%", stopPrice: nil))
        #expect(limit.refused.isEmpty && limit.steps.first?.fillQty == nil && limit.steps.first?.status == .new, "\(limit.steps.first!)")
    }

    @Test("a stop that gaps: elected on the gap, filled at the bid after it, well under the stop")
    func stopGaps() throws {
        let result = try Self.replay("stop-that-gaps")
        #expect(result.refused.isEmpty, "\(result.refused)")
        let stop = try #require(result.order.stopPrice.flatMap(Price.init))
        let elected = try #require(result.steps.first { $0.elected })
        #expect(elected.step == 4, "the 7% drop comes at step 4: \(result.steps.map(\.last))")
        let fill = try #require(result.steps.first { $0.fillQty != nil })
        let price = try #require(fill.fillPrice.flatMap(Price.init))
        #expect(price < stop && fill.fillPrice == fill.bid && result.filledQty == 1_000, "filled at \(price), stop \(stop)")
        // As a stop-limit at the stop, nothing sells after the gap.
        let limited = try Self.replay("stop-that-gaps", .init(side: .sell, type: .stopLimit, qty: 1_000, limitPrice: "-2%", stopPrice: "-2%"))
        #expect(limited.filledQty == 0 && limited.steps.last?.holding == 1_000, "\(limited.steps.map(\.status))")
    }

    @Test("partial fills: a market buy larger than the size shown fills over several quotes, its average their weighted mean")
    func partialFills() throws {
        let result = try Self.replay("partial-fills")
        let fills = result.steps.filter { $0.fillQty != nil }
        #expect(fills.count >= 2, "\(result.steps.map { ($0.askSize, $0.fillQty) })")
        #expect(fills.first?.status == .partiallyFilled && fills.first?.fillQty == fills.first?.askSize)
        let total = fills.reduce(Int128(0)) { $0 + Int128(Price($1.fillPrice!)!.e4) * Int128($1.fillQty!) }
        let qty = fills.reduce(Int64(0)) { $0 + $1.fillQty! }
        #expect(qty == result.filledQty)
        #expect(result.averagePrice == Price(e4: Int64((total + Int128(qty) / 2) / Int128(qty))).description)
    }

    @Test("lots: 150 Royal Bank shares are an odd lot, refused and told why; 200 are accepted")
    func lots() throws {
        let odd = try Self.replay("lots-and-bands")
        #expect(odd.refused.contains { $0.field == "qty" && $0.message.contains("100") }, "\(odd.refused)")
        #expect(odd.steps.allSatisfy { $0.status == .rejected && $0.fillQty == nil })
        let round = try Self.replay("lots-and-bands", .init(side: .buy, type: .limit, qty: 200, limitPrice: "+1%", stopPrice: nil))
        #expect(round.refused.isEmpty && round.filledQty == 200, "\(round.refused)")
    }

    @Test("FX: the rand's 5% fall takes about 5% off the holding's CAD value at the step it happens")
    func fx() throws {
        let result = try Self.replay("fx-in-a-cad-portfolio")
        #expect(result.filledQty == 1_000)
        let before = result.steps[7], after = result.steps[8]
        #expect(after.rate != before.rate)
        let byPrice = Double(Price(after.last)!.e4) / Double(Price(before.last)!.e4)
        let ratio = Double(after.holdingValueCad.minorUnits) / Double(before.holdingValueCad.minorUnits) / byPrice
        #expect(abs(ratio - 0.95) < 0.001, "\(ratio)")
        // Replays are the same every time.
        #expect(try Self.replay("fx-in-a-cad-portfolio") == result)
    }

    @Test("relative prices resolve from the first price, floored to the grid")
    func resolve() throws {
        let ry = try #require(try Self.instruments()["RY"])
        #expect(ScenarioReplay.resolve("-2%", base: Price("200.00")!, instrument: ry) == Price("196.00"))
        #expect(ScenarioReplay.resolve("+1%", base: Price("205.37")!, instrument: ry) == Price("207.42"))
        #expect(ScenarioReplay.resolve("12.50", base: Price("200.00")!, instrument: ry) == Price("12.50"))
        #expect(ScenarioReplay.resolve("-100%", base: Price("200.00")!, instrument: ry) == nil)
        #expect(ScenarioReplay.resolve("x%", base: Price("200.00")!, instrument: ry) == nil)
    }
}
