import Foundation
import NzilaCore

/// A loan as the API shows it: the terms it was made on, the decision with its reasons, and where it stands.
public struct LoanRecord: Codable, Sendable {
    public struct Decision: Codable, Sendable {
        public let decision: Scorecard.Decision
        public let score: Int
        /// At most four, most telling first: the factor, its attribute and the points it moved.
        public let reasons: [Scorecard.Line]
        /// Every factor's line, so the score can be replayed: 600 + Σ points, clamped to 300–900.
        public let lines: [Scorecard.Line]
        public let inputs: Scorecard.Inputs
        public let approveAt: Int
        public let declineBelow: Int
        public let staff: LoanDecision.StaffDecision?
    }

    public let id: LoanID
    public let memberId: MemberID
    public let productId: LoanProductID
    public let productVersion: Int
    public let principal: Money
    public let term: Int
    public let frequency: Frequency
    public let annualRateBps: Int
    public let method: LoanMethod
    public let graceInstalments: Int
    public let originationFee: Money
    public let disbursedAmount: Money
    /// The cost of credit, interest and every fee, as an APR (two decimals, half-even), and the cap it was checked against.
    public let apr: String
    public let rateCap: String
    public let purpose: String
    public let accountId: AccountID
    public let autopay: Bool
    public let state: LoanState
    public let decision: Decision
    public let principalOutstanding: Money
    public let writtenOff: Money
    public let bucket: DelinquencyBucket?
    public let disbursedOn: Day?
    public let createdAt: Date
    public let closedAt: Date?

    public init(_ loan: Loan) throws {
        id = loan.id
        memberId = loan.member
        productId = loan.product
        productVersion = loan.productVersion
        principal = loan.principal
        term = loan.term
        frequency = loan.frequency
        annualRateBps = loan.annualRateBps
        method = loan.method
        graceInstalments = loan.graceInstalments
        originationFee = Money(minorUnits: loan.feeMinor, currency: loan.currency)
        disbursedAmount = Money(minorUnits: loan.principal.minorUnits - loan.feeMinor, currency: loan.currency)
        apr = RateCap.percent(loan.apr)
        rateCap = RateCap.percent(Decimal(loan.capBps) / 10_000)
        purpose = loan.purpose
        accountId = loan.account
        autopay = loan.autopay
        state = loan.state
        let d = try loan.decision()
        decision = Decision(
            decision: d.staff?.decision ?? d.result.decision, score: d.result.score, reasons: d.result.reasons, lines: d.result.lines, inputs: d.inputs,
            approveAt: d.approveAt, declineBelow: d.declineBelow, staff: d.staff)
        principalOutstanding = Money(minorUnits: loan.principalOutstandingMinor, currency: loan.currency)
        writtenOff = Money(minorUnits: loan.writtenOffMinor, currency: loan.currency)
        bucket = loan.bucket
        disbursedOn = loan.disbursedOn
        createdAt = loan.createdAt
        closedAt = loan.closedAt
    }
}

/// Where an instalment stands.
public enum InstalmentStatus: String, Sendable, Codable, CaseIterable {
    /// Its due date is still ahead.
    case upcoming
    /// Due today or earlier and not paid in full.
    case due
    case paid
    /// The loan was paid off early: the interest it had not earned was never asked for.
    case rebated
}

/// A schedule, to the cent: each instalment's due date, principal, interest, fees, total and the
/// balance after it; for a disbursed loan also what each has received.
public struct LoanScheduleView: Codable, Sendable {
    public struct Line: Codable, Sendable {
        public let number: Int
        public let dueDate: Day
        public let principalMinor: Int64
        public let interestMinor: Int64
        public let feeMinor: Int64
        public let penaltyMinor: Int64
        public let totalMinor: Int64
        public let balanceAfterMinor: Int64
        public let paidMinor: Int64
        public let status: InstalmentStatus
    }

    public let currency: String
    public let principal: Money
    public let term: Int
    public let frequency: Frequency
    public let method: LoanMethod
    public let annualRateBps: Int
    public let originationFee: Money
    public let disbursedAmount: Money
    /// The APR of the cash flows (two decimals, half-even) and the cap it is within.
    public let apr: String
    public let rateCap: String
    public let totalInterest: Money
    public let totalRepaid: Money
    /// How every amount was rounded.
    public let rounding: String
    public let instalments: [Line]

    static let rounding = "half-even (banker's) at the currency's minor unit, for each period's interest and the instalment; the last instalment absorbs every residue"

    /// A quote: every line upcoming, nothing paid.
    init(quote: LoanQuote, capBps: Int) {
        let currency = quote.terms.currency
        self.currency = currency.code
        principal = Money(minorUnits: quote.terms.principalMinor, currency: currency)
        term = quote.terms.instalments
        frequency = quote.terms.frequency
        method = quote.terms.method
        annualRateBps = quote.terms.annualRateBps
        originationFee = Money(minorUnits: quote.feeMinor, currency: currency)
        disbursedAmount = Money(minorUnits: quote.disbursedMinor, currency: currency)
        apr = quote.apr.map(RateCap.percent) ?? "n/a"
        rateCap = RateCap.percent(Decimal(capBps) / 10_000)
        totalInterest = Money(minorUnits: quote.totalInterestMinor, currency: currency)
        totalRepaid = Money(minorUnits: quote.totalRepaidMinor, currency: currency)
        rounding = Self.rounding
        instalments = quote.schedule.map {
            Line(
                number: $0.number, dueDate: $0.dueDate, principalMinor: $0.principalMinor, interestMinor: $0.interestMinor, feeMinor: $0.feeMinor,
                penaltyMinor: 0, totalMinor: $0.totalMinor, balanceAfterMinor: $0.balanceAfterMinor, paidMinor: 0, status: .upcoming)
        }
    }

    /// A disbursed loan's booked schedule with what each instalment has received.
    init(loan: Loan, book: [BookedInstalment], rebated: Set<Int>, today: Day) {
        let currency = loan.currency
        self.currency = currency.code
        principal = loan.principal
        term = loan.term
        frequency = loan.frequency
        method = loan.method
        annualRateBps = loan.annualRateBps
        originationFee = Money(minorUnits: loan.feeMinor, currency: currency)
        disbursedAmount = Money(minorUnits: loan.principal.minorUnits - loan.feeMinor, currency: currency)
        apr = RateCap.percent(loan.apr)
        rateCap = RateCap.percent(Decimal(loan.capBps) / 10_000)
        totalInterest = Money(minorUnits: book.reduce(0) { $0 + $1.interestMinor }, currency: currency)
        totalRepaid = Money(minorUnits: book.reduce(0) { $0 + $1.principalMinor + $1.interestMinor + $1.feeMinor + $1.penaltyMinor }, currency: currency)
        rounding = Self.rounding
        var balance = loan.principal.minorUnits
        instalments = book.map { i in
            balance -= i.principalMinor
            let paid = i.principalPaidMinor + i.interestPaidMinor + i.feePaidMinor + i.penaltyPaidMinor
            let status: InstalmentStatus = i.isPaid ? .paid : rebated.contains(i.number) ? .rebated : i.dueDate <= today ? .due : .upcoming
            return Line(
                number: i.number, dueDate: i.dueDate, principalMinor: i.principalMinor, interestMinor: i.interestMinor, feeMinor: i.feeMinor,
                penaltyMinor: i.penaltyMinor, totalMinor: i.principalMinor + i.interestMinor + i.feeMinor + i.penaltyMinor, balanceAfterMinor: balance,
                paidMinor: paid, status: status)
        }
    }
}

/// What closes the loan on a day: what a `POST …/payoff` that day takes, exactly.
public struct LoanPayoffView: Codable, Sendable {
    public let loanId: LoanID
    public let asOf: Day
    public let principal: Money
    /// Interest since the last due date: principal × annual rate × actual days ÷ 365, half-even,
    /// at most the current instalment's scheduled interest, less what it has received.
    public let accruedInterest: Money
    /// Penalties, fees and interest of instalments already due and unpaid.
    public let dueCharges: Money
    public let total: Money
    /// The scheduled interest of later instalments that the payoff does not ask for.
    public let rebatedInterest: Money
    public let daysPastDue: Int
    public let bucket: DelinquencyBucket?

    init(loan: Loan, standing: LoanStanding, book: [BookedInstalment]) {
        let c = loan.currency
        loanId = loan.id
        asOf = standing.today
        principal = Money(minorUnits: standing.quote.principalMinor, currency: c)
        accruedInterest = Money(minorUnits: standing.quote.accruedInterestMinor, currency: c)
        dueCharges = Money(minorUnits: standing.quote.dueChargesMinor, currency: c)
        total = Money(minorUnits: standing.quote.totalMinor, currency: c)
        let unasked = book.filter { $0.dueDate > standing.today }.reduce(0) { $0 + ($1.interestMinor - $1.interestPaidMinor) } - standing.accruedMinor
        rebatedInterest = Money(minorUnits: max(0, unasked), currency: c)
        daysPastDue = standing.daysPastDue
        bucket = standing.bucket
    }
}
