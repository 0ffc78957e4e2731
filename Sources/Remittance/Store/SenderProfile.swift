import Compliance
import Foundation
import NzilaCore
import NzilaDatabase
import PostgresNIO

/// What compliance needs to know about a sender before an order: their tier and its limits, the
/// tenant's thresholds, the devices they have sent from, and their remittances of the last 30 days
/// that count (DOMAIN.md: every non-failed, non-refunded one; cancelled and rejected ones neither), and their
/// newest AML risk rating.
public struct SenderProfile: Sendable {
    public let memberID: UUID
    public let fullName: String
    public let status: MemberStatus
    public let tier: Int
    public let limits: KYCLimits
    public let settings: ComplianceSettings
    public let history: [TransferActivity]
    public let knownDevices: Set<String>
    /// The newest AML risk rating (low when the member has none yet).
    public let risk: CustomerRisk.Level
    /// Each `history` order's recipient (`recipientKey`), in the same order.
    public let recipients: [String?]
    /// Everyone the member has ever sent to (any order, any age): who is a new recipient.
    public let everRecipients: Set<String>

    /// The fraud model's features for `transfer` to `recipient`, from this history.
    public func fraudFeatures(_ transfer: TransferActivity, recipient: String) -> [Double] {
        FraudFeatures.make(
            transfer, recipient: recipient, history: Array(zip(history, recipients)).map { (activity: $0.0, recipient: $0.1) }, knownDevices: knownDevices,
            knownRecipients: everRecipients)
    }

    /// Used and remaining amounts under the tier's limits at `now`.
    public func usage(at now: Date) -> KYCLimitUsage {
        KYCLimitUsage(
            tier: tier, monthlyLimitMinor: limits.monthlyMinor, dailyLimitMinor: limits.dailyMinor,
            sends: history.map { (at: $0.at, amountMinor: $0.amountCADMinor) }, now: now.epochMilliseconds)
    }

    /// Who an order went to, as the fraud model tells recipients apart: the name as written and the country, read
    /// raw here and keyed in Swift (`recipientKey`), so an old order and a new one are keyed alike.
    static let recipientKeySQL = "coalesce(r.recipient->>'name', '') || '|' || coalesce(r.recipient->>'country', '')"

    public static func recipientKey(name: String, country: String) -> String { "\(name.lowercased())|\(country)" }

    static func recipientKey(raw: String) -> String {
        guard let bar = raw.lastIndex(of: "|") else { return raw.lowercased() }
        return recipientKey(name: String(raw[..<bar]), country: String(raw[raw.index(after: bar)...]))
    }

    /// States whose orders count against limits and AML rules.
    static let notCounting = ["failed", "refunded", "cancelled", "rejected"]

    /// One statement; `lock` takes the member's row lock, so two orders of one member are decided one
    /// after the other and cannot both pass a limit that only one fits.
    public static func load(_ db: TenantDB, member: UUID, now: Date, lock: Bool) async throws -> SenderProfile? {
        let since = now.addingTimeInterval(-30 * 86_400)
        guard let row = try await db.query(
            """
            SELECT m.full_name, m.status, m.kyc_tier::int,
                   (SELECT value::text FROM tenant_config WHERE key = 'kyc_limits'),
                   (SELECT value::text FROM tenant_config WHERE key = 'compliance'),
                   ARRAY(SELECT device_id FROM member_devices d WHERE d.member_id = m.id),
                   coalesce(h.ids, '{}'), coalesce(h.ats, '{}'), coalesce(h.amounts, '{}'), coalesce(h.recipients, '{}'),
                   (SELECT x.level FROM member_risk_ratings x WHERE x.member_id = m.id ORDER BY x.computed_at DESC, x.id DESC LIMIT 1),
                   ARRAY(SELECT DISTINCT \(unescaped: recipientKeySQL) FROM remittances r WHERE r.member_id = m.id)
            FROM members m
            LEFT JOIN LATERAL (
                SELECT array_agg(r.id ORDER BY r.created_at) AS ids,
                       array_agg((extract(epoch FROM r.created_at) * 1000)::int8 ORDER BY r.created_at) AS ats,
                       array_agg(r.send_minor ORDER BY r.created_at) AS amounts,
                       array_agg(\(unescaped: recipientKeySQL) ORDER BY r.created_at) AS recipients
                FROM remittances r WHERE r.member_id = m.id AND r.created_at > \(since) AND r.state <> ALL(\(notCounting))) h ON true
            WHERE m.id = \(member) \(unescaped: lock ? "FOR UPDATE OF m" : "")
            """
        ).first((String, String, Int, String?, String?, [String], [UUID], [Int64], [Int64], [String], String?, [String]).self) else { return nil }
        let history = zip(row.6, zip(row.7, row.8)).map { TransferActivity(id: $0.0.lowercased, at: $0.1.0, amountCADMinor: $0.1.1) }
        let recipients = row.9.count == history.count ? row.9 : []
        return SenderProfile(
            memberID: member, fullName: row.0, status: try .stored(row.1), tier: row.2, limits: KYCLimits.from(db.read(KYCLimitsSection.self, from: row.3), tier: row.2),
            settings: ComplianceSettings(db.read(ComplianceSection.self, from: row.4)), history: history, knownDevices: Set(row.5),
            risk: try row.10.map { try CustomerRisk.Level.stored($0) } ?? .low,
            recipients: recipients.isEmpty ? history.map { _ in nil } : recipients.map { Optional(recipientKey(raw: $0)) },
            everRecipients: Set(row.11.map(recipientKey(raw:))))
    }
}

extension Date {
    /// Milliseconds since 1970, as the compliance rules count time.
    public var epochMilliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }
}
