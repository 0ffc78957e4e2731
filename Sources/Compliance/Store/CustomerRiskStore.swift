import Foundation
import NzilaCore
import NzilaDatabase
import PostgresNIO

/// What the member declared or staff recorded for the risk rating (Migrations/tenant/0039).
public struct MemberRiskProfile: Codable, Sendable, Equatable {
    public let occupation: String?
    public let residenceCountry: String?
    public let expectedMonthlyMinor: Int64?
    public let pep: String
    public let pepAssociate: Bool
    public let updatedBy: String?
    public let updatedRole: String?
    public let updatedAt: Date?
}

/// A rating as computed and kept: its level, score and reasons, what prompted it, and when.
public struct MemberRiskRating: Codable, Sendable, Equatable {
    public let id: String
    public let level: CustomerRisk.Level
    public let score: Int
    public let reasons: [CustomerRisk.Reason]
    public let because: String
    public let computedAt: Date
}

/// Each member's risk profile and ratings. `refresh` gathers every factor in one statement (the profile, the last
/// 30 days' sends and 180 days' recipient countries, the screenings, the tenant's lists and the newest rating), rates
/// the member and keeps a new rating only when it differs from the newest: two round trips when it changed, one when not.
/// Compliance reads the remittances' amounts and countries itself: the AML obligation spans the domains that move money.
/// A screening staff cleared (a screening case of the member released after it) no longer counts; the same name
/// resembling an entry again at every order counts once. Screenings are stamped by the database (0005), so their
/// one-year window is a storage window compared with the stamp, not a business decision.
public struct CustomerRiskStore {
    let db: TenantDB

    public init(_ db: TenantDB) { self.db = db }

    /// States whose orders count (as `SenderProfile`'s: every non-failed, non-refunded one).
    static let notCounting = ["failed", "refunded", "cancelled", "rejected"]

    public func profile(of member: UUID) async throws -> MemberRiskProfile? {
        try await db.query(
            """
            SELECT p.occupation, p.residence_country, p.expected_monthly_minor, coalesce(p.pep, 'none'), coalesce(p.pep_associate, false),
                   p.updated_by, p.updated_role, p.updated_at
            FROM members m LEFT JOIN member_risk_profiles p ON p.member_id = m.id WHERE m.id = \(member)
            """
        ).first((String?, String?, Int64?, String, Bool, UUID?, String?, Date?).self).map {
            MemberRiskProfile(
                occupation: $0.0, residenceCountry: $0.1, expectedMonthlyMinor: $0.2, pep: $0.3, pepAssociate: $0.4, updatedBy: $0.5?.lowercased,
                updatedRole: $0.6, updatedAt: $0.7)
        }
    }

    public func saveProfile(
        member: UUID, occupation: String?, residenceCountry: String?, expectedMonthlyMinor: Int64?, pep: CustomerRisk.PEP, pepAssociate: Bool,
        by actor: ChangeActor
    ) async throws {
        try await db.query(
            """
            INSERT INTO member_risk_profiles (member_id, occupation, residence_country, expected_monthly_minor, pep, pep_associate, updated_by, updated_role, updated_at)
            VALUES (\(member), \(occupation), \(residenceCountry), \(expectedMonthlyMinor), \(pep.rawValue), \(pepAssociate), \(actor.id), \(actor.role), \(db.now))
            ON CONFLICT (member_id) DO UPDATE SET occupation = EXCLUDED.occupation, residence_country = EXCLUDED.residence_country,
                expected_monthly_minor = EXCLUDED.expected_monthly_minor, pep = EXCLUDED.pep, pep_associate = EXCLUDED.pep_associate,
                updated_by = EXCLUDED.updated_by, updated_role = EXCLUDED.updated_role, updated_at = EXCLUDED.updated_at
            """)
    }

    /// The member's ratings, newest first.
    public func ratings(of member: UUID, limit: Int = 50) async throws -> [MemberRiskRating] {
        try await db.query(
            """
            SELECT id, level, score, reasons::text, because, computed_at FROM member_risk_ratings
            WHERE member_id = \(member) ORDER BY computed_at DESC, id DESC LIMIT \(limit)
            """
        ).all((UUID, String, Int, String, String, Date).self).map(Self.rating)
    }

    static func rating(_ row: (UUID, String, Int, String, String, Date)) throws -> MemberRiskRating {
        let level = try CustomerRisk.Level.stored(row.1)
        let reasons = try JSONDecoder().decode([CustomerRisk.Reason].self, from: Data(row.3.utf8))
        return MemberRiskRating(id: row.0.lowercased, level: level, score: row.2, reasons: reasons, because: row.4, computedAt: row.5)
    }

    /// Rates the member now (`because` says what changed) and keeps the rating if it differs from the newest; the
    /// member's current rating, or nil for an unknown member.
    @discardableResult
    public func refresh(member: UUID, because: String) async throws -> MemberRiskRating? {
        let now = db.now
        guard let row = try await db.query(
            """
            SELECT p.occupation, p.residence_country, p.expected_monthly_minor, coalesce(p.pep, 'none'), coalesce(p.pep_associate, false),
                   (SELECT coalesce(sum(r.send_minor), 0)::int8 FROM remittances r
                     WHERE r.member_id = m.id AND r.created_at > \(now.addingTimeInterval(-30 * 86_400)) AND r.state <> ALL(\(Self.notCounting))),
                   ARRAY(SELECT coalesce(r.recipient->>'country', '') FROM remittances r
                     WHERE r.member_id = m.id AND r.created_at > \(now.addingTimeInterval(-180 * 86_400)) AND r.state <> ALL(\(Self.notCounting))),
                   (SELECT count(DISTINCT s.normalized_name)::int FROM screenings s
                     WHERE s.member_id = m.id AND s.decision = 'review' AND s.created_at > \(now.addingTimeInterval(-365 * 86_400))
                       AND NOT EXISTS (SELECT 1 FROM compliance_cases c WHERE c.member_id = m.id AND c.kind = 'screening'
                                       AND c.status = 'released' AND c.decided_at >= s.created_at)),
                   coalesce((SELECT s.decision <> 'clear' AND s.result->'candidates' @> '[{"source": "pep"}]'::jsonb FROM screenings s
                     WHERE s.member_id = m.id
                       AND NOT EXISTS (SELECT 1 FROM compliance_cases c WHERE c.member_id = m.id AND c.kind = 'screening'
                                       AND c.status = 'released' AND c.decided_at >= s.created_at)
                     ORDER BY s.created_at DESC, s.id DESC LIMIT 1), false),
                   (SELECT value::text FROM tenant_config WHERE key = 'compliance'),
                   x.id, x.level, x.score, x.reasons::text, x.because, x.computed_at
            FROM members m
            LEFT JOIN member_risk_profiles p ON p.member_id = m.id
            LEFT JOIN LATERAL (SELECT * FROM member_risk_ratings x WHERE x.member_id = m.id ORDER BY x.computed_at DESC, x.id DESC LIMIT 1) x ON true
            WHERE m.id = \(member)
            """
        ).first((String?, String?, Int64?, String, Bool, Int64, [String], Int, Bool, String?, UUID?, String?, Int?, String?, String?, Date?).self)
        else { return nil }
        let factors = CustomerRisk.Factors(
            pep: CustomerRisk.PEP(rawValue: row.3) ?? .none, pepAssociate: row.4, pepListMatch: row.8, residenceCountry: row.1, occupation: row.0,
            expectedMonthlyMinor: row.2, sentLast30DaysMinor: row.5, recipientCountries: row.6.filter { !$0.isEmpty }, screeningReviews: row.7)
        let policy = ComplianceSettings(db.read(ComplianceSection.self, from: row.9)).risk
        let rated = CustomerRisk.rate(factors, policy: policy)
        if let id = row.10, let level = row.11, let score = row.12, let reasons = row.13, let previous = row.14, let at = row.15 {
            let newest = try Self.rating((id, level, score, reasons, previous, at))
            if newest.level == rated.level && newest.score == rated.score && newest.reasons == rated.reasons { return newest }
        }
        let id = UUID()
        let encoded = String(decoding: try JSONEncoder().encode(rated.reasons), as: UTF8.self)
        let reason = String(because.prefix(200))
        try await db.query(
            """
            INSERT INTO member_risk_ratings (id, member_id, level, score, reasons, because, computed_at)
            VALUES (\(id), \(member), \(rated.level.rawValue), \(rated.score), \(encoded)::jsonb, \(reason), \(now))
            """)
        return MemberRiskRating(id: id.lowercased, level: rated.level, score: rated.score, reasons: rated.reasons, because: reason, computedAt: now)
    }
}
