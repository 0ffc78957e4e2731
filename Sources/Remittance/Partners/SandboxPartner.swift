import Foundation
import NzilaCore
import Synchronization

/// A built-in partner that behaves deterministically, for tests and the demo. What it does depends
/// on the recipient's name (case-insensitive):
/// - a word `declined`: every sandbox partner declines;
/// - a word `<partner>fail` (`momofail`, `cashfail`): that partner declines, the others pay;
/// - a word `slowpay`: the first call for a reference answers pending, later calls pay;
/// - a word `timeout`: the first call for a reference throws (outcome unknown), later calls pay;
/// - anything else pays at once.
/// Like a real partner it remembers each reference: asking again returns the first outcome, so a
/// payout is made once per reference however often it is asked. `payouts` counts what it paid.
public final class SandboxPartner: PayoutPartner {
    public let name: String
    public let methods: Set<String>
    /// The word in a recipient's name that makes this partner decline.
    let failWord: String
    let state = Mutex<(outcomes: [String: PayoutOutcome], calls: [String: Int])>(([:], [:]))

    public init(name: String, methods: Set<String>, failWord: String) {
        self.name = name
        self.methods = methods
        self.failWord = failWord
    }

    /// Flutterwave-style mobile money.
    public static let momo = SandboxPartner(name: "sandbox-momo", methods: ["mobile_money"], failWord: "momofail")
    /// Thunes-style cash pickup, bank deposit and mobile wallets.
    public static let cash = SandboxPartner(name: "sandbox-cash", methods: ["cash_pickup", "bank_deposit", "mobile_money"], failWord: "cashfail")

    public struct Unreachable: Error {}

    public func disburse(_ instruction: PayoutInstruction) async throws -> PayoutOutcome {
        let words = Set(instruction.recipient.name.lowercased().split(whereSeparator: { !$0.isLetter }).map(String.init))
        let reference = instruction.reference
        let result: PayoutOutcome? = state.withLock { state in
            state.calls[reference, default: 0] += 1
            if let known = state.outcomes[reference], known != .pending { return known }
            let first = state.calls[reference] == 1
            if words.contains("timeout") && first { return nil }
            let outcome: PayoutOutcome
            if words.contains("declined") || words.contains(failWord) {
                outcome = .declined(reason: "\(name) declined the payout (sandbox rule)")
            } else if words.contains("slowpay") && first {
                outcome = .pending
            } else {
                outcome = .paid(transaction: "\(name)-\(reference.prefix(8))")
            }
            state.outcomes[reference] = outcome
            return outcome
        }
        guard let result else { throw Unreachable() }
        return result
    }

    /// How many references this partner has paid (each at most once).
    public var paidCount: Int {
        state.withLock { $0.outcomes.values.filter { if case .paid = $0 { return true } else { return false } }.count }
    }

    /// How many times a reference was asked about.
    public func calls(_ reference: String) -> Int { state.withLock { $0.calls[reference, default: 0] } }

    /// Whether this partner paid the reference.
    public func paid(_ reference: String) -> Bool {
        state.withLock { if case .paid = $0.outcomes[reference] { return true } else { return false } }
    }
}
