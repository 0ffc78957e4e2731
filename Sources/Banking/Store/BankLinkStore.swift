import Foundation
import NzilaCore
import NzilaDatabase
import NzilaPartners
import PostgresNIO

/// A member's linked bank item as the API shows it: the bank's accounts, never the access token.
public struct BankLink: Codable, Sendable {
    public let id: String
    public let memberId: String
    public let provider: String
    public let status: String
    public let accounts: [PlaidBankLinks.LinkedAccount]
    public let createdAt: Date
    public let updatedAt: Date
}

/// Linked external bank accounts (Migrations/tenant/0037); the access token sealed under the tenant's data key.
public struct BankLinkStore {
    let db: TenantDB

    public init(_ db: TenantDB) { self.db = db }

    static func binding(tenant: UUID, link: UUID) -> Data { Data("nzila.bank-link.v1|\(tenant.lowercased)|\(link.lowercased)".utf8) }

    /// The tenant's bank-linking connection (`funding.bank_link`), nil when it offers none.
    public func connection() async throws -> String? {
        let section = try await db.query("SELECT value::text FROM tenant_config WHERE key = \(FundingSection.key)").first(String?.self)
        return db.read(FundingSection.self, from: section ?? nil)?.bankLink
    }

    /// The member's links that are not removed, the member's row locked (nil: no such member).
    public func lockedCount(member: UUID) async throws -> Int? {
        guard try await db.query("SELECT id FROM members WHERE id = \(member) FOR UPDATE").first(UUID.self) != nil else { return nil }
        return try await db.query("SELECT count(*)::int FROM bank_links WHERE member_id = \(member) AND status <> 'removed'").first(Int.self) ?? 0
    }

    public func memberExists(_ member: UUID) async throws -> Bool {
        try await db.query("SELECT 1 FROM members WHERE id = \(member)").first(Int.self) != nil
    }

    public func record(
        _ id: UUID, member: UUID, connection: String, item: PlaidBankLinks.Item, accounts: [PlaidBankLinks.LinkedAccount], by actor: ChangeActor,
        keys: TenantDataKeys
    ) async throws -> Bool {
        let (sealed, keyID) = try await keys.seal(
            Data(item.accessToken.utf8), binding: Self.binding(tenant: db.tenant.id.rawValue, link: id), db)
        let json = String(decoding: try Self.encoder().encode(accounts), as: UTF8.self)
        let inserted = try await db.query(
            """
            INSERT INTO bank_links (id, member_id, connection, item_id, token_sealed, key_id, status, accounts, linked_by, linked_role, created_at, updated_at)
            VALUES (\(id), \(member), \(connection), \(item.itemID), \(sealed), \(keyID), 'active', \(json)::jsonb, \(actor.id), \(actor.role), \(db.now), \(db.now))
            ON CONFLICT (connection, item_id) DO NOTHING
            RETURNING id
            """
        ).first(UUID.self)
        return inserted != nil
    }

    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }

    static let columns = "id, member_id, connection, status, accounts::text, created_at, updated_at"

    static func link(_ row: (UUID, UUID, String, String, String, Date, Date)) -> BankLink {
        let accounts = (try? PartnerHTTP.decoder.decode([PlaidBankLinks.LinkedAccount].self, from: Data(row.4.utf8))) ?? []
        return BankLink(
            id: row.0.lowercased, memberId: row.1.lowercased, provider: row.2, status: row.3, accounts: accounts, createdAt: row.5, updatedAt: row.6)
    }

    public func links(of member: UUID) async throws -> [BankLink] {
        try await db.query(
            "SELECT \(unescaped: Self.columns) FROM bank_links WHERE member_id = \(member) AND status <> 'removed' ORDER BY created_at DESC, id"
        ).all((UUID, UUID, String, String, String, Date, Date).self).map(Self.link)
    }

    public func link(_ id: UUID, member: UUID) async throws -> BankLink? {
        try await db.query("SELECT \(unescaped: Self.columns) FROM bank_links WHERE id = \(id) AND member_id = \(member)")
            .first((UUID, UUID, String, String, String, Date, Date).self).map(Self.link)
    }

    /// The link's connection and unsealed access token (nil: no such live link of that member, or it does not open).
    public func token(_ id: UUID, member: UUID, keys: TenantDataKeys) async throws -> (connection: String, token: String, status: String)? {
        guard let (connection, sealed, keyID, status) = try await db.query(
            "SELECT connection, token_sealed, key_id, status FROM bank_links WHERE id = \(id) AND member_id = \(member) AND status <> 'removed'"
        ).first((String, Data, Int, String).self) else { return nil }
        guard let opened = try await keys.open(sealed, keyID: keyID, binding: Self.binding(tenant: db.tenant.id.rawValue, link: id), db) else {
            throw Problem(
                .conflict, "sealed-data-mismatch", "Sealed data does not match",
                detail: "This link's sealed token does not open as this link; the record may have been altered.")
        }
        return (connection, String(decoding: opened, as: UTF8.self), status)
    }

    /// A link the bank asked to sign in again is active once a read succeeds (one statement; nothing when it is not).
    public func clearLoginRequired(_ id: UUID) async throws {
        try await db.query("UPDATE bank_links SET status = 'active', updated_at = \(db.now) WHERE id = \(id) AND status = 'login_required'")
    }

    /// Moves a link that is not removed (a removal erases its token); a removed link stays removed.
    public func setStatus(_ id: UUID, _ status: String) async throws {
        try await db.query(
            """
            UPDATE bank_links SET status = \(status), updated_at = \(db.now),
                   token_sealed = CASE WHEN \(status) = 'removed' THEN NULL ELSE token_sealed END,
                   key_id = CASE WHEN \(status) = 'removed' THEN NULL ELSE key_id END
            WHERE id = \(id) AND status <> 'removed'
            """)
    }
}

extension BankLinkStore {
    /// Linked banks' access tokens, sealed under the tenant's data key (re-sealed by `nzila keys rotate-data-key`).
    public static let sealedColumns = [
        SealedColumn(table: "bank_links", sealed: "token_sealed") { tenant, row in binding(tenant: tenant, link: row[0]) },
    ]
}
