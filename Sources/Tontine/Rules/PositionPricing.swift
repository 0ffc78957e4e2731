import NzilaValues

/// Optional position pricing (off by default): an early position is an advance and pays for it, a
/// late one is a saver and is paid for it. `early_fee_bps` is charged on the payouts of the first
/// ⌊n/2⌋ positions; the fees are shared equally among the payouts of the last ⌊n/2⌋ positions, the
/// residue of the division to the last position; with n odd the middle position is untouched. The
/// adjustments sum to exactly zero, so the pool still ends at 0.
public enum PositionPricing {
    /// The largest early fee a circle may set, in basis points.
    public static let maxFeeBps = 1_000

    /// Each position's adjustment to its payout, in minor units (negative: a fee), position 1 first.
    /// Rounding: each fee is rounded **down** to the minor unit (a member is never charged a
    /// fraction of a cent more than the rate), and the shares are whole minor units with the
    /// remainder to the last position.
    public static func adjustments(positions n: Int, payoutMinor: Int64, feeBps: Int) throws(RuleError) -> [Int64] {
        guard n >= 2 else { throw RuleError.invalid(field: "max_members", "must be at least 2") }
        guard (0...maxFeeBps).contains(feeBps) else { throw RuleError.invalid(field: "early_fee_bps", "must be between 0 and \(maxFeeBps)") }
        guard payoutMinor >= 0 else { throw RuleError.invalid(field: "contribution", "must not be negative") }
        let (product, overflow) = payoutMinor.multipliedReportingOverflow(by: Int64(feeBps))
        guard !overflow else { throw RuleError.invalid(field: "contribution", "is too large") }
        let fee = product / 10_000  // rounded down
        let half = n / 2
        let total = fee * Int64(half)
        let share = total / Int64(half)
        var result = [Int64](repeating: 0, count: n)
        for index in 0..<half {
            result[index] = -fee
            result[n - half + index] = share
        }
        result[n - 1] += total - share * Int64(half)
        return result
    }
}

extension PositionPricing {
    /// What position `k` (1…n) gains or costs with its `adjustmentMinor`, as a simple annual rate in
    /// basis points on the turn's balance with the circle. Period t's balance is what the member has
    /// put in less what they have received by then: t × contribution before their turn (lent to the
    /// circle), t × contribution − n × contribution from it (borrowed). Their sum over the n periods is
    /// n × contribution × (k − (n + 1)/2); the rate is the adjustment over the size of that sum, times
    /// the periods in a year: negative for an early turn's fee (a cost), positive for a later turn's
    /// share (a gain), 0 without pricing or for the middle turn of an odd circle, whose balance nets
    /// to nothing. Integer arithmetic; rounded toward zero, so a rate is never shown larger than it is.
    /// Nil for a position outside 1…n.
    public static func annualisedReturnBps(positions n: Int, position k: Int, contributionMinor: Int64, adjustmentMinor: Int64, frequency: Frequency) -> Int? {
        guard n >= 2, (1...n).contains(k), contributionMinor > 0 else { return nil }
        // Twice the balance sum, to stay in integers: n × contribution × (2k − n − 1).
        let twiceBalance = Int64(n) * contributionMinor * Int64(2 * k - n - 1)
        guard adjustmentMinor != 0, twiceBalance != 0 else { return 0 }
        let (scaled, overflow) = adjustmentMinor.multipliedReportingOverflow(by: Int64(frequency.periodsPerYear) * 10_000 * 2)
        guard !overflow else { return nil }
        return Int(scaled / abs(twiceBalance))
    }
}
