import Crypto
import Foundation
import NzilaCore
import NzilaDatabase
import PostgresNIO

/// A KYC document as the API shows it: the number masked to its last characters.
public struct KYCDocumentRecord: Codable, Sendable {
    public let id: KYCDocumentID
    public let kind: String
    public let numberMasked: String?
    public let issuingCountry: String?
    public let expiresOn: String?
    public let notes: String?
    /// The staff member who verified it (nil: an identity provider did, named by `verified_role` and `provider_reference`).
    public let verifiedBy: String?
    public let verifiedRole: String
    public let providerReference: String?
    public let verifiedAt: Date
}

public struct KYCProfile: Codable, Sendable {
    public struct TierChange: Codable, Sendable {
        public let fromTier: Int
        public let toTier: Int
        public let reason: String
        public let documentIds: [String]
        /// nil: the identity provider's verified session moved the member.
        public let changedBy: String?
        public let changedRole: String
        public let at: Date
    }

    public let memberID: String
    public let tier: Int
    public let documents: [KYCDocumentRecord]
    public let history: [TierChange]
}

/// KYC evidence and tiers in the tenant's schema (Migrations/tenant/0007).
public struct KYCStore {
    let db: TenantDB

    public init(_ db: TenantDB) { self.db = db }

    /// The additional data bound to a sealed number: it opens only as this document of this member of this tenant.
    static func binding(tenant: UUID, member: UUID, document: UUID) -> Data {
        Data("nzila.kyc.v1|\(tenant.lowercased)|\(member.lowercased)|\(document.lowercased)".utf8)
    }

    public func tier(of member: UUID, lock: Bool = false) async throws -> Int? {
        try await db.query("SELECT kyc_tier::int FROM members WHERE id = \(member) \(unescaped: lock ? "FOR UPDATE" : "")").first(Int.self)
    }

    public func add(
        member: UUID, kind: KYCEvidence, number: String?, issuingCountry: String?, expiresOn: String?, notes: String?, by principal: Principal,
        keys: TenantDataKeys
    ) async throws -> KYCDocumentRecord {
        try await add(
            member: member, kind: kind, number: number, issuingCountry: issuingCountry, expiresOn: expiresOn, notes: notes, by: ChangeActor(principal),
            reference: nil, keys: keys)
    }

    /// Evidence recorded by a staff member (`reference` nil) or from an identity provider's verified session (`actor`
    /// without an id, `reference` the provider's report).
    public func add(
        member: UUID, kind: KYCEvidence, number: String?, issuingCountry: String?, expiresOn: String?, notes: String?, by actor: ChangeActor,
        reference: String?, keys: TenantDataKeys
    ) async throws -> KYCDocumentRecord {
        let id = UUID()
        var sealed: Data?
        var keyID: Int?
        var hint: String?
        if let number {
            let (current, key) = try await keys.current(db)
            let box = try AES.GCM.seal(Data(number.utf8), using: key, authenticating: Self.binding(tenant: db.tenant.id.rawValue, member: member, document: id))
            sealed = box.combined
            keyID = current
            hint = String(number.suffix(4))
        }
        let verifiedAt = try await db.query(
            """
            INSERT INTO kyc_documents (id, member_id, kind, number_sealed, key_id, number_hint, issuing_country, expires_on, notes, verified_by, verified_role,
                                       provider_reference)
            VALUES (\(id), \(member), \(kind.rawValue), \(sealed), \(keyID), \(hint), \(issuingCountry), \(expiresOn)::date, \(notes),
                    \(actor.id), \(actor.role), \(reference))
            RETURNING verified_at
            """
        ).first(Date.self) ?? db.now
        return KYCDocumentRecord(
            id: KYCDocumentID(id), kind: kind.rawValue, numberMasked: hint.map { "•••• " + $0 }, issuingCountry: issuingCountry, expiresOn: expiresOn,
            notes: notes, verifiedBy: actor.id?.lowercased, verifiedRole: actor.role, providerReference: reference, verifiedAt: verifiedAt)
    }

    /// The unsealed number of one document of one member, nil when there is no such document or number.
    public func reveal(member: UUID, document: UUID, keys: TenantDataKeys) async throws -> String? {
        guard let (sealed, keyID) = try await db.query(
            "SELECT number_sealed, key_id FROM kyc_documents WHERE id = \(document) AND member_id = \(member) AND number_sealed IS NOT NULL"
        ).first((Data, Int).self) else { return nil }
        let key = try await keys.key(keyID, db)
        do {
            let opened = try AES.GCM.open(
                try AES.GCM.SealedBox(combined: sealed), using: key,
                authenticating: Self.binding(tenant: db.tenant.id.rawValue, member: member, document: document))
            return String(decoding: opened, as: UTF8.self)
        } catch {
            // The sealed number is bound to its tenant, member and document: moved or altered, it does not open.
            throw Problem(
                .conflict, "sealed-data-mismatch", "Sealed data does not match",
                detail: "This document's sealed number does not open as this member's document; the record may have been altered.")
        }
    }

    /// The kinds of evidence on file that have not expired by `today` (YYYY-MM-DD).
    public func evidence(of member: UUID, today: String) async throws -> Set<KYCEvidence> {
        Set(try await db.query(
            "SELECT DISTINCT kind FROM kyc_documents WHERE member_id = \(member) AND (expires_on IS NULL OR expires_on >= \(today)::date)"
        ).all(String.self).compactMap(KYCEvidence.init(rawValue:)))
    }

    public func changeTier(member: UUID, from: Int, to: Int, reason: String, by principal: Principal) async throws {
        try await changeTier(member: member, from: from, to: to, reason: reason, by: ChangeActor(principal))
    }

    public func changeTier(member: UUID, from: Int, to: Int, reason: String, by actor: ChangeActor) async throws {
        try await db.query(
            """
            WITH documents AS (SELECT coalesce(array_agg(id ORDER BY verified_at), '{}') AS ids FROM kyc_documents WHERE member_id = \(member)),
            moved AS (UPDATE members SET kyc_tier = \(to) WHERE id = \(member) RETURNING id)
            INSERT INTO kyc_tier_changes (member_id, from_tier, to_tier, reason, document_ids, changed_by, changed_role)
            SELECT \(member), \(from), \(to), \(reason), documents.ids, \(actor.id), \(actor.role) FROM moved, documents
            """)
    }

    public func profile(of member: UUID) async throws -> KYCProfile? {
        guard let tier = try await tier(of: member) else { return nil }
        let documents = try await db.query(
            """
            SELECT id, kind, number_hint, issuing_country::text, to_char(expires_on, 'YYYY-MM-DD'), notes, verified_by, verified_role, verified_at,
                   provider_reference
            FROM kyc_documents WHERE member_id = \(member) ORDER BY verified_at, id
            """
        ).all((UUID, String, String?, String?, String?, String?, UUID?, String, Date, String?).self).map {
            KYCDocumentRecord(
                id: KYCDocumentID($0.0), kind: $0.1, numberMasked: $0.2.map { "•••• " + $0 }, issuingCountry: $0.3, expiresOn: $0.4, notes: $0.5,
                verifiedBy: $0.6?.lowercased, verifiedRole: $0.7, providerReference: $0.9, verifiedAt: $0.8)
        }
        let history = try await db.query(
            """
            SELECT from_tier::int, to_tier::int, reason, document_ids, changed_by, changed_role, created_at
            FROM kyc_tier_changes WHERE member_id = \(member) ORDER BY id
            """
        ).all((Int, Int, String, [UUID], UUID?, String, Date).self).map {
            KYCProfile.TierChange(
                fromTier: $0.0, toTier: $0.1, reason: $0.2, documentIds: $0.3.map(\.lowercased), changedBy: $0.4?.lowercased, changedRole: $0.5, at: $0.6)
        }
        return KYCProfile(memberID: member.lowercased, tier: tier, documents: documents, history: history)
    }
}

/// A member's identity verification session with the tenant's provider.
public struct KYCVerification: Codable, Sendable {
    public let id: String
    public let memberId: String
    public let provider: String
    public let sessionId: String
    public let status: String
    public let documentIds: [String]
    public let createdAt: Date
    public let updatedAt: Date
}

extension KYCStore {
    /// The tenant's identity section (nil: it verifies with no provider).
    public func identitySection() async throws -> IdentitySection? {
        db.read(IdentitySection.self, from: try await db.query("SELECT value::text FROM tenant_config WHERE key = \(IdentitySection.key)").first(String.self))
    }

    public func startVerification(_ id: UUID, member: UUID, connection: String, session: String, status: String, by principal: Principal) async throws {
        try await db.query(
            """
            INSERT INTO kyc_verifications (id, member_id, connection, session_id, status, started_by, started_role, created_at, updated_at)
            VALUES (\(id), \(member), \(connection), \(session), \(Self.status(status)), \(principal.id), \(principal.role.rawValue), \(db.now), \(db.now))
            """)
    }

    static func status(_ provider: String) -> String {
        ["requires_input", "processing", "verified", "canceled"].contains(provider) ? provider : "requires_input"
    }

    public func verifications(of member: UUID) async throws -> [KYCVerification] {
        try await db.query(
            """
            SELECT id, member_id, connection, session_id, status, document_ids, created_at, updated_at FROM kyc_verifications
            WHERE member_id = \(member) ORDER BY created_at DESC, id
            """
        ).all((UUID, UUID, String, String, String, [UUID], Date, Date).self).map {
            KYCVerification(
                id: $0.0.lowercased, memberId: $0.1.lowercased, provider: $0.2, sessionId: $0.3, status: $0.4, documentIds: $0.5.map(\.lowercased),
                createdAt: $0.6, updatedAt: $0.7)
        }
    }

    /// A session of a connection, unlocked: its id, member and status.
    public func verification(session: String, connection: String) async throws -> (id: UUID, member: UUID, status: String)? {
        try await db.query(
            "SELECT id, member_id, status FROM kyc_verifications WHERE session_id = \(session) AND connection = \(connection)"
        ).first((UUID, UUID, String).self).map { (id: $0.0, member: $0.1, status: $0.2) }
    }

    /// A session of a connection, its member's row locked first (so two events about one member are applied in turn)
    /// and then the session's: its id, member and status.
    public func lockVerification(session: String, connection: String) async throws -> (id: UUID, member: UUID, status: String)? {
        guard let member = try await db.query(
            """
            SELECT m.id FROM members m JOIN kyc_verifications v ON v.member_id = m.id
            WHERE v.session_id = \(session) AND v.connection = \(connection) FOR UPDATE OF m
            """
        ).first(UUID.self) else { return nil }
        return try await db.query(
            "SELECT id, member_id, status FROM kyc_verifications WHERE session_id = \(session) AND member_id = \(member) FOR UPDATE"
        ).first((UUID, UUID, String).self).map { (id: $0.0, member: $0.1, status: $0.2) }
    }

    public func settleVerification(_ id: UUID, status: String, documents: [UUID] = []) async throws {
        try await db.query(
            """
            UPDATE kyc_verifications SET status = \(Self.status(status)), document_ids = document_ids || \(documents)::uuid[], updated_at = \(db.now)
            WHERE id = \(id)
            """)
    }
}

extension KYCStore {
    /// Identity document numbers, sealed under the tenant's data key (re-sealed by `nzila keys rotate-data-key`).
    public static let sealedColumns = [
        SealedColumn(table: "kyc_documents", sealed: "number_sealed", bound: ["member_id"]) { tenant, row in
            binding(tenant: tenant, member: row[1], document: row[0])
        },
    ]
}
