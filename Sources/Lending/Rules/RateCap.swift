import Foundation
import NzilaValues

/// The cost of credit as an annual percentage rate, and Canada's criminal interest rate.
///
/// The APR is read from the actual cash flows: the member receives the disbursed amount (principal
/// less the origination fee) and pays each instalment's total. The periodic rate r solves
/// Σ total_t / (1 + r)^t = disbursed (the internal rate of return), found in `Decimal` to 10⁻¹⁸ per
/// period by Newton's method kept inside a bisection bracket; the APR is r × periods per year (a
/// nominal annual rate, as the instalments'
/// frequency annualises it). Since 2025-01-01 the Criminal Code (s. 347) caps it at 35% including
/// every fee and charge; the cap is a platform setting a tenant may lower, never raise.
public enum RateCap {
    /// The platform's cap: 35.00%, in basis points.
    public static let criminalRateBps = 3_500

    /// The APR of a schedule disbursed at `disbursedMinor`, as an exact decimal fraction (0.35 =
    /// 35%); nil when the instalments do not repay more than was disbursed in a way a rate below
    /// 1,000% a period explains.
    public static func apr(disbursedMinor: Int64, instalments: [Instalment], frequency: Frequency) -> Decimal? {
        guard disbursedMinor > 0, !instalments.isEmpty else { return nil }
        let payments = instalments.map { Decimal($0.totalMinor) }
        let disbursed = Decimal(disbursedMinor)
        // Present value of the payments at periodic rate r, less what was disbursed (falls as r rises),
        // and its derivative −Σ t·payment_t / (1 + r)^(t+1).
        func excess(_ r: Decimal) -> (value: Decimal, slope: Decimal) {
            let discount = 1 / (1 + r)
            var factor = Decimal(1)
            var total = Decimal(0)
            var slope = Decimal(0)
            for (index, payment) in payments.enumerated() {
                factor *= discount
                total += payment * factor
                slope -= Decimal(index + 1) * payment * factor * discount
            }
            return (total - disbursed, slope)
        }
        var low = Decimal(0)
        var high = Decimal(10)
        guard excess(low).value >= 0 else { return nil }  // they repay less than they received: no positive rate
        guard excess(high).value <= 0 else { return nil }
        // Newton's method kept inside the bracket [low, high] (a step that leaves it bisects instead):
        // quadratic convergence, a handful of evaluations instead of bisection's sixty, the same root.
        let tolerance = Decimal(string: "1e-18")!
        let total = payments.reduce(0, +)
        // A first guess from simple interest: the charge spread over the average life of the loan.
        var r = min(max((total - disbursed) * 2 / (disbursed * Decimal(payments.count + 1)), low), high)
        for _ in 0..<200 {
            let (value, slope) = excess(r)
            if value == 0 { return r * Decimal(frequency.periodsPerYear) }
            if value > 0 { low = r } else { high = r }
            var next = slope < 0 ? r - value / slope : (low + high) / 2
            if !(next > low && next < high) { next = (low + high) / 2 }
            let step = next > r ? next - r : r - next
            r = next
            if step <= tolerance || high - low <= tolerance { break }
        }
        return r * Decimal(frequency.periodsPerYear)
    }

    /// An APR in percent with two decimals, rounded half-even, for a problem's detail ("36.12%").
    public static func percent(_ apr: Decimal) -> String {
        var value = apr * 100
        var rounded = Decimal()
        NSDecimalRound(&rounded, &value, 2, .bankers)
        let text = NSDecimalNumber(decimal: rounded).stringValue
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let decimals = parts.count > 1 ? String(parts[1]) : ""
        return "\(parts[0]).\(decimals.padding(toLength: 2, withPad: "0", startingAt: 0))%"
    }

    /// Refused (`rate-cap-exceeded`, naming the APR) when the APR passes `capBps`.
    public static func check(apr: Decimal?, capBps: Int) throws(RuleError) {
        let cap = Decimal(capBps) / 10_000
        guard let apr else {
            throw RuleError(.unprocessable, "rate-cap-exceeded", "Rate cap exceeded", detail: "The cost of credit has no annual rate below the cap of \(percent(cap)).")
        }
        guard apr <= cap else {
            throw RuleError(
                .unprocessable, "rate-cap-exceeded", "Rate cap exceeded",
                detail: "The cost of credit, interest and every fee, is an APR of \(percent(apr)); the cap is \(percent(cap)).")
        }
    }

    /// The origination fee: a fixed part plus basis points of the principal, rounded half-even.
    public static func originationFee(principalMinor: Int64, fixedMinor: Int64, bps: Int) -> Int64 {
        fixedMinor + LoanRounding.halfEven(principalMinor * Int64(bps), over: 10_000)
    }
}
