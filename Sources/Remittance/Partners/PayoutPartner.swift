import Foundation
import NzilaCore
import NzilaPartners
import Synchronization

/// What a partner is asked to pay out. `reference` is the order id: the partner de-duplicates on it,
/// so asking again after a crash or a timeout returns the first outcome and never pays twice.
public struct PayoutInstruction: Sendable, Equatable {
    public let reference: String
    public let corridor: String
    public let amount: Money
    public let recipient: Recipient
    /// Who sends (a remittance partner must know, under the travel rule); nil where the partner's API does not ask.
    public let sender: PayoutSender?
    /// Where the partner posts the transfer's status changes for this tenant (nil: polling only).
    public let callbackURL: String?

    public init(reference: String, corridor: String, amount: Money, recipient: Recipient, sender: PayoutSender? = nil, callbackURL: String? = nil) {
        self.reference = reference
        self.corridor = corridor
        self.amount = amount
        self.recipient = recipient
        self.sender = sender
        self.callbackURL = callbackURL
    }
}

/// The member who sends, as a payout partner is told: full name and country of residence (ISO 3166 alpha-2).
public struct PayoutSender: Sendable, Equatable {
    public let name: String
    public let country: String

    public init(name: String, country: String) {
        self.name = name
        self.country = country
    }
}

/// A partner's answer about one reference.
public enum PayoutOutcome: Sendable, Equatable {
    /// Paid to the recipient; `transaction` is the partner's own id for it.
    case paid(transaction: String)
    /// Accepted, not finished: ask again later with the same reference.
    case pending
    /// Definitively refused (nothing was or will be paid under this reference): another partner may be tried.
    case declined(reason: String)

    /// The outcome's name, for a span or a log line (never the reason, which may name the recipient).
    public var label: String {
        switch self {
        case .paid: "paid"
        case .pending: "pending"
        case .declined: "declined"
        }
    }
}

/// A payout partner behind one protocol (Flutterwave-style mobile money, Thunes-style cash pickup
/// and bank deposit). A thrown error means the outcome is unknown (timeout, connection lost): the
/// worker asks the same partner again with the same reference rather than risk paying twice elsewhere.
public protocol PayoutPartner: Sendable {
    var name: String { get }
    var methods: Set<String> { get }
    func disburse(_ instruction: PayoutInstruction) async throws -> PayoutOutcome
}

/// The partners a data plane can pay through, and a circuit breaker per partner; and the funding providers orders can
/// be funded through (Interac, cards).
public final class PayoutPartners: Sendable {
    /// The connections as last built from the registry (replaced whole by `adopt` when the registry changes).
    struct Connections: Sendable {
        var partners: [String: any PayoutPartner]
        var funding: [String: any FundingProvider]
        /// The secret each partner signs its status callbacks with, by partner name (none: it has no callbacks).
        var callbackSecrets: [String: String]
        var tenants: ConnectionTenants
        /// Connections replaced or removed by a reload, kept for what is already under way with them: an attempt in
        /// flight read back and settled, its callbacks, a funding provider's events for requests it made. Never chosen
        /// for new work.
        var retiredPartners: [String: any PayoutPartner] = [:]
        var retiredFunding: [String: any FundingProvider] = [:]
        var retiredSecrets: [String: String] = [:]
    }

    let connections: Mutex<Connections>
    /// A breaker per partner name, kept across reloads (a partner still failing stays tripped).
    let breakers: Mutex<[String: CircuitBreaker]>
    let breaker: CircuitBreaker
    let clock: @Sendable () -> Int64

    /// Which tenants may use each registry connection; checked when a funding provider is taken for a tenant.
    public var tenants: ConnectionTenants { connections.withLock { $0.tenants } }

    public init(
        _ partners: [any PayoutPartner], funding: [any FundingProvider] = [], callbackSecrets: [String: String] = [:],
        tenants: ConnectionTenants = ConnectionTenants(), breaker: CircuitBreaker = CircuitBreaker(),
        clockMs: @escaping @Sendable () -> Int64 = PayoutPartners.monotonicMs
    ) {
        self.connections = Mutex(Connections(
            partners: Dictionary(uniqueKeysWithValues: partners.map { ($0.name, $0) }),
            funding: Dictionary(uniqueKeysWithValues: funding.map { ($0.name, $0) }), callbackSecrets: callbackSecrets, tenants: tenants))
        self.breaker = breaker
        self.breakers = Mutex(Dictionary(uniqueKeysWithValues: partners.map { ($0.name, breaker) }))
        self.clock = clockMs
    }

    /// Serves `other`'s connections from now on (the registry changed). `keeping`: connections the registry still
    /// names that this process could not build again (a credential it cannot resolve now): served as they were, not
    /// dropped. What `other` replaces or leaves out is retired: still there for attempts, callbacks and events already
    /// under way, never chosen again. Each partner keeps its breaker; a new one starts closed.
    public func adopt(_ other: PayoutPartners, keeping: Set<String> = []) {
        let fresh = other.connections.withLock { $0 }
        let names = connections.withLock { current -> Set<String> in
            var next = fresh
            for name in keeping {
                if next.partners[name] == nil, let kept = current.partners[name] { next.partners[name] = kept }
                if next.funding[name] == nil, let kept = current.funding[name] { next.funding[name] = kept }
                if next.callbackSecrets[name] == nil, let kept = current.callbackSecrets[name] { next.callbackSecrets[name] = kept }
            }
            next.retiredPartners = current.retiredPartners.merging(current.partners) { $1 }.filter { next.partners[$0.key] == nil }
            next.retiredFunding = current.retiredFunding.merging(current.funding) { $1 }.filter { next.funding[$0.key] == nil }
            // A removed connection's secret stays for its callbacks; a current one's secret is what the registry says now.
            next.retiredSecrets = current.retiredSecrets.merging(current.callbackSecrets) { $1 }
                .filter { next.partners[$0.key] == nil && next.funding[$0.key] == nil }
            current = next
            return Set(next.partners.keys)
        }
        breakers.withLock { breakers in
            for name in names where breakers[name] == nil { breakers[name] = breaker }
        }
    }

    /// The names of the partners and funding providers served now.
    public var names: Set<String> { connections.withLock { Set($0.partners.keys).union($0.funding.keys) } }

    /// Milliseconds on this process's monotonic clock: a breaker's cooldown protects the platform
    /// from a failing partner in real time, whatever the business clock says (a test clock moved a
    /// week forward must not close every breaker), and a wall-clock step cannot disturb it.
    public static let monotonicMs: @Sendable () -> Int64 = {
        let elapsed = ContinuousClock.now - processStart
        return elapsed.components.seconds * 1_000 + elapsed.components.attoseconds / 1_000_000_000_000_000
    }
    static let processStart = ContinuousClock.now

    /// The built-in deterministic partners (see `SandboxPartner`).
    public static func sandbox() -> PayoutPartners {
        PayoutPartners([SandboxPartner.momo, SandboxPartner.cash])
    }

    /// The partner an attempt names: a current connection, or one a reload retired (an attempt already under way stays
    /// with its partner: asking another could pay twice).
    public func partner(named name: String) -> (any PayoutPartner)? { connections.withLock { $0.partners[name] ?? $0.retiredPartners[name] } }

    /// A current funding connection (for new requests).
    public func fundingProvider(named name: String) -> (any FundingProvider)? { connections.withLock { $0.funding[name] } }

    /// The funding connection whose events are received: a current one or one a reload retired (its requests were
    /// made; their money must still be matched to their orders, which name the connection).
    public func fundingProvider(receiving name: String) -> (any FundingProvider)? {
        connections.withLock { $0.funding[name] ?? $0.retiredFunding[name] }
    }

    /// The funding provider, if the tenant (its slug) may use the connection.
    public func fundingProvider(named name: String, for tenant: String) -> (any FundingProvider)? {
        connections.withLock { $0.tenants.allows(name, tenant: tenant) ? $0.funding[name] : nil }
    }

    /// The secret a partner's status callbacks are signed with (nil: the partner sends none).
    public func callbackSecret(_ name: String) -> String? { connections.withLock { $0.callbackSecrets[name] ?? $0.retiredSecrets[name] } }

    /// The next partner to try for a corridor's partner list and a method: in the corridor's order,
    /// serving the method, not tried yet for this order, not tripped, and (with `tenant`, a slug) a connection the
    /// registry still lets that tenant use — one narrowed after the tenant's configuration named it is passed over like a
    /// tripped one. An attempt already in flight stays with its partner whatever happens to the registry (asking another
    /// could pay twice), and that partner's status callbacks for it are still taken.
    public func next(corridorPartners: [String], method: String, tried: Set<String>, tenant: String? = nil) -> (any PayoutPartner)? {
        let now = clock()
        let current = connections.withLock { $0 }
        for name in corridorPartners where !tried.contains(name) {
            guard let partner = current.partners[name], partner.methods.contains(method) else { continue }
            if let tenant, !current.tenants.allows(name, tenant: tenant) { continue }
            if breakers.withLock({ $0[name]?.allows(nowMs: now) ?? true }) { return partner }
        }
        return nil
    }

    /// Feeds a partner's breaker; an unknown outcome counts as a failure of the partner.
    public func record(_ name: String, failure: Bool) {
        let now = clock()
        breakers.withLock { $0[name]?.record(failure: failure, nowMs: now) }
    }

    public func breakerState(_ name: String) -> CircuitBreaker.State? { breakers.withLock { $0[name]?.state } }
}
