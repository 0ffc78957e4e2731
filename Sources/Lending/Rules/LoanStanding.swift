import Foundation
import NzilaValues

/// An instalment of a disbursed loan as booked: what it asks for and what it has received.
public struct BookedInstalment: Sendable, Equatable {
    public let number: Int
    public let dueDate: Day
    public var principalMinor: Int64
    public var interestMinor: Int64
    public var feeMinor: Int64
    public var penaltyMinor: Int64
    public var principalPaidMinor: Int64
    public var interestPaidMinor: Int64
    public var feePaidMinor: Int64
    public var penaltyPaidMinor: Int64
    public var penaltyCharged: Bool
    /// The member was reminded that it falls due (`LoanStanding.reminders`).
    public var reminded: Bool

    public init(
        number: Int, dueDate: Day, principalMinor: Int64, interestMinor: Int64, feeMinor: Int64 = 0, penaltyMinor: Int64 = 0, principalPaidMinor: Int64 = 0,
        interestPaidMinor: Int64 = 0, feePaidMinor: Int64 = 0, penaltyPaidMinor: Int64 = 0, penaltyCharged: Bool = false, reminded: Bool = false
    ) {
        self.number = number
        self.dueDate = dueDate
        self.principalMinor = principalMinor
        self.interestMinor = interestMinor
        self.feeMinor = feeMinor
        self.penaltyMinor = penaltyMinor
        self.principalPaidMinor = principalPaidMinor
        self.interestPaidMinor = interestPaidMinor
        self.feePaidMinor = feePaidMinor
        self.penaltyPaidMinor = penaltyPaidMinor
        self.penaltyCharged = penaltyCharged
        self.reminded = reminded
    }

    public init(_ instalment: Instalment) {
        self.init(
            number: instalment.number, dueDate: instalment.dueDate, principalMinor: instalment.principalMinor, interestMinor: instalment.interestMinor,
            feeMinor: instalment.feeMinor)
    }

    /// What it still asks for.
    public var unpaid: Due {
        Due(
            penaltyMinor: penaltyMinor - penaltyPaidMinor, feeMinor: feeMinor - feePaidMinor, interestMinor: interestMinor - interestPaidMinor,
            principalMinor: principalMinor - principalPaidMinor)
    }

    public var isPaid: Bool { unpaid.totalMinor == 0 }
}

/// One instalment's share of a repayment.
public struct RepaymentPart: Sendable, Equatable, Codable {
    public let number: Int
    public let penaltyMinor: Int64
    public let feeMinor: Int64
    public let interestMinor: Int64
    public let principalMinor: Int64

    public init(number: Int, penaltyMinor: Int64 = 0, feeMinor: Int64 = 0, interestMinor: Int64 = 0, principalMinor: Int64 = 0) {
        self.number = number
        self.penaltyMinor = penaltyMinor
        self.feeMinor = feeMinor
        self.interestMinor = interestMinor
        self.principalMinor = principalMinor
    }

    public var totalMinor: Int64 { penaltyMinor + feeMinor + interestMinor + principalMinor }
}

/// Where a disbursed loan stands on a day: what is due, what has accrued, the payoff, how late it
/// is — and how a payment splits. One function for the quote and the allocation, so the payoff a
/// member is quoted is exactly what closes the loan.
///
/// - **Due**: every instalment whose due date is on or before `today` with anything unpaid.
/// - **Accrued**: the current period's interest (the first instalment not yet due): the unpaid
///   principal × annual rate × actual days since the last due date (or the disbursement) ÷ 365,
///   half-even (`Payoff.quote`), **capped at that instalment's scheduled interest** so paying early
///   never costs more than paying on the due date, less what it has already received.
/// - **Payoff** = unpaid principal + accrued + the due instalments' unpaid penalties, fees and
///   interest. The interest of later instalments is rebated.
/// - **Allocation**: due instalments oldest first, penalties → fees → interest → principal; then the
///   accrued interest; then future principal, oldest instalment first. More than the payoff is refused.
public struct LoanStanding: Sendable, Equatable {
    public let today: Day
    /// The due instalments' numbers with what they still ask for, oldest first.
    public let due: [(number: Int, unpaid: Due)]
    /// The instalment whose period runs today (nil once every due date has passed).
    public let current: Int?
    /// The current period's accrued interest not yet paid.
    public let accruedMinor: Int64
    /// The unpaid principal of instalments not yet due, oldest first.
    public let future: [(number: Int, principal: Int64)]
    public let quote: Payoff.Quote
    /// Days past due of the oldest unpaid instalment (0 when none), before the grace days.
    public let daysPastDue: Int
    public let bucket: DelinquencyBucket?

    public static func == (a: LoanStanding, b: LoanStanding) -> Bool {
        a.today == b.today && a.due.map(\.number) == b.due.map(\.number) && a.due.map(\.unpaid) == b.due.map(\.unpaid) && a.current == b.current
            && a.accruedMinor == b.accruedMinor && a.future.map(\.number) == b.future.map(\.number) && a.future.map(\.principal) == b.future.map(\.principal)
            && a.quote == b.quote && a.daysPastDue == b.daysPastDue && a.bucket == b.bucket
    }

    public static func of(_ book: [BookedInstalment], disbursedOn: Day, today: Day, annualRateBps: Int, graceDays: Int) -> LoanStanding {
        let sorted = book.sorted { $0.number < $1.number }
        let due = sorted.filter { $0.dueDate <= today && !$0.isPaid }.map { (number: $0.number, unpaid: $0.unpaid) }
        let current = sorted.first { $0.dueDate > today }
        let future = sorted.filter { $0.dueDate > today && $0.unpaid.principalMinor > 0 }.map { (number: $0.number, principal: $0.unpaid.principalMinor) }
        let principalOutstanding = sorted.reduce(0) { $0 + $1.unpaid.principalMinor }
        let dueCharges = due.reduce(0) { $0 + $1.unpaid.penaltyMinor + $1.unpaid.feeMinor + $1.unpaid.interestMinor }
        let lastDue = sorted.last { $0.dueDate <= today }?.dueDate ?? disbursedOn
        var accrued: Int64 = 0
        if let current {
            let raw = Payoff.quote(
                principalOutstandingMinor: principalOutstanding, dueChargesMinor: 0, annualRateBps: annualRateBps, lastDue: lastDue, asOf: today
            ).accruedInterestMinor
            accrued = max(0, min(raw, current.interestMinor) - current.interestPaidMinor)
        }
        let quote = Payoff.Quote(principalMinor: principalOutstanding, accruedInterestMinor: accrued, dueChargesMinor: dueCharges)
        let oldest = due.first.flatMap { first in sorted.first { $0.number == first.number }?.dueDate }
        return LoanStanding(
            today: today, due: due, current: current?.number, accruedMinor: accrued, future: future, quote: quote,
            daysPastDue: oldest.map { today.ordinal - $0.ordinal } ?? 0,
            bucket: DelinquencyBucket.of(oldestUnpaid: oldest, today: today, graceDays: graceDays))
    }

    /// How `amountMinor` splits over the instalments (one part per instalment touched, by number).
    /// Refused above the payoff; the parts sum to the amount.
    public func allocate(_ amountMinor: Int64) throws(RuleError) -> [RepaymentPart] {
        guard amountMinor <= quote.totalMinor else {
            throw RuleError(
                .unprocessable, "overpayment", "Overpayment",
                detail: "The payoff today is \(quote.totalMinor) minor units; \(amountMinor) is more. Pay the payoff to close the loan.")
        }
        let result = try Allocation.apply(
            amountMinor, due: due.map(\.unpaid) + [Due(interestMinor: accruedMinor)], futurePrincipalMinor: future.reduce(0) { $0 + $1.principal })
        var parts: [Int: (Int64, Int64, Int64, Int64)] = [:]
        func add(_ number: Int, penalty: Int64 = 0, fee: Int64 = 0, interest: Int64 = 0, principal: Int64 = 0) {
            let old = parts[number] ?? (0, 0, 0, 0)
            parts[number] = (old.0 + penalty, old.1 + fee, old.2 + interest, old.3 + principal)
        }
        for (entry, applied) in zip(due, result.applied) {
            add(entry.number, penalty: applied.penaltyMinor, fee: applied.feeMinor, interest: applied.interestMinor, principal: applied.principalMinor)
        }
        if let current, let accruedPaid = result.applied.last?.interestMinor, accruedPaid > 0 { add(current, interest: accruedPaid) }
        var ahead = result.futurePrincipalMinor
        for entry in future where ahead > 0 {
            let part = min(ahead, entry.principal)
            add(entry.number, principal: part)
            ahead -= part
        }
        return parts.keys.sorted().compactMap { number in
            let p = parts[number]!
            let part = RepaymentPart(number: number, penaltyMinor: p.0, feeMinor: p.1, interestMinor: p.2, principalMinor: p.3)
            return part.totalMinor > 0 ? part : nil
        }
    }

    /// The late penalties to charge today: once per instalment, when it is more than `graceDays` past
    /// due with principal, interest or fees unpaid — fixed plus bps of that unpaid amount, half-even.
    public static func penalties(_ book: [BookedInstalment], today: Day, graceDays: Int, fixedMinor: Int64, bps: Int) -> [(number: Int, penalty: Int64)] {
        book.sorted { $0.number < $1.number }.compactMap { instalment in
            guard !instalment.penaltyCharged else { return nil }
            let unpaid = instalment.unpaid
            let overdue = unpaid.principalMinor + unpaid.interestMinor + unpaid.feeMinor
            let penalty = Payoff.penalty(
                overdueMinor: overdue, daysPastDue: today.ordinal - instalment.dueDate.ordinal, graceDays: graceDays, fixedMinor: fixedMinor, bps: bps)
            return penalty > 0 ? (instalment.number, penalty) : nil
        }
    }

    /// The book with today's penalties charged (see `penalties`), and what was charged.
    public static func charging(_ book: [BookedInstalment], today: Day, graceDays: Int, fixedMinor: Int64, bps: Int)
        -> (book: [BookedInstalment], charged: [(number: Int, penalty: Int64)])
    {
        let charged = penalties(book, today: today, graceDays: graceDays, fixedMinor: fixedMinor, bps: bps)
        var result = book
        for (number, penalty) in charged {
            guard let index = result.firstIndex(where: { $0.number == number }) else { continue }
            result[index].penaltyMinor += penalty
            result[index].penaltyCharged = true
        }
        return (result, charged)
    }

    /// The next day after `today` something may change by itself: an unpaid instalment's reminder
    /// is due (the day before its due day), it falls due (autopay, accrual), its grace ends (penalty,
    /// delinquency) or the delinquency reaches its next bucket; and, while anything is overdue under
    /// autopay, tomorrow (autopay tries again). Nil when nothing is left to pay.
    public static func nextActionDay(_ book: [BookedInstalment], today: Day, graceDays: Int, autopay: Bool) -> Day? {
        let unpaid = book.filter { !$0.isPaid }.sorted { $0.number < $1.number }
        guard !unpaid.isEmpty else { return nil }
        var candidates: [Int] = []
        for instalment in unpaid {
            if !instalment.reminded { candidates.append(instalment.dueDate.ordinal - 1) }
            candidates.append(instalment.dueDate.ordinal)
            if !instalment.penaltyCharged { candidates.append(instalment.dueDate.ordinal + graceDays + 1) }
        }
        if let oldest = unpaid.first {
            for edge in [1, 31, 61, 91] { candidates.append(oldest.dueDate.ordinal + graceDays + edge) }
            if autopay, oldest.dueDate <= today { candidates.append(today.ordinal + 1) }
        }
        return candidates.filter { $0 > today.ordinal }.min().flatMap { Day(ordinal: $0) }
    }

    /// The instalments to remind the member of today: unpaid, not reminded yet, and due tomorrow —
    /// or today, when the scheduler could not send the reminder the day before (never after the
    /// due day: by then the overdue notice speaks). Autopay borrowers are reminded too, so the
    /// money is in the account when the autopay runs.
    public static func reminders(_ book: [BookedInstalment], today: Day) -> [BookedInstalment] {
        book.filter { !$0.isPaid && !$0.reminded && ($0.dueDate.ordinal == today.ordinal || $0.dueDate.ordinal == today.ordinal + 1) }
            .sorted { $0.number < $1.number }
    }

    /// The first look at a loan just disbursed on `today`: the day before its first instalment
    /// falls due (its reminder), or today when that day has already come.
    public static func firstLook(_ schedule: [Instalment], today: Day) -> Day? {
        guard let first = schedule.map(\.dueDate).min() else { return nil }
        return Day(ordinal: max(today.ordinal, first.ordinal - 1))
    }
}
