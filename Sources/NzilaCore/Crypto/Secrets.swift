import Crypto
import Foundation

/// Seals secrets at rest (signing keys now, PII such as document numbers later) with AES-256-GCM under
/// a master key that lives outside the database: `NZILA_MASTER_KEY` or a file in the state folder.
public struct SecretBox: Sendable {
    let key: SymmetricKey

    public enum Failure: Error { case badMasterKey, unsealFailed }

    public init(key: SymmetricKey) { self.key = key }

    /// Accepts the key as 64 hex digits (32 bytes).
    public init(hex: String) throws {
        guard let bytes = Data(hex: hex), bytes.count == 32 else { throw Failure.badMasterKey }
        self.key = SymmetricKey(data: bytes)
    }

    public static func generateHex() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.hexString
    }

    public func seal(_ plaintext: Data) throws -> Data {
        guard let combined = try AES.GCM.seal(plaintext, using: key).combined else { throw Failure.unsealFailed }
        return combined
    }

    /// A secret derived from the master key for one purpose (HKDF-SHA256 with `label` as info), as
    /// 64 hex digits: per-tenant webhook secrets need no storage and never enter the database.
    public func derivedSecret(_ label: String) -> String {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Data(label.utf8), outputByteCount: 32).withUnsafeBytes { Data($0) }.hexString
    }

    public func open(_ sealed: Data) throws -> Data {
        do { return try AES.GCM.open(AES.GCM.SealedBox(combined: sealed), using: key) } catch { throw Failure.unsealFailed }
    }
}


/// A random opaque token (refresh tokens and the like) and its SHA-256, which is what gets stored.
public enum OpaqueToken {
    public static func generate() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.base64URLEncoded
    }

    public static func digest(_ token: String) -> Data {
        Data(SHA256.hash(data: Data(token.utf8)))
    }
}

extension Data {
    public var base64URLEncoded: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public init?(base64URLEncoded text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        self.init(base64Encoded: base64)
    }
}
