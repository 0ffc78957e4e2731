import Foundation
import NzilaCore
import NzilaDatabase
import PostgresNIO

/// An account as the API shows it; the balance is money in minor units.
public struct AccountRecord: Codable, Sendable, Equatable {
    public let id: AccountID
    public let memberId: MemberID?
    /// A member product (`chequing`, `savings`, `wallet`) or one of the credit union's own kinds.
    public let kind: String
    public let currency: Currency
    public let status: AccountStatus
    /// The sum of the account's entries.
    public let ledgerBalance: Money
    /// What can be spent: the ledger balance less active holds.
    public let availableBalance: Money
    public let name: String
    public let createdAt: Date
}

/// One change of an account's status, as the history shows it.
public struct StatusChange: Codable, Sendable, Equatable {
    public let id: Int64
    public let accountId: AccountID
    public let fromStatus: AccountStatus
    public let toStatus: AccountStatus
    public let reason: String
    public let actorId: String
    public let actorRole: String
    public let createdAt: Date
}

/// The SQL of the accounts aggregate.
public struct AccountStore: Sendable {
    let db: TenantDB

    public init(_ db: TenantDB) { self.db = db }

    static let columns = "id, member_id, kind, currency::text, status, balance_minor, held_minor, name, created_at"
    typealias Row = (UUID, UUID?, String, String, String, Int64, Int64, String, Date)

    /// Opens a member account at a zero balance with the member floor.
    public func open(member: MemberID, kind: MemberAccountKind, currency: Currency) async throws -> AccountRecord? {
        let name = "\(kind.rawValue.capitalized) \(currency.code)"
        return try await db.query(
            """
            INSERT INTO accounts (id, member_id, kind, currency, floor_minor, name)
            SELECT \(UUID()), m.id, \(kind.rawValue), \(currency.code), \(AccountFloor.memberMinor), \(name)
            FROM members m WHERE m.id = \(member.rawValue) AND m.status = 'active'
            RETURNING \(unescaped: Self.columns)
            """
        ).first(Row.self).map { try AccountRecord(row: $0) }
    }

    /// One account, in one database round trip through `tenant_api.account_by_id` (the data plane's
    /// hot path); `visibleTo` limits a member to their own, and others' look missing.
    public static func account(_ id: AccountID, visibleTo member: MemberID?, in session: TenantSession) async throws -> AccountRecord? {
        try await session.call({ who in
            "SELECT * FROM tenant_api.account_by_id(\(who.role), \(who.schema), \(who.tenantID), \(member?.rawValue), \(id.rawValue))"
        }) { rows in try await rows.first(Row.self).map { try AccountRecord(row: $0) } }
    }

    /// Whether the account exists and, for a member, is theirs.
    public static func owned(_ id: AccountID, by member: MemberID?, in db: TenantDB) async throws -> Bool {
        try await db.query(
            "SELECT EXISTS (SELECT 1 FROM accounts WHERE id = \(id.rawValue) AND (\(member == nil) OR member_id = \(member?.rawValue)))"
        ).first(Bool.self) ?? false
    }

    /// Moves a member account to `target` under its row lock (expired holds released first, as for a
    /// posting) and records who did it and why, in one statement; nil when there is no such member
    /// account. The database refuses reopening a closed account or closing a non-empty one as well.
    public func changeStatus(_ id: AccountID, to target: AccountStatus, reason: String, actor: Principal) async throws -> AccountRecord? {
        guard let locked = try await LedgerStore(db).lock([id])[id], locked.memberID != nil else { return nil }
        let current = locked.status
        try AccountStatus.change(from: current, to: target, balanceMinor: locked.balanceMinor, heldMinor: locked.heldMinor)
        return try await db.query(
            """
            WITH change AS (
                INSERT INTO account_status_changes (account_id, from_status, to_status, reason, actor_id, actor_role)
                VALUES (\(id.rawValue), \(current.rawValue), \(target.rawValue), \(reason), \(actor.id), \(actor.role.rawValue)))
            UPDATE accounts SET status = \(target.rawValue) WHERE id = \(id.rawValue)
            RETURNING \(unescaped: Self.columns)
            """
        ).first(Row.self).map { try AccountRecord(row: $0) }
    }

    /// An account's status changes, newest first.
    public func statusChanges(_ id: AccountID, page: PageRequest) async throws -> Page<StatusChange> {
        let rows = try await db.query(
            """
            SELECT id, from_status, to_status, reason, actor_id, actor_role, created_at FROM account_status_changes
            WHERE account_id = \(id.rawValue) AND id < \(page.after?.position ?? Int64.max) ORDER BY id DESC LIMIT \(page.limit + 1)
            """
        ).all((Int64, String, String, String, UUID, String, Date).self)
        return try page.page(
            of: rows,
            item: {
                StatusChange(
                    id: $0.0, accountId: id, fromStatus: try .stored($0.1), toStatus: try .stored($0.2), reason: $0.3, actorId: $0.4.lowercased,
                    actorRole: $0.5, createdAt: $0.6)
            },
            cursor: { PageCursor(position: $0.0, id: $0.4) })
    }

    public func list(_ page: PageRequest, member: MemberID?) async throws -> Page<AccountRecord> {
        let after = page.after
        let rows = try await db.query(
            """
            SELECT \(unescaped: Self.columns), (extract(epoch FROM created_at) * 1000000)::int8 FROM accounts
            WHERE (\(member == nil) OR member_id = \(member?.rawValue))
              AND (\(after == nil) OR (created_at, id) < ('epoch'::timestamptz + \(after?.position ?? 0) * interval '1 microsecond', \(after?.id ?? UUID())))
            ORDER BY created_at DESC, id DESC LIMIT \(page.limit + 1)
            """
        ).all((UUID, UUID?, String, String, String, Int64, Int64, String, Date, Int64).self)
        return try page.page(
            of: rows, item: { try AccountRecord(row: ($0.0, $0.1, $0.2, $0.3, $0.4, $0.5, $0.6, $0.7, $0.8)) },
            cursor: { PageCursor(position: $0.9, id: $0.0) })
    }
}

extension AccountRecord {
    init(row: AccountStore.Row) throws {
        let currency = try Currency.stored(row.3)
        self.init(
            id: AccountID(row.0), memberId: row.1.map { MemberID($0) }, kind: row.2, currency: currency, status: try .stored(row.4),
            ledgerBalance: Money(minorUnits: row.5, currency: currency), availableBalance: Money(minorUnits: row.5 - row.6, currency: currency),
            name: row.7, createdAt: row.8)
    }
}
