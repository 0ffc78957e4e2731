import Crypto
import Foundation
import NzilaValues
import Testing
import Tontine

@Suite("Tontine rules")
struct TontineRulesTests {
    @Test("every pair of circle states: forming → active → completed, dissolved from forming or active, nothing after")
    func everyTransition() {
        let legal: Set<String> = ["forming>active", "forming>dissolved", "active>completed", "active>dissolved"]
        for from in CircleState.allCases {
            for to in CircleState.allCases {
                switch from.transition(to: to) {
                case .success(let state):
                    #expect(legal.contains("\(from.rawValue)>\(to.rawValue)") && state == to)
                case .failure(let refusal):
                    #expect(!legal.contains("\(from.rawValue)>\(to.rawValue)"))
                    #expect(refusal.ruleError.code == "invalid-transition")
                }
            }
            #expect(from.event == "tontine.\(from.rawValue).v1")
        }
    }

    @Test("monthly keeps the first due date's day, clamped to the month's end; leap years")
    func monthlyClamping() throws {
        let first = try #require(Day("2027-01-31"))
        #expect(Schedule.dueDates(cycles: 5, first: first, frequency: .monthly).map(\.description)
            == ["2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30", "2027-05-31"])
        let leap = try #require(Day("2028-01-30"))
        #expect(Schedule.dueDate(cycle: 2, first: leap, frequency: .monthly)?.description == "2028-02-29")
        let december = try #require(Day("2027-12-15"))
        #expect(Schedule.dueDates(cycles: 3, first: december, frequency: .monthly).map(\.description) == ["2027-12-15", "2028-01-15", "2028-02-15"])
        #expect(Schedule.dueDate(cycle: 0, first: december, frequency: .monthly) == nil)
    }

    @Test("weekly and biweekly step 7 and 14 days, across a year's and a leap day's end")
    func weekly() throws {
        let first = try #require(Day("2027-12-22"))
        #expect(Schedule.dueDates(cycles: 3, first: first, frequency: .weekly).map(\.description) == ["2027-12-22", "2027-12-29", "2028-01-05"])
        let feb = try #require(Day("2028-02-22"))
        #expect(Schedule.dueDates(cycles: 3, first: feb, frequency: .biweekly).map(\.description) == ["2028-02-22", "2028-03-07", "2028-03-21"])
    }

    @Test("days: only real dates parse; the ordinal agrees with Foundation's calendar for every day of 1999–2031")
    func days() throws {
        #expect(Day("2027-02-29") == nil && Day("2028-02-29") != nil && Day("2027-13-01") == nil && Day("27-01-01") == nil)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "UTC"))
        var date = try #require(calendar.date(from: DateComponents(year: 1999, month: 1, day: 1)))
        let end = try #require(calendar.date(from: DateComponents(year: 2032, month: 1, day: 1)))
        while date < end {
            let parts = calendar.dateComponents([.year, .month, .day], from: date)
            let day = try #require(Day(year: parts.year!, month: parts.month!, day: parts.day!))
            #expect(day.ordinal == Int(date.timeIntervalSince1970 / 86_400))
            #expect(Day(ordinal: day.ordinal) == day)
            date = try #require(calendar.date(byAdding: .day, value: 1, to: date))
        }
    }

    @Test("a random rotation is the documented function of the revealed seed: any member recomputes it")
    func seededRotation() throws {
        let members = (0..<12).map { _ in MemberID(UUID()) }
        let seed = Rotation.newSeed()
        #expect(seed.count == 64 && seed == seed.lowercased())
        let commitment = Rotation.commitment(seed)
        #expect(Rotation.verify(seed: seed, commitment: commitment.uppercased()))
        #expect(!Rotation.verify(seed: Rotation.newSeed(), commitment: commitment))
        let drawn = Rotation.order(members, by: .random, seed: seed)
        // Recomputed here from the formula in Rotation's documentation, not from its code.
        let key = { (member: MemberID) in
            SHA256.hash(data: Data("\(seed):\(member.rawValue.uuidString.lowercased())".utf8)).map { String(format: "%02x", $0) }.joined()
        }
        #expect(drawn == members.sorted { key($0) < key($1) })
        #expect(Set(drawn) == Set(members) && drawn.count == members.count)
        #expect(Rotation.order(members.reversed(), by: .random, seed: seed) == drawn, "the draw does not depend on join order")
        #expect(Rotation.order(members, by: .random, seed: Rotation.newSeed()) != drawn)
        #expect(Rotation.order(members, by: .join, seed: seed) == members)
    }

    @Test("position pricing: early positions pay, late ones gain, the middle is untouched, and it sums to zero; fees round down")
    func pricing() throws {
        for n in 2...50 {
            for bps in [0, 1, 37, 250, 1_000] {
                let payout = Int64(n) * 12_345
                let adjustments = try PositionPricing.adjustments(positions: n, payoutMinor: payout, feeBps: bps)
                #expect(adjustments.count == n && adjustments.reduce(0, +) == 0, "n \(n), bps \(bps)")
                let fee = payout * Int64(bps) / 10_000
                #expect(adjustments.prefix(n / 2).allSatisfy { $0 == -fee })
                #expect(adjustments.suffix(n / 2).reduce(0, +) == fee * Int64(n / 2))
                if n % 2 == 1 { #expect(adjustments[n / 2] == 0) }
            }
        }
        #expect(try PositionPricing.adjustments(positions: 4, payoutMinor: 999, feeBps: 100) == [-9, -9, 9, 9])  // 9.99 rounds down to 9
        #expect(throws: RuleError.self) { try PositionPricing.adjustments(positions: 1, payoutMinor: 100, feeBps: 10) }
        #expect(throws: RuleError.self) { try PositionPricing.adjustments(positions: 4, payoutMinor: 100, feeBps: 1_001) }
    }
}
