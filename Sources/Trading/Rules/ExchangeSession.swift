import Foundation

/// An exchange's regular session: continuous trading from `open` to `close` (minutes after local
/// midnight) on weekdays, in the exchange's own time zone (an IANA name, so daylight saving moves
/// New York and Toronto and not Lagos). Orders placed outside it wait for the next open; a day
/// order expires at the close of the session it was placed in, or of the next one when it was
/// placed while the market was shut. Public holidays are not modelled: the simulator trades every
/// weekday (documented in docs/TRADING.md).
public struct ExchangeSession: Sendable, Hashable {
    public let timeZone: TimeZone
    public let open: Int
    public let close: Int

    /// Nil for an unknown zone or a session that does not open before it closes.
    public init?(timeZone identifier: String, open: Int, close: Int) {
        guard let zone = TimeZone(identifier: identifier), (0..<1_440).contains(open), (1...1_440).contains(close), open < close else { return nil }
        self.timeZone = zone
        self.open = open
        self.close = close
    }

    var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    /// Monday to Friday in the exchange's zone.
    func isTradingDay(_ date: Date) -> Bool {
        let weekday = calendar.component(.weekday, from: date)
        return weekday != 1 && weekday != 7
    }

    /// The local day's session, as instants (open, close), for the day `date` falls on locally.
    func sessionOf(day date: Date) -> (open: Date, close: Date)? {
        let calendar = calendar
        let midnight = calendar.startOfDay(for: date)
        guard let open = calendar.date(byAdding: .minute, value: open, to: midnight), let close = calendar.date(byAdding: .minute, value: close, to: midnight) else {
            return nil
        }
        return (open, close)
    }

    /// Whether continuous trading is on at `now`.
    public func isOpen(at now: Date) -> Bool {
        guard isTradingDay(now), let today = sessionOf(day: now) else { return false }
        return now >= today.open && now < today.close
    }

    /// The session in progress at `now`, or the next one: its open and close.
    public func currentOrNext(at now: Date) -> (open: Date, close: Date) {
        var day = now
        for _ in 0..<10 {
            if isTradingDay(day), let session = sessionOf(day: day), now < session.close { return session }
            guard let next = calendar.date(byAdding: .day, value: 1, to: calendar.startOfDay(for: day)) else { break }
            day = next
        }
        // Unreachable with at most two weekend days in a row.
        return (now, now)
    }

    /// When a day order placed at `placed` expires: the close of the session in progress, or of
    /// the next one.
    public func dayOrderExpiry(placedAt placed: Date) -> Date { currentOrNext(at: placed).close }

    /// The exchange's local calendar day of `date`, as "YYYY-MM-DD" (the day a session's bars and
    /// price band belong to).
    public func localDay(_ date: Date) -> String {
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }
}
