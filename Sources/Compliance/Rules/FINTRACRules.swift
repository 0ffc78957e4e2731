/// When an international electronic funds transfer must be reported to FINTRAC (an EFTR): a single
/// transfer of 10,000 CAD or more, or — the 24-hour rule — transfers by the same person within 24
/// consecutive hours, each under 10,000, that together reach it (reported together, once).
public enum EFTReporting {
    public static let thresholdMinor: Int64 = 1_000_000
    static let dayMs: Int64 = 86_400_000

    public enum Reason: String, Sendable, Codable { case single, twentyFourHourRule = "24-hour-rule" }

    public struct Decision: Sendable, Equatable {
        public let reason: Reason
        /// The transfers the report covers, oldest first.
        public let transferIDs: [String]
        public let totalMinor: Int64
    }

    /// Whether the new transfer makes a report due, given the same person's earlier international
    /// transfers and the ids already covered by a report (a transfer is reported once).
    public static func decide(_ transfer: TransferActivity, history: [TransferActivity], reported: Set<String>) -> Decision? {
        guard transfer.international, !reported.contains(transfer.id) else { return nil }
        if transfer.amountCADMinor >= thresholdMinor {
            return Decision(reason: .single, transferIDs: [transfer.id], totalMinor: transfer.amountCADMinor)
        }
        let window = history.filter {
            $0.international && $0.id != transfer.id && !reported.contains($0.id) && $0.amountCADMinor < thresholdMinor
                && $0.at > transfer.at - dayMs && $0.at <= transfer.at
        }
        let parts = (window + [transfer]).sorted { ($0.at, $0.id) < ($1.at, $1.id) }
        let total = parts.reduce(Int64(0)) { $0 + $1.amountCADMinor }
        guard parts.count >= 2, total >= thresholdMinor else { return nil }
        return Decision(reason: .twentyFourHourRule, transferIDs: parts.map(\.id), totalMinor: total)
    }

    /// The filing deadline: five working days after the day of the (last) transfer, Saturdays and
    /// Sundays not counted (statutory holidays are the filer's to add). Days since the epoch, UTC.
    public static func deadline(afterDay day: Int64) -> Int64 {
        var current = day
        var remaining = 5
        while remaining > 0 {
            current += 1
            // 1970-01-01 was a Thursday: day % 7 == 2 is a Saturday, 3 a Sunday.
            let weekday = ((current % 7) + 7) % 7
            if weekday != 2 && weekday != 3 { remaining -= 1 }
        }
        return current
    }
}

/// Used and remaining send amounts of a member under their tier's limits (DOMAIN.md: rolling 30 days,
/// optionally rolling 24 hours; every non-failed, non-refunded remittance counts, in CAD).
public struct KYCLimitUsage: Sendable, Equatable, Codable {
    public struct Window: Sendable, Equatable, Codable {
        /// nil: no limit.
        public let limitMinor: Int64?
        public let usedMinor: Int64
        public let remainingMinor: Int64?
    }

    public let tier: Int
    public let thirtyDays: Window
    public let twentyFourHours: Window

    /// `sends`: (time in ms, amount in CAD minor units) of the member's counting remittances.
    public init(tier: Int, monthlyLimitMinor: Int64?, dailyLimitMinor: Int64?, sends: [(at: Int64, amountMinor: Int64)], now: Int64) {
        self.tier = tier
        func window(_ limit: Int64?, _ span: Int64) -> Window {
            let used = sends.filter { $0.at > now - span && $0.at <= now }.reduce(Int64(0)) { $0 + $1.amountMinor }
            return Window(limitMinor: limit, usedMinor: used, remainingMinor: limit.map { max(0, $0 - used) })
        }
        thirtyDays = window(monthlyLimitMinor, 30 * 86_400_000)
        twentyFourHours = window(dailyLimitMinor, 86_400_000)
    }

    /// Whether a further send of `amountMinor` fits both windows.
    public func allows(_ amountMinor: Int64) -> Bool {
        [thirtyDays, twentyFourHours].allSatisfy { $0.remainingMinor.map { amountMinor <= $0 } ?? true }
    }
}
