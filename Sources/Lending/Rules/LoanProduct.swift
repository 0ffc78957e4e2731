import Foundation
import NzilaValues

public enum LoanProductTag {}
/// A loan product's id.
public typealias LoanProductID = Identifier<LoanProductTag>
public enum LoanTag {}
/// A loan's id.
public typealias LoanID = Identifier<LoanTag>
public enum LoanRepaymentTag {}
public typealias LoanRepaymentID = Identifier<LoanRepaymentTag>

/// What a credit union offers (staff with `loans.manage`): the ranges a member chooses in and the
/// price. Checked whole (every bad field named) and against the rate cap at its costliest corner.
public struct LoanProductTerms: Sendable, Equatable {
    public let name: String
    public let currency: Currency
    public let minPrincipalMinor: Int64
    public let maxPrincipalMinor: Int64
    public let minTerm: Int
    public let maxTerm: Int
    public let frequency: Frequency
    public let annualRateBps: Int
    public let method: LoanMethod
    public let feeFixedMinor: Int64
    public let feeBps: Int
    public let graceInstalments: Int
    public let penaltyFixedMinor: Int64
    public let penaltyBps: Int
    public let penaltyGraceDays: Int
    public let active: Bool

    public init(
        name: String, currency: Currency, minPrincipalMinor: Int64, maxPrincipalMinor: Int64, minTerm: Int, maxTerm: Int, frequency: Frequency,
        annualRateBps: Int, method: LoanMethod, feeFixedMinor: Int64 = 0, feeBps: Int = 0, graceInstalments: Int = 0, penaltyFixedMinor: Int64 = 0,
        penaltyBps: Int = 0, penaltyGraceDays: Int = 0, active: Bool = true
    ) {
        self.name = name
        self.currency = currency
        self.minPrincipalMinor = minPrincipalMinor
        self.maxPrincipalMinor = maxPrincipalMinor
        self.minTerm = minTerm
        self.maxTerm = maxTerm
        self.frequency = frequency
        self.annualRateBps = annualRateBps
        self.method = method
        self.feeFixedMinor = feeFixedMinor
        self.feeBps = feeBps
        self.graceInstalments = graceInstalments
        self.penaltyFixedMinor = penaltyFixedMinor
        self.penaltyBps = penaltyBps
        self.penaltyGraceDays = penaltyGraceDays
        self.active = active
    }

    /// The fields of a request, as optionals, checked: every bad one is named at once.
    public struct Fields: Sendable {
        public var name: String?
        public var currency: String?
        public var minPrincipalMinor: Int64?
        public var maxPrincipalMinor: Int64?
        public var minTerm: Int?
        public var maxTerm: Int?
        public var frequency: String?
        public var annualRateBps: Int?
        public var method: String?
        public var feeFixedMinor: Int64?
        public var feeBps: Int?
        public var graceInstalments: Int?
        public var penaltyFixedMinor: Int64?
        public var penaltyBps: Int?
        public var penaltyGraceDays: Int?
        public var active: Bool?

        public init() {}
    }

    public static func check(_ f: Fields) throws(RuleError) -> LoanProductTerms {
        var errors: [FieldError] = []
        func fail(_ field: String, _ message: String) { errors.append(FieldError(field: field, message: message)) }
        let name = f.name?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if name.isEmpty || name.unicodeScalars.count > 100 { fail("name", "must be 1 to 100 characters") }
        let currency = f.currency.flatMap(Currency.init(code:))
        if currency == nil { fail("currency", "must be a supported currency code") }
        let cap = currency.map { Int64(10_000_000) * Self.minorPerMajor($0) } ?? Int64.max
        if !(1...cap).contains(f.minPrincipalMinor ?? 0) { fail("principal_range.min_minor", "must be a positive integer of minor units") }
        if !(1...cap).contains(f.maxPrincipalMinor ?? 0) { fail("principal_range.max_minor", "must be a positive integer of minor units, at most \(cap)") }
        if let low = f.minPrincipalMinor, let high = f.maxPrincipalMinor, low > 0, high < low { fail("principal_range.max_minor", "must be at least min_minor") }
        if !(1...520).contains(f.minTerm ?? 0) { fail("term_range.min", "must be 1 to 520 instalments") }
        if !(1...520).contains(f.maxTerm ?? 0) { fail("term_range.max", "must be 1 to 520 instalments") }
        if let low = f.minTerm, let high = f.maxTerm, low >= 1, high < low { fail("term_range.max", "must be at least term_range.min") }
        let frequency = f.frequency.flatMap(Frequency.init(rawValue:))
        if frequency == nil { fail("frequency", "must be weekly, biweekly or monthly") }
        if !(0...10_000).contains(f.annualRateBps ?? -1) { fail("annual_rate_bps", "must be 0 to 10,000 basis points") }
        let method = f.method.flatMap(LoanMethod.init(rawValue:))
        if method == nil { fail("method", "must be declining_balance or flat") }
        if (f.feeFixedMinor ?? 0) < 0 || (f.feeFixedMinor ?? 0) > cap { fail("origination_fee.fixed_minor", "must be 0 or a positive integer of minor units") }
        if !(0...10_000).contains(f.feeBps ?? 0) { fail("origination_fee.bps", "must be 0 to 10,000 basis points") }
        let grace = f.graceInstalments ?? 0
        if grace < 0 || ((1...520).contains(f.minTerm ?? 0) && grace >= f.minTerm!) { fail("grace_instalments", "must be 0 or more, and fewer than term_range.min") }
        if (f.penaltyFixedMinor ?? 0) < 0 || (f.penaltyFixedMinor ?? 0) > cap { fail("late_penalty.fixed_minor", "must be 0 or a positive integer of minor units") }
        if !(0...10_000).contains(f.penaltyBps ?? 0) { fail("late_penalty.bps", "must be 0 to 10,000 basis points") }
        if !(0...90).contains(f.penaltyGraceDays ?? 0) { fail("late_penalty.grace_days", "must be 0 to 90 days") }
        guard errors.isEmpty, let currency, let frequency, let method, let minP = f.minPrincipalMinor, let maxP = f.maxPrincipalMinor,
            let minT = f.minTerm, let maxT = f.maxTerm, let rate = f.annualRateBps
        else { throw RuleError.invalid(errors) }
        let terms = LoanProductTerms(
            name: name, currency: currency, minPrincipalMinor: minP, maxPrincipalMinor: maxP, minTerm: minT, maxTerm: maxT, frequency: frequency,
            annualRateBps: rate, method: method, feeFixedMinor: f.feeFixedMinor ?? 0, feeBps: f.feeBps ?? 0, graceInstalments: grace,
            penaltyFixedMinor: f.penaltyFixedMinor ?? 0, penaltyBps: f.penaltyBps ?? 0, penaltyGraceDays: f.penaltyGraceDays ?? 0, active: f.active ?? true)
        if terms.fee(principalMinor: minP) >= minP {
            throw RuleError.invalid(field: "origination_fee", "must leave something to disburse on the smallest principal")
        }
        return terms
    }

    static func minorPerMajor(_ currency: Currency) -> Int64 {
        var value: Int64 = 1
        for _ in 0..<currency.exponent { value *= 10 }
        return value
    }

    /// The origination fee on `principalMinor`: fixed plus bps, half-even.
    public func fee(principalMinor: Int64) -> Int64 {
        RateCap.originationFee(principalMinor: principalMinor, fixedMinor: feeFixedMinor, bps: feeBps)
    }

    public func loanTerms(principalMinor: Int64, term: Int, disbursedOn day: Day) throws(RuleError) -> LoanTerms {
        guard let terms = LoanTerms.disbursed(
            on: day, principalMinor: principalMinor, currency: currency, annualRateBps: annualRateBps, instalments: term, frequency: frequency,
            method: method, graceInstalments: graceInstalments)
        else { throw RuleError.invalid(field: "term", "runs past the calendar") }
        return terms
    }

    /// The costliest APR the product allows: at its four corners (the smallest and largest principal,
    /// the shortest and longest term). A fixed fee weighs most on the smallest, shortest loan and a
    /// percentage fee on the shortest; the interest's own rate barely moves with either, so the
    /// corners bound every loan the product can make.
    public func costliestAPR(on day: Day) throws(RuleError) -> (apr: Decimal?, principalMinor: Int64, term: Int) {
        var worst: (apr: Decimal?, principalMinor: Int64, term: Int)?
        for principal in Set([minPrincipalMinor, maxPrincipalMinor]).sorted() {
            for term in Set([minTerm, maxTerm]).sorted() {
                let quote = try LoanQuote.of(self, principalMinor: principal, term: term, on: day)
                guard let apr = quote.apr else { return (nil, principal, term) }
                if worst == nil || apr > worst!.apr! { worst = (apr, principal, term) }
            }
        }
        return worst!
    }

    /// A product (or a change to one) whose costliest loan passes the cap is refused, naming it.
    public func checkCap(capBps: Int, on day: Day) throws(RuleError) {
        let worst = try costliestAPR(on: day)
        do {
            try RateCap.check(apr: worst.apr, capBps: capBps)
        } catch {
            throw RuleError(
                error.kind, error.code, error.title,
                detail: error.detail + " (at \(worst.principalMinor) minor units over \(worst.term) \(frequency.rawValue) instalments, the product's costliest loan)")
        }
    }
}

/// A priced loan: the schedule, the fee, what the member receives and the APR (the quote a member
/// sees, and what an application and a disbursement recompute).
public struct LoanQuote: Sendable, Equatable {
    public let terms: LoanTerms
    public let schedule: [Instalment]
    public let feeMinor: Int64
    public let disbursedMinor: Int64
    /// nil when no positive rate explains the cash flows (the cap check refuses it).
    public let apr: Decimal?

    public var totalRepaidMinor: Int64 { schedule.reduce(0) { $0 + $1.totalMinor } }
    public var totalInterestMinor: Int64 { schedule.reduce(0) { $0 + $1.interestMinor } }

    public static func of(_ product: LoanProductTerms, principalMinor: Int64, term: Int, on day: Day) throws(RuleError) -> LoanQuote {
        try of(product.loanTerms(principalMinor: principalMinor, term: term, disbursedOn: day), feeMinor: product.fee(principalMinor: principalMinor))
    }

    /// The schedule of `terms` and its APR when `feeMinor` is taken from the disbursement.
    public static func of(_ terms: LoanTerms, feeMinor: Int64) throws(RuleError) -> LoanQuote {
        let schedule = try Amortization.schedule(terms)
        let disbursed = terms.principalMinor - feeMinor
        return LoanQuote(
            terms: terms, schedule: schedule, feeMinor: feeMinor, disbursedMinor: disbursed,
            apr: RateCap.apr(disbursedMinor: disbursed, instalments: schedule, frequency: terms.frequency))
    }

    /// An application's amount and term inside the product's ranges, in its currency.
    public static func checkApplication(_ product: LoanProductTerms, principalMinor: Int64?, currency: String?, term: Int?) throws(RuleError) -> (Int64, Int) {
        var errors: [FieldError] = []
        if !product.active { throw RuleError(.unprocessable, "product-inactive", "Product not offered", detail: "The loan product \(product.name) is not offered any more.") }
        if currency != product.currency.code { errors.append(FieldError(field: "principal.currency", message: "must be the product's currency, \(product.currency.code)")) }
        if !(product.minPrincipalMinor...product.maxPrincipalMinor).contains(principalMinor ?? 0) {
            errors.append(FieldError(field: "principal.amount", message: "must be \(product.minPrincipalMinor) to \(product.maxPrincipalMinor) minor units"))
        }
        if !(product.minTerm...product.maxTerm).contains(term ?? 0) {
            errors.append(FieldError(field: "term", message: "must be \(product.minTerm) to \(product.maxTerm) \(product.frequency.rawValue) instalments"))
        }
        guard errors.isEmpty, let principalMinor, let term else { throw RuleError.invalid(errors) }
        return (principalMinor, term)
    }
}
