import Crypto
import Foundation
import Logging
import NzilaCore
import NzilaDatabase
import NzilaPartners
import PostgresNIO

/// KYC files in a data key rotation: each file still under an older key is read from its store, opened, sealed under
/// the new key and written under a new object name (`<file>-k<key>`); then, in a transaction of its own, its row is
/// switched to the new object and key — only if the row is still what was read — and the old object is deleted. A
/// crash leaves either the old object named by the row (the new one an orphan a rerun overwrites) or the new one;
/// never a row naming an object that does not open. No transaction is open while the store is called.
public struct KYCFileResealing: SealedObjects {
    public let name = "kyc_files objects"
    /// The document stores by kind (`local`, `s3`): each file is read back from where it was written.
    let stores: [String: any DocumentStore]

    public init(stores: [any DocumentStore]) {
        self.stores = Dictionary(stores.map { ($0.kind, $0) }) { first, _ in first }
    }

    struct ResealFailure: Error, CustomStringConvertible {
        let description: String
    }

    /// `<tenant>/kyc/<file>` under key `keyID`: `<tenant>/kyc/<file>-k<keyID>`.
    static func objectKey(_ current: String, keyID: Int) -> String {
        let base = current.replacingOccurrences(of: #"-k[0-9]+$"#, with: "", options: .regularExpression)
        return "\(base)-k\(keyID)"
    }

    public func resealBatch(
        client: PostgresClient, tenant: UUID, schema: String, to keyID: Int, newKey: SymmetricKey, keys: [Int: SymmetricKey], limit: Int, logger: Logger
    ) async throws -> Int {
        let rows = try await DataKeyRotation.inTenant(client, tenant: tenant, schema: schema, logger: logger) { connection in
            try await connection.query(
                "SELECT id, member_id, store, object_key, key_id FROM kyc_files WHERE key_id < \(keyID) ORDER BY id LIMIT \(limit)", logger: logger
            ).all((UUID, UUID, String, String, Int).self)
        }
        for (file, member, kind, objectKey, oldID) in rows {
            guard let store = stores[kind] else {
                throw ResealFailure(description: "KYC file \(file.lowercased) is in the \(kind) document store, which this command is not configured for (NZILA_DOCUMENTS)")
            }
            guard let oldKey = keys[oldID], let sealed = try await store.get(objectKey),
                let bytes = KYCFiles.open(sealed, key: oldKey, tenant: tenant, member: member, file: file)
            else {
                throw ResealFailure(description: "KYC file \(file.lowercased) is missing from its store or does not open under data key \(oldID): left as it is")
            }
            let newObject = Self.objectKey(objectKey, keyID: keyID)
            try await store.put(newObject, try KYCFiles.seal(bytes, key: newKey, tenant: tenant, member: member, file: file))
            let switched = try await DataKeyRotation.inTenant(client, tenant: tenant, schema: schema, logger: logger) { connection in
                try await connection.query(
                    """
                    UPDATE kyc_files SET object_key = \(newObject), key_id = \(keyID)
                    WHERE id = \(file) AND key_id = \(oldID) AND object_key = \(objectKey) RETURNING id
                    """, logger: logger
                ).first(UUID.self) != nil
            }
            // The row now names the new object (delete the old one), or changed meanwhile (delete ours).
            do { try await store.delete(switched ? objectKey : newObject) } catch {
                logger.warning("a replaced KYC file object was not deleted", metadata: ["object": "\(switched ? objectKey : newObject)", "error": "\(error)"])
            }
        }
        return rows.count
    }
}
