import Foundation
import NzilaValues
import Testing
import Tontine

@Suite("Tontine arrears, standing and dissolution")
struct ArrearsTests {
    @Test("the late fee is fixed plus bps of the contribution, rounded down; paid on the due day is on time")
    func penalty() throws {
        #expect(try Arrears.penalty(contributionMinor: 10_000, fixedMinor: 500, bps: 250) == 750)
        #expect(try Arrears.penalty(contributionMinor: 999, fixedMinor: 0, bps: 100) == 9)
        #expect(throws: RuleError.self) { try Arrears.penalty(contributionMinor: 100, fixedMinor: -1, bps: 0) }
        let due = try #require(Day("2027-03-01"))
        let next = try #require(Day("2027-03-02"))
        #expect(!Arrears.isLate(paidOn: due, due: due) && Arrears.isLate(paidOn: next, due: due))
    }

    @Test("a payment recovers arrears first; a payout is reduced by the arrears it recovers")
    func recovery() {
        #expect(Arrears.split(paymentMinor: 10_000, arrearsMinor: 10_750) == (10_000, 0))
        #expect(Arrears.split(paymentMinor: 20_000, arrearsMinor: 10_750) == (10_750, 9_250))
        #expect(Arrears.split(paymentMinor: 10_000, arrearsMinor: 0) == (0, 10_000))
        #expect(Arrears.payout(grossMinor: 50_000, arrearsMinor: 10_750) == (39_250, 10_750))
        #expect(Arrears.payout(grossMinor: 5_000, arrearsMinor: 10_750) == (0, 5_000))
    }

    @Test("standing: behind is in arrears; paid and then behind is delinquent")
    func standing() {
        #expect(!Standing(paidMinor: 30_000, owedMinor: 30_000, received: true).isDelinquent)
        #expect(Standing(paidMinor: 20_000, owedMinor: 30_750, received: false).inArrears)
        #expect(!Standing(paidMinor: 20_000, owedMinor: 30_750, received: false).isDelinquent)
        #expect(Standing(paidMinor: 20_000, owedMinor: 30_750, received: true).isDelinquent)
        #expect(Standing(paidMinor: 20_000, owedMinor: 30_750, received: true).balanceMinor == -10_750)
    }

    @Test("dissolution refunds who paid in more, charges arrears to who received more, and the pool ends at 0")
    func dissolution() throws {
        let (a, b, c) = (MemberID(UUID()), MemberID(UUID()), MemberID(UUID()))
        // Two cycles of three members at 10,000: A was paid 30,000 in cycle 1; cycle 2 had B and C paid in, not yet out.
        let positions = [
            Dissolution.Position(member: a, paidInMinor: 10_000, receivedMinor: 30_000),
            Dissolution.Position(member: b, paidInMinor: 20_000, receivedMinor: 0),
            Dissolution.Position(member: c, paidInMinor: 20_000, receivedMinor: 0),
        ]
        // Pool: 50,000 in, 30,000 out, and A's missing cycle-2 contribution was never advanced.
        let settlement = try Dissolution.settle(positions, poolMinor: 20_000)
        #expect(settlement.refunds == [b: 20_000, c: 20_000] && settlement.arrears == [a: 20_000])
        #expect(throws: RuleError.self) { try Dissolution.settle(positions, poolMinor: 19_999) }
        // With the guarantee advancing A's cycle-2 share, the pool holds it too and it is owed back.
        #expect(try Dissolution.settle(positions, poolMinor: 30_000, advancedMinor: 10_000).arrears == [a: 20_000])
    }
}
