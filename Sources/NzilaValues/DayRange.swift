/// Whole days from a query's `from` and `to` (YYYY-MM-DD, both included), as the reporting routes
/// take them: `from` defaults to `defaultFrom`, `to` to `from` plus `defaultSpan` days; a real day
/// each, `from` ≤ `to`, at most `maxDays` days.
public struct DayRange: Sendable, Equatable {
    public let from: Day
    public let to: Day

    public init(from: Day, to: Day) {
        self.from = from
        self.to = to
    }

    public var days: Int { to.ordinal - from.ordinal + 1 }

    public static func parse(from rawFrom: String?, to rawTo: String?, defaultFrom: Day, defaultSpan: Int = 0, maxDays: Int) throws(RuleError) -> DayRange {
        var errors: [FieldError] = []
        let from = rawFrom.map { Day($0) } ?? defaultFrom
        if from == nil { errors.append(FieldError(field: "from", message: "must be a day (YYYY-MM-DD)")) }
        let to = rawTo.map { Day($0) } ?? from?.adding(days: defaultSpan)
        if rawTo != nil, to == nil { errors.append(FieldError(field: "to", message: "must be a day (YYYY-MM-DD)")) }
        guard errors.isEmpty, let from, let to else { throw RuleError.invalid(errors) }
        guard from <= to else { throw RuleError.invalid(field: "to", "must be on or after from") }
        guard to.ordinal - from.ordinal < maxDays else { throw RuleError.invalid(field: "to", "must span at most \(maxDays) days") }
        return DayRange(from: from, to: to)
    }

    /// The UTC day of a platform time; a clock outside the years `Day` holds (1900 to 2200) is refused, not trusted.
    public static func day(of seconds: Double) throws(RuleError) -> Day {
        guard seconds.isFinite, let day = Day(ordinal: Int((seconds / 86_400).rounded(.down))) else {
            throw RuleError(.unprocessable, "clock-out-of-range", "Clock out of range", detail: "The platform clock is outside the years 1900 to 2200.")
        }
        return day
    }
}
