import Foundation
import NzilaCore
import Testing

@Suite("Secrets")
struct CryptoTests {
    @Test func argon2idHashesAndVerifies() throws {
        let hasher = PasswordHasher(memoryKiB: 4096, iterations: 1)
        let hash = try hasher.hash("a long passphrase")
        #expect(hash.hasPrefix("$argon2id$v=19$m=4096,t=1,p=1$"))
        #expect(hasher.verify("a long passphrase", against: hash))
        #expect(!hasher.verify("a long passphrasE", against: hash))
        #expect(!hasher.verify("a long passphrase", against: "not a hash"))
        #expect(try hasher.hash("a long passphrase") != hash, "salts must differ")
    }

    @Test func sealedSecretsOpenOnlyWithTheirKey() throws {
        let box = try SecretBox(hex: SecretBox.generateHex())
        let sealed = try box.seal(Data("private key".utf8))
        #expect(!sealed.contains(Data("private key".utf8)))
        #expect(try box.open(sealed) == Data("private key".utf8))
        let other = try SecretBox(hex: SecretBox.generateHex())
        #expect(throws: SecretBox.Failure.unsealFailed) { try other.open(sealed) }
        #expect(throws: SecretBox.Failure.badMasterKey) { try SecretBox(hex: "abc") }
    }

    @Test func constantTimeComparison() {
        #expect(constantTimeEquals(Array("abc".utf8), Array("abc".utf8)))
        #expect(!constantTimeEquals(Array("abc".utf8), Array("abd".utf8)))
        #expect(!constantTimeEquals(Array("abc".utf8), Array("ab".utf8)))
    }

    @Test func opaqueTokensAreRandomAndStoredAsDigests() {
        let a = OpaqueToken.generate()
        #expect(a != OpaqueToken.generate())
        #expect(OpaqueToken.digest(a).count == 32)
    }
}
