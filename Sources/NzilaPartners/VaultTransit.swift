import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NzilaCore

/// The master key in a key service speaking HashiCorp Vault's transit secrets engine: data keys are wrapped with
/// `POST /v1/<mount>/encrypt/<key>` and unwrapped with `…/decrypt/<key>`, so the master never enters this process;
/// `nzila keys rotate-master` asks the service for a new key version (`…/keys/<key>/rotate`) and moves every
/// wrapped key to it with `…/rewrap/<key>`, which never shows the data key. The wrapped form is Vault's own
/// ciphertext text (`vault:v1:…`). The token goes in `X-Vault-Token` and is never logged; given as a file, it is read
/// at each call, so a token renewed into the file (Vault Agent's sink) is used from the next call. Calls are short
/// (3 s, two tries): a first use of a tenant's key waits on them inside its request.
public struct VaultTransitKeyProvider: KeyProvider {
    let address: String
    let token: @Sendable () throws -> String
    let mount: String
    let key: String
    let attempts: Int
    let timeout: TimeAmount
    let client: HTTPClient

    public init(address: String, token: String, mount: String = "transit", key: String, attempts: Int = 2, timeout: TimeAmount = .seconds(3),
                client: HTTPClient = .shared) {
        self.init(address: address, tokenSource: { token }, mount: mount, key: key, attempts: attempts, timeout: timeout, client: client)
    }

    public init(address: String, tokenSource: @escaping @Sendable () throws -> String, mount: String = "transit", key: String, attempts: Int = 2,
                timeout: TimeAmount = .seconds(3), client: HTTPClient = .shared) {
        self.address = address.hasSuffix("/") ? String(address.dropLast()) : address
        self.token = tokenSource
        self.mount = mount
        self.key = key
        self.attempts = attempts
        self.timeout = timeout
        self.client = client
    }

    public var name: String { "Vault transit key \(key) at \(address)/v1/\(mount)" }

    struct Answer: Decodable {
        struct Fields: Decodable {
            let ciphertext: String?
            let plaintext: String?
        }
        let data: Fields?
        let errors: [String]?
    }

    func post(_ path: String, _ body: [String: String]?) async throws -> Answer {
        let url = "\(address)/v1/\(mount)/\(path)"
        let payload = try body.map { try JSONEncoder().encode($0) }
        let token: String
        do { token = try self.token().trimmingCharacters(in: .whitespacesAndNewlines) } catch {
            throw KeyProviderFailure("the key service's token cannot be read (NZILA_VAULT_TOKEN_FILE)")
        }
        let (status, data) = try await PartnerHTTP.tried(name: "the key service", attempts: attempts, timeout: timeout, client: client, limit: 64 << 10) {
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "X-Vault-Token", value: token)
            request.headers.add(name: "Content-Type", value: "application/json")
            if let payload { request.body = .bytes(ByteBuffer(bytes: payload)) }
            return request
        }
        guard (200..<300).contains(status) else {
            // Vault's errors are sentences about the request (permission denied, no such key), never the token.
            let said = (try? JSONDecoder().decode(Answer.self, from: data))?.errors?.joined(separator: "; ").prefix(300) ?? ""
            throw KeyProviderFailure("the key service answered HTTP \(status) to \(path.split(separator: "/").first ?? ""): \(said)")
        }
        if status == 204 || data.isEmpty { return Answer(data: nil, errors: nil) }
        do { return try JSONDecoder().decode(Answer.self, from: data) } catch {
            throw KeyProviderFailure("the key service's answer to \(path.split(separator: "/").first ?? "") is not transit's JSON")
        }
    }

    public func wrap(_ dataKey: SymmetricKey) async throws -> Data {
        let answer = try await post("encrypt/\(key)", ["plaintext": dataKey.withUnsafeBytes { Data($0) }.base64EncodedString()])
        guard let ciphertext = answer.data?.ciphertext, ciphertext.hasPrefix("vault:v") else { throw KeyProviderFailure("the key service returned no ciphertext") }
        return Data(ciphertext.utf8)
    }

    public func unwrap(_ wrapped: Data) async throws -> SymmetricKey {
        let ciphertext = String(decoding: wrapped, as: UTF8.self)
        guard ciphertext.hasPrefix("vault:v") else {
            throw KeyProviderFailure("a wrapped key is not the key service's ciphertext: was it wrapped by a local master key?")
        }
        let answer = try await post("decrypt/\(key)", ["ciphertext": ciphertext])
        guard let plaintext = answer.data?.plaintext, let bytes = Data(base64Encoded: plaintext), bytes.count == 32 else {
            throw KeyProviderFailure("the key service returned no 32-byte key")
        }
        return SymmetricKey(data: bytes)
    }

    public func rewrap(_ wrapped: Data) async throws -> Data {
        let answer = try await post("rewrap/\(key)", ["ciphertext": String(decoding: wrapped, as: UTF8.self)])
        guard let ciphertext = answer.data?.ciphertext, ciphertext.hasPrefix("vault:v") else { throw KeyProviderFailure("the key service returned no ciphertext") }
        return Data(ciphertext.utf8)
    }

    /// A new version of the transit key: later wraps use it, and `rewrap` moves older ciphertexts to it.
    public func rotate() async throws {
        _ = try await post("keys/\(key)/rotate", nil)
    }

    public func platformKeyCandidates() async throws -> [SymmetricKey] { [] }
}
