import Foundation

/// How often something falls due: a tontine's cycles, a loan's instalments.
public enum Frequency: String, Sendable, Codable, CaseIterable {
    case weekly, biweekly, monthly

    /// Periods in a year, to turn an annual rate into a periodic one and back: 52, 26, 12.
    public var periodsPerYear: Int {
        switch self {
        case .weekly: return 52
        case .biweekly: return 26
        case .monthly: return 12
        }
    }
}

/// A calendar day (no time, no zone): due dates are days, and schedulers act at the start of a due
/// day in the tenant's business time. Integer arithmetic on the proleptic Gregorian
/// calendar, so no `Calendar` or time zone can shift a date.
public struct Day: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    public let year: Int
    public let month: Int
    public let day: Int

    /// A real date (2027-02-30 is not one), between the years 1900 and 2200.
    public init?(year: Int, month: Int, day: Int) {
        guard (1900...2200).contains(year), (1...12).contains(month), (1...Day.length(of: month, in: year)).contains(day) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// `YYYY-MM-DD`, exactly.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.utf8.count == 10, parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2])
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    public var description: String {
        String(format: "%04d-%02d-%02d", year, month, day)
    }

    public static func isLeap(_ year: Int) -> Bool { (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 }

    public static func length(of month: Int, in year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 (negative before it): Howard Hinnant's `days_from_civil`.
    public var ordinal: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The day `ordinal` days after 1970-01-01 (`civil_from_days`).
    public init?(ordinal: Int) {
        let z = ordinal + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        self.init(year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month: month, day: day)
    }

    public func adding(days: Int) -> Day? { Day(ordinal: ordinal + days) }

    public static func < (lhs: Day, rhs: Day) -> Bool { lhs.ordinal < rhs.ordinal }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let day = Day(text) else { throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a YYYY-MM-DD date")) }
        self = day
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// When each of a series of periodic payments falls due.
public enum Schedule {
    /// Payment `cycle` (1…n) falls due `cycle − 1` periods after the first due date. Monthly keeps the
    /// first due date's day of the month, clamped to the month's last day (first due on 31 January:
    /// 28 or 29 February, then 31 March). Nil past the calendar's range.
    public static func dueDate(cycle: Int, first: Day, frequency: Frequency) -> Day? {
        guard cycle >= 1 else { return nil }
        let periods = cycle - 1
        switch frequency {
        case .weekly: return first.adding(days: 7 * periods)
        case .biweekly: return first.adding(days: 14 * periods)
        case .monthly:
            let months = first.month - 1 + periods
            let year = first.year + months / 12
            let month = months % 12 + 1
            guard (1900...2200).contains(year) else { return nil }
            return Day(year: year, month: month, day: min(first.day, Day.length(of: month, in: year)))
        }
    }

    /// Every cycle's due date, in order.
    public static func dueDates(cycles: Int, first: Day, frequency: Frequency) -> [Day] {
        guard cycles >= 1 else { return [] }
        return (1...cycles).compactMap { dueDate(cycle: $0, first: first, frequency: frequency) }
    }
}

extension Day: SchemaPlaceholder {
    public static var schemaPlaceholder: Day { Day(year: 2027, month: 1, day: 1)! }
}

extension Day {
    /// The UTC calendar day of an instant (business days are UTC days; see DESIGN.md).
    public init?(utc instant: Date) {
        let seconds = Int64(instant.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        self.init(ordinal: Int(days))
    }

    /// Midnight UTC at the start of the day.
    public var startUTC: Date { Date(timeIntervalSince1970: TimeInterval(Int64(ordinal) * 86_400)) }
}
