import Foundation
import NzilaValues
import Testing
@testable import Trading

/// Competitions as pure rules: phases, the final day, joining, the position cap and the ranking.
@Suite("Competition rules")
struct CompetitionRuleTests {
    static let start = SnapshotRuleTests.at("2027-03-01T14:00:00Z")  // a Monday
    static let end = SnapshotRuleTests.at("2027-03-12T21:00:00Z")  // the Friday after next

    @Test("phases: upcoming before the start, running until the end (exclusive), ended after, final once frozen")
    func phases() {
        #expect(Competition.phase(startsAt: Self.start, endsAt: Self.end, frozen: false, now: Self.start.addingTimeInterval(-1)) == .upcoming)
        #expect(Competition.phase(startsAt: Self.start, endsAt: Self.end, frozen: false, now: Self.start) == .running)
        #expect(Competition.phase(startsAt: Self.start, endsAt: Self.end, frozen: false, now: Self.end.addingTimeInterval(-1)) == .running)
        #expect(Competition.phase(startsAt: Self.start, endsAt: Self.end, frozen: false, now: Self.end) == .ended)
        #expect(Competition.phase(startsAt: Self.start, endsAt: Self.end, frozen: true, now: Self.end) == .final)
    }

    @Test("the final day is the latest weekday that began before the end")
    func finalDay() {
        #expect(Competition.finalDay(endsAt: Self.end) == Day("2027-03-12"))  // Friday 21:00
        #expect(Competition.finalDay(endsAt: SnapshotRuleTests.at("2027-03-13T10:00:00Z")) == Day("2027-03-12"))  // Saturday
        #expect(Competition.finalDay(endsAt: SnapshotRuleTests.at("2027-03-15T00:00:00Z")) == Day("2027-03-12"))  // Monday's first instant
        #expect(Competition.finalDay(endsAt: SnapshotRuleTests.at("2027-03-15T00:00:01Z")) == Day("2027-03-15"))
    }

    @Test("joining: never after the end, after the start only with late entry, once, with the required course")
    func joining() {
        #expect(Competition.joinRefusal(phase: .upcoming, lateEntry: false, alreadyJoined: false, requiredCourse: nil, courseCompleted: false) == nil)
        #expect(Competition.joinRefusal(phase: .running, lateEntry: false, alreadyJoined: false, requiredCourse: nil, courseCompleted: false) == .lateEntryClosed)
        #expect(Competition.joinRefusal(phase: .running, lateEntry: true, alreadyJoined: false, requiredCourse: nil, courseCompleted: false) == nil)
        #expect(Competition.joinRefusal(phase: .ended, lateEntry: true, alreadyJoined: false, requiredCourse: nil, courseCompleted: true) == .ended)
        #expect(Competition.joinRefusal(phase: .final, lateEntry: true, alreadyJoined: false, requiredCourse: nil, courseCompleted: true) == .ended)
        #expect(Competition.joinRefusal(phase: .upcoming, lateEntry: false, alreadyJoined: true, requiredCourse: nil, courseCompleted: true) == .alreadyJoined)
        #expect(Competition.joinRefusal(phase: .upcoming, lateEntry: false, alreadyJoined: false, requiredCourse: "c1", courseCompleted: false) == .courseRequired("c1"))
        #expect(Competition.joinRefusal(phase: .upcoming, lateEntry: false, alreadyJoined: false, requiredCourse: "c1", courseCompleted: true) == nil)
    }

    @Test("orders of a competition account end at the competition's end, or at their day's close when that is first")
    func expiry() {
        let close = Self.end.addingTimeInterval(-3_600)
        #expect(Competition.orderExpiry(dayExpiry: nil, endsAt: Self.end) == Self.end)
        #expect(Competition.orderExpiry(dayExpiry: close, endsAt: Self.end) == close)
        #expect(Competition.orderExpiry(dayExpiry: Self.end.addingTimeInterval(60), endsAt: Self.end) == Self.end)
    }

    @Test("the cap: position plus order at most the share of equity, exactly at the edge, in integers; 100% is no cap")
    func cap() {
        #expect(Competition.withinCap(positionCADMinor: 10_000, orderCADMinor: 15_000, equityCADMinor: 100_000, maxBps: 2_500))
        #expect(!Competition.withinCap(positionCADMinor: 10_000, orderCADMinor: 15_001, equityCADMinor: 100_000, maxBps: 2_500))
        #expect(Competition.withinCap(positionCADMinor: 0, orderCADMinor: 1, equityCADMinor: 3, maxBps: 3_334))
        #expect(!Competition.withinCap(positionCADMinor: 0, orderCADMinor: 1, equityCADMinor: 3, maxBps: 3_333))
        #expect(!Competition.withinCap(positionCADMinor: 0, orderCADMinor: 1, equityCADMinor: 0, maxBps: 5_000))
        #expect(Competition.withinCap(positionCADMinor: 0, orderCADMinor: 10_000_000, equityCADMinor: 1, maxBps: 10_000))
        // No overflow near the top of Int64: (max − 1) × 10000 > 9999 × max.
        #expect(!Competition.withinCap(positionCADMinor: .max / 2, orderCADMinor: .max / 2, equityCADMinor: .max, maxBps: 9_999))
        #expect(Competition.withinCap(positionCADMinor: .max / 4, orderCADMinor: .max / 4, equityCADMinor: .max, maxBps: 5_000))
    }

    @Test("ranking: highest value first; equal values share the better rank, the earlier joiner listed first")
    func ranking() {
        let t = Self.start
        let a = UUID(), b = UUID(), c = UUID(), d = UUID()
        let ranked = Competition.ranked([
            .init(account: a, valueMinor: 100, joinedAt: t),
            .init(account: b, valueMinor: 300, joinedAt: t.addingTimeInterval(5)),
            .init(account: c, valueMinor: 300, joinedAt: t),
            .init(account: d, valueMinor: 50, joinedAt: t),
        ])
        #expect(ranked.map(\.standing.account) == [c, b, a, d])
        #expect(ranked.map(\.rank) == [1, 1, 3, 4])
        #expect(Competition.ranked([]).isEmpty)
        #expect(Competition.periodReturn(valueMinor: 110, startingCashMinor: 100) == 0.1)
        #expect(Competition.periodReturn(valueMinor: 110, startingCashMinor: 0) == 0)
    }
}
