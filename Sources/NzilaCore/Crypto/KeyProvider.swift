import Crypto
import Foundation

/// Where the master key lives, and the only thing that uses it: wrapping and unwrapping data keys (each tenant's,
/// and the platform key that seals signing keys, webhook secrets and push tokens). Three kinds (issue 26):
/// an environment variable or a file on this machine (`LocalKeyProvider`), or an HTTP key service speaking
/// HashiCorp Vault's transit API (`VaultTransitKeyProvider`, in NzilaPartners), where the master never leaves
/// the service. Wrapped keys are stored in the database; unwrapped ones are kept in memory by their users.
public protocol KeyProvider: Sendable {
    /// For logs and `nzila doctor`: the kind and where, never the key.
    var name: String { get }
    func wrap(_ key: SymmetricKey) async throws -> Data
    func unwrap(_ wrapped: Data) async throws -> SymmetricKey
    /// `wrapped` under the newest master key (`nzila keys rotate-master`).
    func rewrap(_ wrapped: Data) async throws -> Data
    /// The keys a deployment's first platform key may be, when it has none: a local master (the previous one first,
    /// during a rotation), so that what an earlier build sealed under the master opens under the platform key; none
    /// for a key service (a random key is made).
    func platformKeyCandidates() async throws -> [SymmetricKey]
}

public struct KeyProviderFailure: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The master key as 64 hex digits in the environment, or in a file read at each use (so the key is in this
/// process's memory only while a data key is wrapped or unwrapped; a key service is the way to keep it out
/// entirely). `previous` is the master being rotated away from: keys wrapped under it still unwrap, and
/// `rewrap` moves them to `current`.
public struct LocalKeyProvider: KeyProvider {
    public enum Source: Sendable, Equatable {
        case hex(String)
        case file(String)
    }

    public let current: Source
    public let previous: Source?

    public init(current: Source, previous: Source? = nil) {
        self.current = current
        self.previous = previous
    }

    public var name: String {
        switch current {
        case .hex: return "environment (NZILA_MASTER_KEY)\(previous == nil ? "" : ", with a previous key")"
        case .file(let path): return "file \(path)\(previous == nil ? "" : ", with a previous key")"
        }
    }

    /// The key of `source`; the hex text read from a file is overwritten once the key is made.
    static func material(_ source: Source) throws -> SymmetricKey {
        var text: [UInt8]
        switch source {
        case .hex(let hex): text = Array(hex.utf8)
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw KeyProviderFailure("the master key file \(path) cannot be read")
            }
            text = Array(data)
        }
        defer { for index in text.indices { text[index] = 0 } }
        let digits = text.filter { !(($0 == 0x0A) || ($0 == 0x0D) || ($0 == 0x20)) }
        guard digits.count == 64 else { throw KeyProviderFailure("the master key must be 64 hex digits (32 bytes), as `openssl rand -hex 32` prints") }
        var bytes = [UInt8](repeating: 0, count: 32)
        defer { for index in bytes.indices { bytes[index] = 0 } }
        for index in 0..<32 {
            guard let high = hexValue(digits[2 * index]), let low = hexValue(digits[2 * index + 1]) else {
                throw KeyProviderFailure("the master key must be 64 hex digits (32 bytes), as `openssl rand -hex 32` prints")
            }
            bytes[index] = high << 4 | low
        }
        return SymmetricKey(data: bytes)
    }

    static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case 0x30...0x39: return digit - 0x30
        case 0x61...0x66: return digit - 0x61 + 10
        case 0x41...0x46: return digit - 0x41 + 10
        default: return nil
        }
    }

    public func wrap(_ key: SymmetricKey) async throws -> Data {
        try SecretBox(key: Self.material(current)).seal(key.withUnsafeBytes { Data($0) })
    }

    public func unwrap(_ wrapped: Data) async throws -> SymmetricKey {
        for source in [current] + (previous.map { [$0] } ?? []) {
            if let opened = try? SecretBox(key: Self.material(source)).open(wrapped) { return SymmetricKey(data: opened) }
        }
        _ = try Self.material(current)  // a missing or malformed key file is named as such
        throw KeyProviderFailure("a wrapped key does not open under the master key\(previous == nil ? "" : " or the previous one"): is this the master that wrapped it?")
    }

    public func rewrap(_ wrapped: Data) async throws -> Data {
        try await wrap(try await unwrap(wrapped))
    }

    public func platformKeyCandidates() async throws -> [SymmetricKey] {
        try (previous.map { [$0] } ?? []).map(Self.material) + [Self.material(current)]
    }
}
