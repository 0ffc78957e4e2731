import Foundation
import NzilaValues
import Testing
import Tontine

@Suite("Tontine position pricing rates")
struct PositionPricingRateTests {
    @Test("no adjustment is a 0% rate; a position outside the circle has none")
    func zeroAndNone() {
        #expect(PositionPricing.annualisedReturnBps(positions: 5, position: 3, contributionMinor: 10_000, adjustmentMinor: 0, frequency: .monthly) == 0)
        #expect(PositionPricing.annualisedReturnBps(positions: 5, position: 6, contributionMinor: 10_000, adjustmentMinor: 100, frequency: .monthly) == nil)
        #expect(PositionPricing.annualisedReturnBps(positions: 1, position: 1, contributionMinor: 10_000, adjustmentMinor: 100, frequency: .monthly) == nil)
    }

    @Test("four weekly members, 2% of a 40,000 turn: the fee over the turn's balance-periods, times 52, rounded toward zero")
    func worked() {
        // Position 1's balances: 10,000 − 40,000 = −30,000, then −20,000, −10,000, 0: 60,000 borrowed-periods.
        // −800 / 60,000 × 52 = −0.69333… → −6,933 bps; position 2: −800 / 20,000 × 52 = −2.08 → −20,800 bps.
        let rates = zip(1...4, [-800, -800, 800, 800] as [Int64]).map {
            PositionPricing.annualisedReturnBps(positions: 4, position: $0, contributionMinor: 10_000, adjustmentMinor: $1, frequency: .weekly)
        }
        #expect(rates == [-6_933, -20_800, 20_800, 6_933])
    }

    @Test("with pricing on, early positions cost and late ones gain, the middle of an odd circle neither; weekly is a dearer annual rate than monthly")
    func signs() throws {
        let n = 9
        let adjustments = try PositionPricing.adjustments(positions: n, payoutMinor: 90_000, feeBps: 200)
        let rates = (1...n).map {
            PositionPricing.annualisedReturnBps(positions: n, position: $0, contributionMinor: 10_000, adjustmentMinor: adjustments[$0 - 1], frequency: .monthly) ?? 0
        }
        #expect(rates.prefix(4).allSatisfy { $0 < 0 } && rates[4] == 0 && rates.suffix(4).allSatisfy { $0 > 0 }, "\(rates)")
        let weekly = PositionPricing.annualisedReturnBps(positions: n, position: 1, contributionMinor: 10_000, adjustmentMinor: adjustments[0], frequency: .weekly)
        #expect((weekly ?? 0) < rates[0])
    }
}
