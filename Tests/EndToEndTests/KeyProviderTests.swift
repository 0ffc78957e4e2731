import Crypto
import DataPlane
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NzilaCore
import NzilaDatabase
import NzilaPartners
import PostgresNIO
import Synchronization
import Testing

/// Issue 26: the master key behind a `KeyProvider` — a key service speaking Vault's transit API (a stand-in here),
/// and `nzila keys rotate-master`, which re-wraps every data key under the newest master.
@Suite("Key providers and master rotation")
struct KeyProviderTests {
    /// Vault's transit engine as far as Nzila uses it: versioned AES-256-GCM keys, `vault:v<n>:<base64>` ciphertexts.
    final class VaultStandIn: Sendable {
        static let token = "hvs.test-token-5f1e9c"
        let versions = Mutex<[String: [SymmetricKey]]>(["nzila": [SymmetricKey(size: .bits256)]])
        let calls = Mutex<[String]>([])

        func encrypt(_ plaintext: Data, key: String) -> String? {
            versions.withLock { all in
                guard let keys = all[key], let box = try? AES.GCM.seal(plaintext, using: keys[keys.count - 1]).combined else { return nil }
                return "vault:v\(keys.count):\(box.base64EncodedString())"
            }
        }

        func decrypt(_ ciphertext: String, key: String) -> Data? {
            let parts = ciphertext.split(separator: ":", maxSplits: 2)
            guard parts.count == 3, parts[0] == "vault", let version = Int(parts[1].dropFirst()), let box = Data(base64Encoded: String(parts[2])) else { return nil }
            return versions.withLock { all in
                guard let keys = all[key], (1...keys.count).contains(version), let sealed = try? AES.GCM.SealedBox(combined: box) else { return nil }
                return try? AES.GCM.open(sealed, using: keys[version - 1])
            }
        }

        var application: some ApplicationProtocol {
            let router = Router()
            router.post("/v1/transit/{operation}/{key}") { request, context -> Response in
                let operation = context.parameters.get("operation") ?? "", key = context.parameters.get("key") ?? ""
                self.calls.withLock { $0.append(operation) }
                guard request.headers[HTTPField.Name("X-Vault-Token")!] == Self.token else { return StandIns.json(403, ["errors": ["permission denied"]]) }
                let body = (try? JSONSerialization.jsonObject(with: Data(buffer: try await request.body.collect(upTo: 1 << 16)))) as? [String: String] ?? [:]
                switch operation {
                case "encrypt":
                    guard let plaintext = body["plaintext"].flatMap({ Data(base64Encoded: $0) }), let ciphertext = self.encrypt(plaintext, key: key) else {
                        return StandIns.json(400, ["errors": ["encryption key not found or bad plaintext"]])
                    }
                    return StandIns.json(200, ["data": ["ciphertext": ciphertext]])
                case "decrypt", "rewrap":
                    guard let plaintext = body["ciphertext"].flatMap({ self.decrypt($0, key: key) }) else {
                        return StandIns.json(400, ["errors": ["invalid ciphertext: unable to decrypt"]])
                    }
                    if operation == "decrypt" { return StandIns.json(200, ["data": ["plaintext": plaintext.base64EncodedString()]]) }
                    return StandIns.json(200, ["data": ["ciphertext": self.encrypt(plaintext, key: key) ?? ""]])
                default:
                    return StandIns.json(404, ["errors": ["no handler"]])
                }
            }
            router.post("/v1/transit/keys/{key}/rotate") { request, context -> Response in
                guard request.headers[HTTPField.Name("X-Vault-Token")!] == Self.token else { return StandIns.json(403, ["errors": ["permission denied"]]) }
                let key = context.parameters.get("key") ?? ""
                self.versions.withLock { $0[key, default: []].append(SymmetricKey(size: .bits256)) }
                return Response(status: .noContent)
            }
            return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        }
    }

    @Test("Vault transit: data keys wrapped and unwrapped by the service; a rotated key version re-wraps; a bad token is a clear error that never names it")
    func vaultTransit() async throws {
        let standIn = VaultStandIn()
        try await standIn.application.test(.live) { api in
            let address = "http://127.0.0.1:\(api.port!)"
            let vault = VaultTransitKeyProvider(address: address, token: VaultStandIn.token, key: "nzila", timeout: .seconds(30))
            let dataKey = SymmetricKey(size: .bits256)
            let wrapped = try await vault.wrap(dataKey)
            #expect(String(decoding: wrapped, as: UTF8.self).hasPrefix("vault:v1:"))
            #expect(try await vault.unwrap(wrapped) == dataKey)
            #expect(try await vault.platformKeyCandidates().isEmpty, "a key service's deployment starts with a random platform key")
            try await vault.rotate()
            let moved = try await vault.rewrap(wrapped)
            #expect(String(decoding: moved, as: UTF8.self).hasPrefix("vault:v2:"))
            let reopened = try await vault.unwrap(moved)
            #expect(reopened == dataKey)
            #expect(try await vault.unwrap(wrapped) == dataKey, "older versions still decrypt until the service's minimum version says otherwise")

            let wrong = VaultTransitKeyProvider(address: address, token: "hvs.wrong-token-000", key: "nzila", timeout: .seconds(30))
            do {
                _ = try await wrong.unwrap(moved)
                Issue.record("a wrong token unwrapped a key")
            } catch let failure as KeyProviderFailure {
                #expect(failure.description.contains("HTTP 403") && failure.description.contains("permission denied"), "\(failure)")
                #expect(!failure.description.contains("hvs."), "the token is never said")
            }
            await #expect(throws: KeyProviderFailure.self) { _ = try await vault.unwrap(Data("not-a-vault-ciphertext".utf8)) }
            #expect(!vault.name.contains(VaultStandIn.token))
        }
    }

    @Test("a tenant's data keys behind Vault: sealed fields open through the service; rotate-master re-wraps them under the new key version and they still open")
    func vaultTenant() async throws {
        let harness = try await Harness.get()
        let standIn = VaultStandIn()
        try await standIn.application.test(.live) { api in
            let vault = VaultTransitKeyProvider(address: "http://127.0.0.1:\(api.port!)", token: VaultStandIn.token, key: "nzila", timeout: .seconds(30))
            let sealed = try await Self.tenantWithDocument(harness, keys: vault, number: "P0987654")
            let stored = try await Self.wrappedKeys(harness, sealed)
            #expect(stored.count == 1 && stored.allSatisfy { $0.hasPrefix("vault:v1:") }, "\(stored)")

            try await vault.rotate()
            let report = try await MasterRotation.run(
                client: harness.owner, provider: vault, now: Date(timeIntervalSince1970: 1_800_000_000), logger: harness.logger, tenants: [sealed.tenant], platform: false)
            #expect(report.platformKeys == 0 && report.tenants == 1 && report.dataKeys == 1, "\(report)")
            #expect(try await Self.wrappedKeys(harness, sealed).allSatisfy { $0.hasPrefix("vault:v2:") })
            // A plane started afresh (no key in memory) opens the number through the service, under the new version.
            #expect(try await Self.reveal(harness, keys: vault, sealed) == "P0987654")
            #expect(standIn.calls.withLock { $0 }.contains("decrypt"))
            // The key service refusing (a wrong token) is a 503 to retry, never a 500.
            let refusing = VaultTransitKeyProvider(address: "http://127.0.0.1:\(api.port!)", token: "hvs.wrong-token-000", key: "nzila", timeout: .seconds(30))
            try await harness.withPlanes(keys: refusing) { planes in
                let reply = try await planes.data(
                    .post, "/v1/members/\(sealed.member)/kyc/documents/\(sealed.document)/reveal", token: sealed.staffToken, tenant: sealed.slug, json: [:])
                #expect(reply.status == .serviceUnavailable && reply.problemCode == "key-service-unavailable" && reply.headers[.retryAfter] == "30", "\(reply.text)")
                #expect(!reply.text.contains("hvs."))
            }
        }
    }

    @Test("a local master rotated: with the old master as previous, rotate-master re-wraps every data key; afterwards the new master alone opens them")
    func localMaster() async throws {
        let harness = try await Harness.get()
        let sealed = try await Self.tenantWithDocument(harness, keys: harness.keys, number: "N1234567")
        let newHex = SecretBox.generateHex()
        let during = LocalKeyProvider(current: .hex(newHex), previous: .hex(harness.masterKeyHex))
        let report = try await MasterRotation.run(
            client: harness.owner, provider: during, now: Date(timeIntervalSince1970: 1_800_000_000), logger: harness.logger, tenants: [sealed.tenant], platform: false)
        #expect(report.tenants == 1 && report.dataKeys == 1)
        let after = LocalKeyProvider(current: .hex(newHex))
        #expect(try await Self.reveal(harness, keys: after, sealed) == "N1234567")
        // The old master alone no longer opens the tenant's key.
        let wrapped = try #require(try await Self.wrappedKeys(harness, sealed).first)
        await #expect(throws: KeyProviderFailure.self) { _ = try await harness.keys.unwrap(Data(wrapped.utf8)) }
        // A rerun is harmless: the keys are re-wrapped under the same master again.
        let again = try await MasterRotation.run(
            client: harness.owner, provider: during, now: Date(timeIntervalSince1970: 1_800_000_100), logger: harness.logger, tenants: [sealed.tenant], platform: false)
        #expect(again.dataKeys == 1)
        #expect(try await Self.reveal(harness, keys: after, sealed) == "N1234567")
    }

    struct Sealed {
        let slug: String
        let tenant: UUID
        let staffToken: String
        let member: String
        let document: String
    }

    /// A fresh tenant whose first sealed field (a passport number) is sealed by a data plane on `keys`.
    static func tenantWithDocument(_ harness: Harness, keys: any KeyProvider, number: String) async throws -> Sealed {
        let made = Mutex<Sealed?>(nil)
        try await harness.withPlanes(keys: keys) { planes in
            let f = try await planes.provisionFixture(prefix: "keys")
            let reply = try await planes.data(
                .post, "/v1/members/\(f.members[0].id)/kyc/documents", token: f.staffToken, tenant: f.slug,
                json: ["kind": "passport", "number": number, "issuing_country": "NG", "expires_on": "2031-05-01"])
            try #require(reply.status == .created, "\(reply.text)")
            let sealed = Sealed(
                slug: f.slug, tenant: try #require(UUID(uuidString: f.tenantID)), staffToken: f.staffToken, member: f.members[0].id,
                document: try #require(reply.json["id"] as? String))
            made.withLock { $0 = sealed }
        }
        return try #require(made.withLock { $0 })
    }

    /// The document's number, revealed by a new data plane (nothing in memory) on `keys`; the staff token is the
    /// platform's (signed with its keys), so it is good on any plane until it expires.
    static func reveal(_ harness: Harness, keys: any KeyProvider, _ sealed: Sealed) async throws -> String? {
        let number = Mutex<String?>(nil)
        try await harness.withPlanes(keys: keys) { planes in
            let reply = try await planes.data(
                .post, "/v1/members/\(sealed.member)/kyc/documents/\(sealed.document)/reveal", token: sealed.staffToken, tenant: sealed.slug, json: [:])
            number.withLock { $0 = reply.json["number"] as? String }
        }
        return number.withLock { $0 }
    }

    static func wrappedKeys(_ harness: Harness, _ sealed: Sealed) async throws -> [String] {
        try await harness.owner.transaction(logger: harness.logger) { connection in
            try await connection.query("SELECT set_config('app.tenant_id', \(sealed.tenant.uuidString), true)", logger: harness.logger)
            return try await connection.query(PostgresQuery(unsafeSQL: "SELECT sealed_key FROM t_\(sealed.slug).tenant_data_keys ORDER BY id"), logger: harness.logger)
                .all(Data.self).map { (bytes: Data) in String(decoding: bytes, as: UTF8.self) }
        }
    }
}
