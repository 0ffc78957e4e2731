import Crypto
import Foundation
import NzilaValues

/// Who is paid in which cycle. By join order, or by a **verifiable draw**: at creation the circle
/// publishes `commitment(seed)`; at start it reveals the seed, and the order is this function of the
/// seed and the members' ids, which any member can recompute:
///
///     key(member) = hex(SHA-256(seed_hex + ":" + member_id_lowercase))
///     order       = members sorted by key ascending (then by id, which never ties in practice)
///
/// where `seed_hex` is the revealed seed as its 64 lower-case hex digits.
public enum Rotation {
    public enum Order: String, Sendable, Codable, CaseIterable {
        case join, random
    }

    /// A fresh seed: 32 random bytes as lower-case hex.
    public static func newSeed() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.hexString
    }

    /// What a circle publishes at creation: the hex SHA-256 of the seed's text.
    public static func commitment(_ seed: String) -> String {
        Data(SHA256.hash(data: Data(seed.utf8))).hexString
    }

    /// Whether a revealed seed is the one committed to (both are public at that point).
    public static func verify(seed: String, commitment published: String) -> Bool {
        commitment(seed) == published.lowercased()
    }

    /// The payout order: `members` as they joined, or drawn from `seed`.
    public static func order(_ members: [MemberID], by order: Order, seed: String?) -> [MemberID] {
        guard order == .random, let seed else { return members }
        let prefix = seed.lowercased() + ":"
        let keyed: [(key: String, id: MemberID)] = members.map { member in
            let digest = SHA256.hash(data: Data((prefix + member.description).utf8))
            return (Data(digest).hexString, member)
        }
        return keyed.sorted { $0.key != $1.key ? $0.key < $1.key : $0.id < $1.id }.map(\.id)
    }
}
