import Foundation
import NzilaValues

/// A new circle as its creator asked for it, every field checked at once.
public struct CirclePlan: Sendable, Equatable {
    public let name: String
    public let contribution: Money
    public let frequency: Frequency
    public let maxMembers: Int
    public let order: Rotation.Order
    public let graceDays: Int
    public let firstDueDate: Day
    public let earlyFeeBps: Int

    /// The largest contribution a circle may ask for: 1 million major units.
    public static func maxContributionMinor(_ currency: Currency) -> Int64 {
        var value: Int64 = 1_000_000
        for _ in 0..<currency.exponent { value *= 10 }
        return value
    }

    /// How far ahead a circle's first due date may be.
    public static let maxLeadDays = 366

    /// `today`: the business day the circle is created on; the first due date may not be before it.
    public static func check(
        name: String?, amountMinor: Int64?, currency: String?, frequency: String?, maxMembers: Int?, order: String?, graceDays: Int?,
        firstDueDate: String?, earlyFeeBps: Int?, today: Day
    ) throws(RuleError) -> CirclePlan {
        var errors: [FieldError] = []
        func fail(_ field: String, _ message: String) { errors.append(FieldError(field: field, message: message)) }
        let trimmed = name?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        // Counted as PostgreSQL's length() counts (code points), so the column's CHECK never disagrees.
        if !(1...100).contains(trimmed.unicodeScalars.count) { fail("name", "must be 1 to 100 characters") }
        let money = currency.flatMap(Currency.init(code:))
        if money == nil { fail("contribution.currency", "must be a supported currency code") }
        if let money {
            if let amountMinor, amountMinor > 0, amountMinor <= maxContributionMinor(money) {} else {
                fail("contribution.amount", "must be a positive integer of minor units, at most \(maxContributionMinor(money))")
            }
        } else if amountMinor == nil || amountMinor! <= 0 {
            fail("contribution.amount", "must be a positive integer of minor units")
        }
        let cadence = frequency.flatMap(Frequency.init(rawValue:))
        if cadence == nil { fail("frequency", "must be weekly, biweekly or monthly") }
        if !(2...50).contains(maxMembers ?? 0) { fail("max_members", "must be between 2 and 50") }
        let rotation = (order ?? "join").isEmpty ? nil : Rotation.Order(rawValue: order ?? "join")
        if rotation == nil { fail("order", "must be join or random") }
        if !(0...14).contains(graceDays ?? 0) { fail("grace_days", "must be between 0 and 14") }
        let first = firstDueDate.flatMap(Day.init)
        if first == nil {
            fail("first_due_date", "must be a date, YYYY-MM-DD")
        } else if let first, first < today {
            fail("first_due_date", "must not be before today (\(today))")
        } else if let first, first > today.adding(days: maxLeadDays) ?? today {
            fail("first_due_date", "must be within \(maxLeadDays) days of today")
        }
        if !(0...PositionPricing.maxFeeBps).contains(earlyFeeBps ?? 0) { fail("early_fee_bps", "must be between 0 and \(PositionPricing.maxFeeBps)") }
        guard errors.isEmpty, let money, let amountMinor, let cadence, let maxMembers, let rotation, let first else { throw RuleError.invalid(errors) }
        return CirclePlan(
            name: trimmed, contribution: Money(minorUnits: amountMinor, currency: money), frequency: cadence, maxMembers: maxMembers, order: rotation,
            graceDays: graceDays ?? 0, firstDueDate: first, earlyFeeBps: earlyFeeBps ?? 0)
    }
}

/// Why a circle refuses an action, each with a stable problem type.
public enum CircleRefusal: DomainError, Equatable, Sendable {
    case full(max: Int)
    case alreadyMember
    case tooFewMembers(Int)
    case firstDueDatePassed(Day)
    case notOrganizer
    case accountUnfit(field: String, String)
    case cycleNotFound(Int)
    case cycleClosed(Int, CycleStatus)
    case alreadyContributed(Int)
    case notAMember

    public var ruleError: RuleError {
        switch self {
        case .full(let max): RuleError(.conflict, "tontine-full", "Circle full", detail: "The circle already has its \(max) members.")
        case .alreadyMember: RuleError(.conflict, "already-member", "Already a member", detail: "The member already holds a position in this circle.")
        case .tooFewMembers(let count):
            RuleError(.conflict, "too-few-members", "Too few members", detail: "A circle starts with at least 2 members; it has \(count).")
        case .firstDueDatePassed(let day):
            RuleError(.conflict, "first-due-date-passed", "First due date passed",
                      detail: "The first due date \(day) has passed; dissolve this circle and create one with a later date.")
        case .notOrganizer: RuleError.forbidden("Only the circle's organizer or staff may do this.")
        case .accountUnfit(let field, let why): RuleError.invalid(field: field, why)
        case .cycleNotFound(let cycle): RuleError(.notFound, "cycle-not-found", "Cycle not found", detail: "The circle has no cycle \(cycle).")
        case .cycleClosed(let cycle, let status):
            RuleError(.conflict, "cycle-closed", "Cycle closed", detail: "Cycle \(cycle) is \(status.rawValue); it takes no contribution.")
        case .alreadyContributed(let cycle):
            RuleError(.conflict, "already-contributed", "Already contributed", detail: "The member's contribution to cycle \(cycle) is already in.")
        case .notAMember: RuleError(.notFound, "tontine-not-found", "Tontine not found", detail: "The member holds no position in this circle.")
        }
    }
}
