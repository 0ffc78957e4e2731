import Compliance
import Crypto
import Foundation
import NzilaCore
import NzilaDatabase

/// The recipient's full details (mobile number, account number, identity document) sealed with
/// AES-256-GCM under the tenant's data key, bound to the tenant and the order: a sealed blob copied
/// to another order does not open. Only the worker opens it, to instruct the partner.
enum RecipientSeal {
    static func binding(_ db: TenantDB, order: UUID, purpose: String = "remittance-recipient") -> Data {
        binding(tenant: db.tenant.id.rawValue, order: order, purpose: purpose)
    }

    static func binding(tenant: UUID, order: UUID, purpose: String) -> Data {
        Data("\(purpose):\(tenant.lowercased):\(order.lowercased)".utf8)
    }

    static func seal(_ recipient: Recipient, order: UUID, db: TenantDB, keys: TenantDataKeys) async throws -> (keyID: Int, box: Data) {
        try await seal(try JSONEncoder().encode(recipient), order: order, purpose: "remittance-recipient", db: db, keys: keys)
    }

    static func open(_ box: Data, keyID: Int, order: UUID, db: TenantDB, keys: TenantDataKeys) async throws -> Recipient {
        try JSONDecoder().decode(Recipient.self, from: try await open(box, keyID: keyID, order: order, purpose: "remittance-recipient", db: db, keys: keys))
    }

    /// Any secret of an order (the recipient, a card payment's client secret), sealed for one `purpose`: a box sealed
    /// for one purpose or order does not open as another.
    static func seal(_ plaintext: Data, order: UUID, purpose: String, db: TenantDB, keys: TenantDataKeys) async throws -> (keyID: Int, box: Data) {
        let (id, key) = try await keys.current(db)
        guard let box = try AES.GCM.seal(plaintext, using: key, authenticating: binding(db, order: order, purpose: purpose)).combined else {
            throw Problem.internalError
        }
        return (id, box)
    }

    static func open(_ box: Data, keyID: Int, order: UUID, purpose: String, db: TenantDB, keys: TenantDataKeys) async throws -> Data {
        let key = try await keys.key(keyID, db)
        return try AES.GCM.open(try AES.GCM.SealedBox(combined: box), using: key, authenticating: binding(db, order: order, purpose: purpose))
    }
}
