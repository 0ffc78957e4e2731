import NzilaValues

/// Where a cycle stands: `open` from the circle's start (contributions come in; the scheduler acts on
/// its due day and at the end of its grace), `paid` once the pool has paid its recipient, `short` when
/// grace ended with contributions missing and no guarantee (it waits for them), `cancelled` when the
/// circle is dissolved before it was paid.
public enum CycleStatus: String, Sendable, Codable, CaseIterable {
    case open, short, paid, cancelled

    public var next: Set<CycleStatus> {
        switch self {
        case .open: return [.paid, .short, .cancelled]
        case .short: return [.paid, .cancelled]
        case .paid, .cancelled: return []
        }
    }

    /// Money may still come in.
    public var takesContributions: Bool { self == .open || self == .short }

    public enum Refusal: DomainError, Equatable, Sendable {
        case illegal(from: CycleStatus, to: CycleStatus)

        public var ruleError: RuleError {
            switch self {
            case .illegal(let from, _): RuleError.invalidTransition("cycle", current: from.rawValue)
            }
        }
    }

    public func transition(to target: CycleStatus) -> Result<CycleStatus, Refusal> {
        next.contains(target) ? .success(target) : .failure(.illegal(from: self, to: target))
    }
}

/// When the scheduler acts on a cycle, in the tenant's business day (UTC: the platform has no
/// tenant time zone yet). At the **start of the day before** it reminds every member whose
/// contribution is not in (`tontine.contribution_due.v1`, once per cycle). At the **start of the due day** it debits every autopay member who has
/// not paid; an autopay refused for funds is **retried once at 23:00** that day (an hour before the
/// day ends, so the retry is still on time); at the **end of grace** (the start of the day after
/// due + grace days) every contribution still missing is advanced by the guarantee or the cycle goes
/// short. A cycle whose contributions are all in is paid at once, but never before its due day, so
/// the rotation's order holds even when everyone pays early.
public enum CycleClock {
    public enum Phase: Equatable, Sendable {
        /// The start of the due day: autopay, then pay if complete.
        case dueDay
        /// The end-of-day retry of autopays refused for funds.
        case autopayRetry
        /// Grace is over: advance or go short, then pay.
        case endOfGrace
    }

    /// Seconds from midnight to the autopay retry.
    public static let retrySecondOfDay = 23 * 3600

    /// Midnight UTC of a day, as seconds since 1970.
    public static func startOfDay(_ day: Day) -> Int64 { Int64(day.ordinal) * 86_400 }

    /// The business day a time (seconds since 1970) falls in.
    public static func day(at seconds: Int64) -> Day? {
        Day(ordinal: Int((seconds >= 0 ? seconds : seconds - 86_399) / 86_400))
    }

    /// When each phase of a cycle due on `due` happens, in order.
    public static func times(due: Day, graceDays: Int) -> [(phase: Phase, at: Int64)] {
        let start = startOfDay(due)
        return [(.dueDay, start), (.autopayRetry, start + Int64(retrySecondOfDay)), (.endOfGrace, start + Int64(graceDays + 1) * 86_400)]
    }

    /// The phase after `done` phases (0: none yet), and when, or nil when all are done.
    public static func next(afterPhases done: Int, due: Day, graceDays: Int) -> (phase: Phase, at: Int64)? {
        let all = times(due: due, graceDays: graceDays)
        return done < all.count ? all[done] : nil
    }

    /// Whether a contribution made at `seconds` is late: after its due day (paid on it is on time).
    public static func isLate(at seconds: Int64, due: Day) -> Bool {
        guard let today = day(at: seconds) else { return true }
        return Arrears.isLate(paidOn: today, due: due)
    }

    /// Whether the due day has come (a complete cycle may be paid).
    public static func isDue(at seconds: Int64, due: Day) -> Bool { seconds >= startOfDay(due) }

    /// When the members whose money is not in are reminded of a cycle due on `due`: the start of
    /// the day before.
    public static func reminderAt(due: Day) -> Int64 { startOfDay(due) - 86_400 }

    /// Whether a reminder still makes sense at `seconds`: from the day before until the due day
    /// ends (one the scheduler could not send the day before still goes on the due day; after it,
    /// the end of grace speaks instead).
    public static func reminds(at seconds: Int64, due: Day) -> Bool {
        seconds >= reminderAt(due: due) && seconds < startOfDay(due) + 86_400
    }

    /// When the scheduler next looks at a cycle with `done` phases done: its next phase, or its
    /// reminder when that comes first and has not been sent; nil when every phase is done.
    public static func nextLook(afterPhases done: Int, reminded: Bool, due: Day, graceDays: Int) -> Int64? {
        next(afterPhases: done, due: due, graceDays: graceDays).map { reminded ? $0.at : min($0.at, reminderAt(due: due)) }
    }
}
