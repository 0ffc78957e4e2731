import Crypto
import Foundation
import NzilaCore
import NzilaDatabase
import NzilaPartners

/// A KYC file as the API lists it: what it is, never its bytes.
public struct KYCFileRecord: Codable, Sendable {
    public let id: String
    public let memberId: String
    public let kind: String
    public let mediaType: String
    public let sizeBytes: Int
    public let sha256: String
    public let documentId: String?
    /// nil: uploaded by the member's own app (`uploaded_role` member) or by a provider.
    public let uploadedBy: String?
    public let uploadedRole: String
    public let uploadedAt: Date
    /// How many times staff have revealed it.
    public let reveals: Int
}

/// KYC document images and uploads (Migrations/tenant/0036): the rows here, the bytes in the platform's `DocumentStore`,
/// sealed with AES-GCM under the tenant's data key and bound to tenant, member and file, so an object copied to another
/// name, member or tenant does not open.
public struct KYCFiles {
    let db: TenantDB

    public init(_ db: TenantDB) { self.db = db }

    /// The object's key in the store: the tenant's id, then the file's.
    public static func objectKey(tenant: UUID, file: UUID) -> String { "\(tenant.lowercased)/kyc/\(file.lowercased)" }

    static func binding(tenant: UUID, member: UUID, file: UUID) -> Data {
        Data("nzila.kyc-file.v1|\(tenant.lowercased)|\(member.lowercased)|\(file.lowercased)".utf8)
    }

    /// The bytes sealed as this file of this member of this tenant (nonce, ciphertext and tag).
    public static func seal(_ bytes: Data, key: SymmetricKey, tenant: UUID, member: UUID, file: UUID) throws -> Data {
        guard let combined = try AES.GCM.seal(bytes, using: key, authenticating: binding(tenant: tenant, member: member, file: file)).combined else {
            throw Problem.internalError
        }
        return combined
    }

    /// The file's bytes, or nil when the sealed object does not open as this file (altered, or moved from elsewhere).
    public static func open(_ sealed: Data, key: SymmetricKey, tenant: UUID, member: UUID, file: UUID) -> Data? {
        guard let box = try? AES.GCM.SealedBox(combined: sealed) else { return nil }
        return try? AES.GCM.open(box, using: key, authenticating: binding(tenant: tenant, member: member, file: file))
    }

    /// How many files the member has, the member's row locked (nil: no such member), so two uploads at once count each other.
    public func lockedCount(member: UUID) async throws -> Int? {
        guard try await db.query("SELECT id FROM members WHERE id = \(member) FOR UPDATE").first(UUID.self) != nil else { return nil }
        return try await db.query("SELECT count(*)::int FROM kyc_files WHERE member_id = \(member)").first(Int.self) ?? 0
    }

    public func documentBelongs(_ document: UUID, to member: UUID) async throws -> Bool {
        try await db.query("SELECT 1 FROM kyc_documents WHERE id = \(document) AND member_id = \(member)").first(Int.self) != nil
    }

    public struct Upload: Sendable {
        public let id: UUID
        public let member: UUID
        public let kind: String
        public let mediaType: String
        public let size: Int
        public let sha256: Data
        public let store: String
        public let keyID: Int
        public let document: UUID?
    }

    public func record(_ upload: Upload, by actor: ChangeActor) async throws {
        try await db.query(
            """
            INSERT INTO kyc_files (id, member_id, kind, media_type, size_bytes, sha256, store, object_key, key_id, document_id, uploaded_by, uploaded_role,
                                   uploaded_at)
            VALUES (\(upload.id), \(upload.member), \(upload.kind), \(upload.mediaType), \(upload.size), \(upload.sha256), \(upload.store),
                    \(Self.objectKey(tenant: db.tenant.id.rawValue, file: upload.id)), \(upload.keyID), \(upload.document), \(actor.id), \(actor.role),
                    \(db.now))
            """)
    }

    static let columns = """
        f.id, f.member_id, f.kind, f.media_type, f.size_bytes, f.sha256, f.document_id, f.uploaded_by, f.uploaded_role, f.uploaded_at,
        (SELECT count(*)::int FROM kyc_file_reveals r WHERE r.file_id = f.id)
        """

    static func record(_ row: (UUID, UUID, String, String, Int, Data, UUID?, UUID?, String, Date, Int)) -> KYCFileRecord {
        KYCFileRecord(
            id: row.0.lowercased, memberId: row.1.lowercased, kind: row.2, mediaType: row.3, sizeBytes: row.4,
            sha256: row.5.map { String(format: "%02x", $0) }.joined(), documentId: row.6?.lowercased, uploadedBy: row.7?.lowercased, uploadedRole: row.8,
            uploadedAt: row.9, reveals: row.10)
    }

    public func files(of member: UUID) async throws -> [KYCFileRecord] {
        try await db.query(
            "SELECT \(unescaped: Self.columns) FROM kyc_files f WHERE f.member_id = \(member) ORDER BY f.uploaded_at DESC, f.id"
        ).all((UUID, UUID, String, String, Int, Data, UUID?, UUID?, String, Date, Int).self).map(Self.record)
    }

    public func file(_ id: UUID, member: UUID) async throws -> KYCFileRecord? {
        try await db.query(
            "SELECT \(unescaped: Self.columns) FROM kyc_files f WHERE f.id = \(id) AND f.member_id = \(member)"
        ).first((UUID, UUID, String, String, Int, Data, UUID?, UUID?, String, Date, Int).self).map(Self.record)
    }

    /// What a reveal needs to read and open the file: where it is and its key id.
    public struct Stored: Sendable {
        public let store: String
        public let objectKey: String
        public let keyID: Int
        public let mediaType: String
        public let kind: String
        public let sha256: Data
    }

    /// Records a reveal of one file of one member by `principal` with `reason`, and returns where the file is (nil: no
    /// such file of that member, and nothing recorded).
    public func reveal(_ id: UUID, member: UUID, by principal: Principal, reason: String, requestID: String?) async throws -> Stored? {
        guard let row = try await db.query(
            """
            WITH revealed AS (
                INSERT INTO kyc_file_reveals (file_id, revealed_by, revealed_role, reason, request_id, revealed_at)
                SELECT id, \(principal.id), \(principal.role.rawValue), \(reason), \(requestID), \(db.now) FROM kyc_files
                WHERE id = \(id) AND member_id = \(member)
                RETURNING file_id
            )
            SELECT f.store, f.object_key, f.key_id, f.media_type, f.kind, f.sha256 FROM kyc_files f JOIN revealed r ON r.file_id = f.id
            """
        ).first((String, String, Int, String, String, Data).self) else { return nil }
        return Stored(store: row.0, objectKey: row.1, keyID: row.2, mediaType: row.3, kind: row.4, sha256: row.5)
    }

    /// A file's reveals, newest first: who, why, when.
    public func reveals(of id: UUID) async throws -> [KYCFileReveal] {
        try await db.query(
            "SELECT revealed_by, revealed_role, reason, revealed_at FROM kyc_file_reveals WHERE file_id = \(id) ORDER BY revealed_at DESC, id DESC"
        ).all((UUID, String, String, Date).self).map { KYCFileReveal(revealedBy: $0.0.lowercased, revealedRole: $0.1, reason: $0.2, revealedAt: $0.3) }
    }
}

/// One reveal of a KYC file: the staff member, the reason they gave, when.
public struct KYCFileReveal: Codable, Sendable {
    public let revealedBy: String
    public let revealedRole: String
    public let reason: String
    public let revealedAt: Date
}
