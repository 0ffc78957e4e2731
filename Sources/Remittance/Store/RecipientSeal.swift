import Compliance
import Crypto
import Foundation
import NzilaCore
import NzilaDatabase

/// The recipient's full details (mobile number, account number, identity document) sealed with
/// AES-256-GCM under the tenant's data key, bound to the tenant and the order: a sealed blob copied
/// to another order does not open. Only the worker opens it, to instruct the partner.
enum RecipientSeal {
    static func binding(_ db: TenantDB, order: UUID) -> Data {
        Data("remittance-recipient:\(db.tenant.id.rawValue.lowercased):\(order.lowercased)".utf8)
    }

    static func seal(_ recipient: Recipient, order: UUID, db: TenantDB, keys: TenantDataKeys) async throws -> (keyID: Int, box: Data) {
        let (id, key) = try await keys.current(db)
        let plaintext = try JSONEncoder().encode(recipient)
        guard let box = try AES.GCM.seal(plaintext, using: key, authenticating: binding(db, order: order)).combined else { throw Problem.internalError }
        return (id, box)
    }

    static func open(_ box: Data, keyID: Int, order: UUID, db: TenantDB, keys: TenantDataKeys) async throws -> Recipient {
        let key = try await keys.key(keyID, db)
        let plaintext = try AES.GCM.open(try AES.GCM.SealedBox(combined: box), using: key, authenticating: binding(db, order: order))
        return try JSONDecoder().decode(Recipient.self, from: plaintext)
    }
}
