import Foundation
import Ledger
import NzilaCore
import NzilaDatabase
import PostgresNIO

/// A member as the API shows it (never the password hash).
public struct MemberRecord: Codable, Sendable, Equatable {
    public let id: MemberID
    public let email: String
    public let fullName: String
    public let phone: String?
    public let kycTier: Int
    public let status: MemberStatus
    public let createdAt: Date
}

/// The SQL of the members aggregate.
public struct MemberStore: Sendable {
    let db: TenantDB

    public init(_ db: TenantDB) { self.db = db }

    static let columns = "id, email, full_name, phone, kyc_tier, status, created_at"
    typealias Row = (UUID, String, String, String?, Int16, String, Date)

    /// Inserts a member; nil when the email is already a member of this tenant.
    public func create(_ member: NewMember, passwordHash: String) async throws -> MemberRecord? {
        try await db.query(
            """
            INSERT INTO members (id, email, full_name, phone, password_hash)
            VALUES (\(UUID()), \(member.email), \(member.fullName), \(member.phone), \(passwordHash))
            ON CONFLICT (tenant_id, email) DO NOTHING RETURNING \(unescaped: Self.columns)
            """
        ).first(Row.self).map { try MemberRecord(row: $0) }
    }

    public func member(_ id: MemberID) async throws -> MemberRecord? {
        try await db.query("SELECT \(unescaped: Self.columns) FROM members WHERE id = \(id.rawValue)").first(Row.self).map { try MemberRecord(row: $0) }
    }

    /// The id and password hash for a login, by email.
    public func credentials(email: String) async throws -> (MemberID, String)? {
        try await db.query("SELECT id, password_hash FROM members WHERE email = \(email) AND status = 'active'")
            .first((UUID, String).self).map { (MemberID($0.0), $0.1) }
    }

    /// Members newest first; `search` keeps those whose name or email contains it (case-insensitive,
    /// the text taken literally: `%` and `_` match themselves).
    public func list(_ page: PageRequest, search: String? = nil) async throws -> Page<MemberRecord> {
        let after = page.after
        let pattern = search.map { "%" + $0.lowercased().replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%" }
        let rows = try await db.query(
            """
            SELECT \(unescaped: Self.columns), (extract(epoch FROM created_at) * 1000000)::int8 FROM members
            WHERE (\(after == nil) OR (created_at, id) < ('epoch'::timestamptz + \(after?.position ?? 0) * interval '1 microsecond', \(after?.id ?? UUID())))
              AND (\(pattern)::text IS NULL OR email LIKE \(pattern) OR lower(full_name) LIKE \(pattern))
            ORDER BY created_at DESC, id DESC LIMIT \(page.limit + 1)
            """
        ).all((UUID, String, String, String?, Int16, String, Date, Int64).self)
        return try page.page(
            of: rows, item: { try MemberRecord(row: ($0.0, $0.1, $0.2, $0.3, $0.4, $0.5, $0.6)) },
            cursor: { PageCursor(position: $0.7, id: $0.0) })
    }
}

extension MemberRecord {
    init(row: MemberStore.Row) throws {
        self.init(id: MemberID(row.0), email: row.1, fullName: row.2, phone: row.3, kycTier: Int(row.4), status: try .stored(row.5), createdAt: row.6)
    }
}
