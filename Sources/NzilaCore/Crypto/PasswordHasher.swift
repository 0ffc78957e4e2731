import CArgon2
import Crypto
import Foundation
import Synchronization

/// Argon2id password hashing through libargon2. Parameters follow OWASP's minimum for Argon2id
/// (19 MiB, 2 passes, 1 lane); the encoded hash carries them, so they can rise later without a migration.
public struct PasswordHasher: Sendable {
    public var memoryKiB: UInt32
    public var iterations: UInt32
    /// Counts the hashes and checks this hasher ran, when given (a test shows that a refused flood of
    /// logins cost no Argon2id at all).
    public var work: Work?

    public init(memoryKiB: UInt32 = 19 * 1024, iterations: UInt32 = 2, work: Work? = nil) {
        self.memoryKiB = memoryKiB
        self.iterations = iterations
        self.work = work
    }

    /// How many times Argon2id ran.
    public final class Work: Sendable {
        let runs = Atomic<Int>(0)
        public init() {}
        public var count: Int { runs.load(ordering: .relaxed) }
        func add() { runs.add(1, ordering: .relaxed) }
    }

    public enum Failure: Error { case hashing(Int32) }

    /// Hashes with a fresh 16-byte salt into the PHC string form `$argon2id$v=19$m=…`.
    public func hash(_ password: String) throws -> String {
        work?.add()
        let salt = [UInt8](SymmetricKey(size: .bits128).withUnsafeBytes { Data($0) })
        let passwordBytes = Array(password.utf8)
        let encodedLength = argon2_encodedlen(iterations, memoryKiB, 1, UInt32(salt.count), 32, Argon2_id)
        var encoded = [CChar](repeating: 0, count: encodedLength)
        let status = argon2id_hash_encoded(
            iterations, memoryKiB, 1, passwordBytes, passwordBytes.count, salt, salt.count, 32, &encoded, encoded.count)
        guard status == ARGON2_OK.rawValue else { throw Failure.hashing(status) }
        return String(decoding: encoded.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Checks a password against a stored hash; libargon2 compares the digests in constant time.
    public func verify(_ password: String, against encoded: String) -> Bool {
        work?.add()
        let passwordBytes = Array(password.utf8)
        return encoded.withCString { argon2id_verify($0, passwordBytes, passwordBytes.count) } == ARGON2_OK.rawValue
    }

    /// `hash` on a thread of its own: Argon2id is tens of milliseconds of CPU that would otherwise hold one of the task
    /// pool's few threads (two on a 2-core machine), so a burst of logins or enrolments stalled every other request.
    public func hashed(_ password: String) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async { continuation.resume(with: Result { try self.hash(password) }) }
        }
    }

    /// `verify` on a thread of its own (see `hashed`).
    public func verified(_ password: String, against encoded: String) async -> Bool {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async { continuation.resume(returning: self.verify(password, against: encoded)) }
        }
    }

    /// A hash of a random password, verified against when the user is unknown so that a wrong email
    /// costs the same time as a wrong password.
    public static let decoy: String = (try? PasswordHasher().hash(UUID().uuidString)) ?? ""
}
