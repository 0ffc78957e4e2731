import Foundation
import NzilaValues

/// Days past due, in ranges that never overlap (DOMAIN.md, Lending).
public enum DelinquencyBucket: String, Sendable, Codable, CaseIterable {
    case days1to30 = "1-30"
    case days31to60 = "31-60"
    case days61to90 = "61-90"
    case days91plus = "91+"

    /// The bucket of a loan whose oldest unpaid instalment fell due on `oldestUnpaid`, on `today`,
    /// less the product's grace days; nil when it is not past due (or within grace).
    public static func of(oldestUnpaid: Day?, today: Day, graceDays: Int) -> DelinquencyBucket? {
        guard let oldestUnpaid else { return nil }
        let days = today.ordinal - oldestUnpaid.ordinal - max(0, graceDays)
        switch days {
        case ...0: return nil
        case 1...30: return .days1to30
        case 31...60: return .days31to60
        case 61...90: return .days61to90
        default: return .days91plus
        }
    }
}

/// What an instalment still asks for, in minor units.
public struct Due: Sendable, Equatable {
    public var penaltyMinor: Int64
    public var feeMinor: Int64
    public var interestMinor: Int64
    public var principalMinor: Int64

    public init(penaltyMinor: Int64 = 0, feeMinor: Int64 = 0, interestMinor: Int64 = 0, principalMinor: Int64 = 0) {
        self.penaltyMinor = penaltyMinor
        self.feeMinor = feeMinor
        self.interestMinor = interestMinor
        self.principalMinor = principalMinor
    }

    public var totalMinor: Int64 { penaltyMinor + feeMinor + interestMinor + principalMinor }
}

/// How a repayment splits: per instalment, oldest first, **penalties → fees → interest →
/// principal** (Fineract's default strategy); what is left after every instalment due pays future
/// principal, oldest instalment first. The parts always sum to the amount.
public enum Allocation {
    public struct Result: Sendable, Equatable {
        /// What each due instalment received, in the order given.
        public let applied: [Due]
        /// Paid ahead against future principal (the later instalments', oldest first).
        public let futurePrincipalMinor: Int64

        public var totalMinor: Int64 { applied.reduce(0) { $0 + $1.totalMinor } + futurePrincipalMinor }
    }

    /// `due`: the instalments due, oldest first; `futurePrincipalMinor`: the principal of the
    /// instalments not yet due. More than everything outstanding is refused (a payoff closes a loan).
    public static func apply(_ amountMinor: Int64, due: [Due], futurePrincipalMinor: Int64) throws(RuleError) -> Result {
        guard amountMinor > 0 else { throw RuleError.invalid(field: "amount", "must be a positive integer of minor units") }
        let outstanding = due.reduce(0) { $0 + $1.totalMinor } + futurePrincipalMinor
        guard amountMinor <= outstanding else {
            throw RuleError(.unprocessable, "overpayment", "Overpayment", detail: "The loan asks for at most \(outstanding) minor units; \(amountMinor) is more.")
        }
        var left = amountMinor
        func take(_ wanted: Int64) -> Int64 {
            let part = min(left, max(0, wanted))
            left -= part
            return part
        }
        var applied: [Due] = []
        for instalment in due {
            let penalty = take(instalment.penaltyMinor)
            let fee = take(instalment.feeMinor)
            let interest = take(instalment.interestMinor)
            let principal = take(instalment.principalMinor)
            applied.append(Due(penaltyMinor: penalty, feeMinor: fee, interestMinor: interest, principalMinor: principal))
        }
        return Result(applied: applied, futurePrincipalMinor: take(futurePrincipalMinor))
    }
}

/// Early payoff: outstanding principal + the interest accrued since the last due date (balance ×
/// annual rate × actual days ÷ 365, half-even) + the fees, penalties and interest of instalments
/// already due and unpaid. The interest of future instalments is rebated. The quote and the
/// repayment that closes the loan use this one function, so what is quoted is what closes it.
public enum Payoff {
    public struct Quote: Sendable, Equatable, Codable {
        public let principalMinor: Int64
        public let accruedInterestMinor: Int64
        public let dueChargesMinor: Int64
        public var totalMinor: Int64 { principalMinor + accruedInterestMinor + dueChargesMinor }

        public init(principalMinor: Int64, accruedInterestMinor: Int64, dueChargesMinor: Int64) {
            self.principalMinor = principalMinor
            self.accruedInterestMinor = accruedInterestMinor
            self.dueChargesMinor = dueChargesMinor
        }
    }

    /// `principalOutstanding`: every unpaid principal, due or not; `dueCharges`: the unpaid
    /// penalties, fees and interest of instalments already due; accrual from `lastDue` (the latest
    /// due date on or before `asOf`, or the disbursement day) to `asOf`.
    public static func quote(principalOutstandingMinor: Int64, dueChargesMinor: Int64, annualRateBps: Int, lastDue: Day, asOf: Day) -> Quote {
        let days = Int64(max(0, asOf.ordinal - lastDue.ordinal))
        let accrued = LoanRounding.halfEven(principalOutstandingMinor * Int64(annualRateBps) * days, over: 10_000 * 365)
        return Quote(principalMinor: principalOutstandingMinor, accruedInterestMinor: accrued, dueChargesMinor: dueChargesMinor)
    }

    /// The late penalty of an overdue instalment: fixed plus bps of its unpaid total, half-even,
    /// once it is more than `graceDays` past due.
    public static func penalty(overdueMinor: Int64, daysPastDue: Int, graceDays: Int, fixedMinor: Int64, bps: Int) -> Int64 {
        guard overdueMinor > 0, daysPastDue > graceDays else { return 0 }
        return fixedMinor + LoanRounding.halfEven(overdueMinor * Int64(bps), over: 10_000)
    }
}
