import Foundation
import NzilaValues

/// How a loan's interest is computed (DOMAIN.md, Lending).
public enum LoanMethod: String, Sendable, Codable, CaseIterable {
    /// Equal instalments (an annuity); each period's interest on the balance outstanding.
    case decliningBalance = "declining_balance"
    /// Interest on the original principal for the whole term, split evenly.
    case flat
}

/// What a schedule is computed from.
public struct LoanTerms: Sendable, Equatable {
    public let principalMinor: Int64
    public let currency: Currency
    /// The annual nominal rate in basis points (1,250 = 12.50%).
    public let annualRateBps: Int
    public let instalments: Int
    public let frequency: Frequency
    public let method: LoanMethod
    /// The first `graceInstalments` instalments pay interest only.
    public let graceInstalments: Int
    public let firstDue: Day

    public init(
        principalMinor: Int64, currency: Currency, annualRateBps: Int, instalments: Int, frequency: Frequency, method: LoanMethod,
        graceInstalments: Int = 0, firstDue: Day
    ) {
        self.principalMinor = principalMinor
        self.currency = currency
        self.annualRateBps = annualRateBps
        self.instalments = instalments
        self.frequency = frequency
        self.method = method
        self.graceInstalments = graceInstalments
        self.firstDue = firstDue
    }

    /// The terms of a loan disbursed on `day`: the first instalment falls due one period later
    /// (monthly keeps the day, clamped to the month's end). Nil past the calendar.
    public static func disbursed(
        on day: Day, principalMinor: Int64, currency: Currency, annualRateBps: Int, instalments: Int, frequency: Frequency, method: LoanMethod,
        graceInstalments: Int
    ) -> LoanTerms? {
        guard let first = Schedule.dueDates(cycles: 2, first: day, frequency: frequency).dropFirst().first else { return nil }
        return LoanTerms(
            principalMinor: principalMinor, currency: currency, annualRateBps: annualRateBps, instalments: instalments, frequency: frequency,
            method: method, graceInstalments: graceInstalments, firstDue: first)
    }

    /// The periodic rate: the annual rate divided by the periods in a year, as an exact decimal.
    public var periodicRate: Decimal {
        Decimal(annualRateBps) / Decimal(10_000) / Decimal(frequency.periodsPerYear)
    }
}

/// One instalment of a schedule, in minor units of the loan's currency.
public struct Instalment: Sendable, Equatable, Codable {
    public let number: Int
    public let dueDate: Day
    public let principalMinor: Int64
    public let interestMinor: Int64
    public let feeMinor: Int64
    public let balanceAfterMinor: Int64

    public var totalMinor: Int64 { principalMinor + interestMinor + feeMinor }

    public init(number: Int, dueDate: Day, principalMinor: Int64, interestMinor: Int64, feeMinor: Int64 = 0, balanceAfterMinor: Int64) {
        self.number = number
        self.dueDate = dueDate
        self.principalMinor = principalMinor
        self.interestMinor = interestMinor
        self.feeMinor = feeMinor
        self.balanceAfterMinor = balanceAfterMinor
    }
}

/// Rounding, named once: **half-even (banker's) at the currency's minor unit**, as Fineract's
/// default. Amounts here are already minor units, so rounding is to a whole number of them; a
/// currency without a minor unit (XOF) is the same rule on whole francs.
public enum LoanRounding {
    /// `value` (minor units, exact decimal) rounded half-even to a whole minor unit.
    public static func halfEven(_ value: Decimal) -> Int64 {
        var input = value
        var rounded = Decimal()
        NSDecimalRound(&rounded, &input, 0, .bankers)
        return NSDecimalNumber(decimal: rounded).int64Value
    }

    /// numerator / denominator (denominator > 0) rounded half-even, in integers only.
    public static func halfEven(_ numerator: Int64, over denominator: Int64) -> Int64 {
        precondition(denominator > 0)
        var quotient = numerator / denominator
        var remainder = numerator % denominator
        if remainder < 0 {
            quotient -= 1
            remainder += denominator
        }
        let twice = remainder * 2
        if twice > denominator || (twice == denominator && quotient % 2 != 0) { quotient += 1 }
        return quotient
    }
}

/// A loan's repayment schedule, to the cent, in exact decimal and integer arithmetic (never a
/// floating-point number, the annuity's power included: `Decimal` to 38 significant digits, then
/// half-even to the minor unit).
///
/// - Declining balance: instalment A = P·r / (1 − (1+r)^−m) over the m = n − k instalments after
///   k interest-only ones, r the annual rate ÷ periods per year, rounded half-even; each period's
///   interest = balance × r, rounded half-even; principal = A − interest; **the last instalment is
///   the remaining balance plus its interest**, so it absorbs every rounding. A 0% rate divides the
///   principal evenly (the last takes the residue).
/// - Flat: total interest = P × annual rate × n ÷ periods per year, rounded half-even, split evenly
///   over the n instalments (truncated; the last takes the residue); principal split evenly over
///   the m instalments after the grace (the last takes the residue).
///
/// The principal parts always sum to P exactly.
public enum Amortization {
    public static func schedule(_ terms: LoanTerms) throws(RuleError) -> [Instalment] {
        let n = terms.instalments
        let k = terms.graceInstalments
        guard terms.principalMinor > 0 else { throw RuleError.invalid(field: "principal.amount", "must be positive") }
        guard (1...520).contains(n) else { throw RuleError.invalid(field: "term", "must be 1 to 520 instalments") }
        guard (0..<n).contains(k) else { throw RuleError.invalid(field: "grace_instalments", "must leave at least one instalment that repays principal") }
        guard (0...10_000).contains(terms.annualRateBps) else { throw RuleError.invalid(field: "annual_rate_bps", "must be 0 to 10,000") }
        let dues = Schedule.dueDates(cycles: n, first: terms.firstDue, frequency: terms.frequency)
        guard dues.count == n else { throw RuleError.invalid(field: "term", "runs past the calendar") }
        switch terms.method {
        case .decliningBalance: return declining(terms, dues: dues)
        case .flat: return flat(terms, dues: dues)
        }
    }

    /// The annuity instalment for `principal` over `periods` at periodic rate `r`, half-even.
    public static func annuity(principalMinor: Int64, rate r: Decimal, periods m: Int) -> Int64 {
        let p = Decimal(principalMinor)
        guard r > 0 else { return LoanRounding.halfEven(principalMinor, over: Int64(m)) }
        let growth = power(1 + r, m)
        return LoanRounding.halfEven(p * r * growth / (growth - 1))
    }

    /// `base` to the `exponent`, by squaring, in `Decimal`.
    public static func power(_ base: Decimal, _ exponent: Int) -> Decimal {
        var result = Decimal(1)
        var factor = base
        var e = exponent
        while e > 0 {
            if e & 1 == 1 { result *= factor }
            factor *= factor
            e >>= 1
        }
        return result
    }

    static func declining(_ terms: LoanTerms, dues: [Day]) -> [Instalment] {
        let r = terms.periodicRate
        let n = terms.instalments
        let k = terms.graceInstalments
        var balance = terms.principalMinor
        var result: [Instalment] = []
        for index in 0..<k {
            let interest = LoanRounding.halfEven(Decimal(balance) * r)
            result.append(Instalment(number: index + 1, dueDate: dues[index], principalMinor: 0, interestMinor: interest, balanceAfterMinor: balance))
        }
        let m = n - k
        let payment = annuity(principalMinor: balance, rate: r, periods: m)
        for number in (k + 1)...n {
            let interest = LoanRounding.halfEven(Decimal(balance) * r)
            let principal = number == n ? balance : min(balance, max(0, payment - interest))
            balance -= principal
            result.append(Instalment(number: number, dueDate: dues[number - 1], principalMinor: principal, interestMinor: interest, balanceAfterMinor: balance))
        }
        return result
    }

    static func flat(_ terms: LoanTerms, dues: [Day]) -> [Instalment] {
        let n = Int64(terms.instalments)
        let k = Int64(terms.graceInstalments)
        let m = n - k
        // P × bps × n / (10,000 × periods per year), half-even: exact in integers for any loan the API takes.
        let totalInterest = LoanRounding.halfEven(
            terms.principalMinor * Int64(terms.annualRateBps) * n, over: 10_000 * Int64(terms.frequency.periodsPerYear))
        let interestEach = totalInterest / n
        let principalEach = terms.principalMinor / m
        var balance = terms.principalMinor
        var result: [Instalment] = []
        for number in 1...n {
            let last = number == n
            let interest = last ? totalInterest - interestEach * (n - 1) : interestEach
            let principal = number <= k ? 0 : (last ? balance : principalEach)
            balance -= principal
            result.append(
                Instalment(number: Int(number), dueDate: dues[Int(number) - 1], principalMinor: principal, interestMinor: interest, balanceAfterMinor: balance))
        }
        return result
    }
}
