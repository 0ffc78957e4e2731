import Foundation
import NzilaValues
import Testing
@testable import Trading

/// Copy trading as pure rules: scaling, lot rounding, closing shares, the stop loss and the states.
@Suite("Copy trading rules")
struct CopyRuleTests {
    @Test("a buy scales by copy equity / leader equity, rounded down to whole lots; below one lot nothing is sent")
    func scaling() {
        #expect(CopyTrading.scaled(1_000, copyEquity: 25_000, leaderEquity: 100_000, lot: 1) == 250)
        #expect(CopyTrading.scaled(1_000, copyEquity: 25_000, leaderEquity: 100_000, lot: 100) == 200)  // 250 → two lots; 50 stay cash
        #expect(CopyTrading.scaled(99, copyEquity: 1, leaderEquity: 100, lot: 1) == nil)  // 0.99 of a share
        #expect(CopyTrading.scaled(300, copyEquity: 1, leaderEquity: 3, lot: 100) == 100)  // exactly one lot
        #expect(CopyTrading.scaled(299, copyEquity: 1, leaderEquity: 3, lot: 100) == nil)  // 99.67: below a lot
        #expect(CopyTrading.scaled(10, copyEquity: 30_000, leaderEquity: 10_000, lot: 1) == 30)  // a copy larger than its leader
        #expect(CopyTrading.scaled(10, copyEquity: 0, leaderEquity: 10_000, lot: 1) == nil)
        #expect(CopyTrading.scaled(10, copyEquity: 10, leaderEquity: 0, lot: 1) == nil)
        #expect(CopyTrading.scaled(.max, copyEquity: .max, leaderEquity: 1, lot: 1) == nil)  // would overflow: refused, not trapped
    }

    @Test("a sell closes the copy's share of the position, rounded down to lots; all when the leader sells all")
    func closing() {
        #expect(CopyTrading.closing(copyHeld: 250, leaderSold: 500, leaderHeld: 1_000, lot: 1) == 125)
        #expect(CopyTrading.closing(copyHeld: 250, leaderSold: 500, leaderHeld: 1_000, lot: 100) == 100)
        #expect(CopyTrading.closing(copyHeld: 250, leaderSold: 1_000, leaderHeld: 1_000, lot: 100) == 250)  // everything, odd lot included
        #expect(CopyTrading.closing(copyHeld: 3, leaderSold: 1, leaderHeld: 10, lot: 1) == nil)  // 0.3 of a share
        #expect(CopyTrading.closing(copyHeld: 0, leaderSold: 1, leaderHeld: 10, lot: 1) == nil)
        #expect(CopyTrading.closing(copyHeld: 7, leaderSold: 20, leaderHeld: 10, lot: 1) == 7)
    }

    @Test("the stop loss: equity at or below the allocation less the percentage, in integers")
    func stopLoss() {
        #expect(CopyTrading.stopLossHit(equity: 80_000, allocated: 100_000, stopLossPct: 20))
        #expect(!CopyTrading.stopLossHit(equity: 80_001, allocated: 100_000, stopLossPct: 20))
        #expect(CopyTrading.stopLossHit(equity: 0, allocated: 100_000, stopLossPct: 95))
        #expect(!CopyTrading.stopLossHit(equity: 5_001, allocated: 100_000, stopLossPct: 95))
    }

    @Test("every pair of states: only active → leader_left | stopped and leader_left → stopped")
    func states() {
        let allowed: Set<String> = ["active>leader_left", "active>stopped", "leader_left>stopped"]
        for from in CopyTrading.State.allCases {
            for to in CopyTrading.State.allCases {
                #expect(CopyTrading.allowed(from: from, to: to) == allowed.contains("\(from.rawValue)>\(to.rawValue)"), "\(from) → \(to)")
            }
        }
    }
}
