import Foundation
import Logging
import NzilaCore
import NzilaDatabase
import Synchronization

/// One data plane's fan-out of published events to its own live streams. Every instance hears each
/// tenant's new last seq (`nzila_events`, from whichever relay numbered the events) and, if it has
/// streams of that tenant, reads the new range once and offers each event to each of them, in seq
/// order. It remembers how far it fanned out per tenant, so a lost announcement is made up by the
/// next one (or by the relay's sweep): a gap is read, never skipped.
public final class EventHub: Sendable {
    /// Why the platform closes a stream.
    public enum Closing: Sendable, Equatable {
        case slowConsumer(pending: Int)
        case expired
        case revoked
        case shuttingDown

        public var reason: String {
            switch self {
            case .slowConsumer(let pending): "slow consumer: \(pending) events were waiting unread; reconnect and resume"
            case .expired: "the access token expired; reconnect with a fresh one (or send a new auth message before it expires)"
            case .revoked: "the access token was revoked"
            case .shuttingDown: "the server is shutting down; reconnect and resume"
            }
        }
    }

    /// A stream as the hub sees it.
    public struct Subscriber: Sendable {
        public let id: UUID
        /// The member whose events it carries (it is offered only events whose audience names
        /// them); nil for a stream that may see the whole tenant's (staff).
        public let member: UUID?
        /// Takes one event (the stream filters it); false when the stream's queue is full.
        public let offer: @Sendable (PublishedEvent) -> Bool
        /// Ends the stream with a reason.
        public let close: @Sendable (Closing) -> Void
        /// When its token expires (platform time) and the token, for revocation; updated by re-auth.
        public let credential: @Sendable () -> (expiresAt: Date, token: String)

        public init(
            id: UUID, member: UUID? = nil, offer: @escaping @Sendable (PublishedEvent) -> Bool, close: @escaping @Sendable (Closing) -> Void,
            credential: @escaping @Sendable () -> (expiresAt: Date, token: String)
        ) {
            self.id = id
            self.member = member
            self.offer = offer
            self.close = close
            self.credential = credential
        }
    }

    struct Fan {
        var tenant: TenantRef
        var subscribers: [UUID: Subscriber] = [:]
        /// Member streams by member, and the tenant-wide ones: an event is offered to the streams of
        /// its audience and to the tenant-wide ones only, so 10,000 members' streams do not each
        /// look at every event.
        var byMember: [UUID: Set<UUID>] = [:]
        var tenantWide: Set<UUID> = []

        mutating func add(_ subscriber: Subscriber) {
            subscribers[subscriber.id] = subscriber
            if let member = subscriber.member { byMember[member, default: []].insert(subscriber.id) } else { tenantWide.insert(subscriber.id) }
        }

        mutating func remove(_ id: UUID) {
            guard let subscriber = subscribers.removeValue(forKey: id) else { return }
            if let member = subscriber.member {
                byMember[member]?.remove(id)
                if byMember[member]?.isEmpty == true { byMember[member] = nil }
            } else {
                tenantWide.remove(id)
            }
        }

        /// Who is offered `event`, in a stable order.
        func targets(_ event: PublishedEvent) -> [UUID] {
            var ids = tenantWide
            for member in event.audience { ids.formUnion(byMember[member] ?? []) }
            return Array(ids)
        }
        /// The last seq offered to this tenant's streams (nil until the first subscriber's read).
        var fanned: Int64?
        /// The last seq announced.
        var wanted: Int64 = 0
        var pumping = false
    }

    let fans = Mutex<[TenantID: Fan]>([:])
    let session: @Sendable (TenantRef) -> TenantSession
    let logger: Logger
    /// Events read per statement while fanning out.
    let page = 500

    public init(session: @escaping @Sendable (TenantRef) -> TenantSession, logger: Logger) {
        self.session = session
        self.logger = logger
    }

    /// The number of streams open on this instance.
    public var count: Int { fans.withLock { $0.values.reduce(0) { $0 + $1.subscribers.count } } }

    /// Adds a stream; from now on it is offered every event published after the tenant's last seq as
    /// this instance knew it (a stream that wants older ones resumes).
    public func subscribe(_ tenant: TenantRef, _ subscriber: Subscriber) async throws {
        let first = fans.withLock { fans -> Bool in
            var fan = fans[tenant.id] ?? Fan(tenant: tenant)
            fan.tenant = tenant
            fan.add(subscriber)
            let first = fan.fanned == nil && fan.subscribers.count == 1
            fans[tenant.id] = fan
            return first
        }
        guard first else { return }
        let last: Int64
        do {
            last = try await session(tenant).run { try await EventLog($0).bounds().last }
        } catch {
            unsubscribe(tenant: tenant.id, id: subscriber.id)
            throw error
        }
        let pump = fans.withLock { fans -> Bool in
            guard var fan = fans[tenant.id], fan.fanned == nil else { return false }
            fan.fanned = last
            let start = !fan.pumping && fan.wanted > last
            if start { fan.pumping = true }
            fans[tenant.id] = fan
            return start
        }
        if pump { startPump(tenant.id) }
    }

    public func unsubscribe(tenant: TenantID, id: UUID) {
        fans.withLock { fans in
            fans[tenant]?.remove(id)
            if fans[tenant]?.subscribers.isEmpty == true, fans[tenant]?.pumping == false { fans[tenant] = nil }
        }
    }

    /// A relay numbered `tenant`'s events up to `lastSeq`: fan them out if anyone here listens.
    public func announced(tenant: TenantID, lastSeq: Int64) {
        let start = fans.withLock { fans -> Bool in
            guard var fan = fans[tenant] else { return false }
            fan.wanted = max(fan.wanted, lastSeq)
            let start = !fan.pumping && fan.fanned != nil && fan.wanted > fan.fanned!
            if start { fan.pumping = true }
            fans[tenant] = fan
            return start
        }
        if start { startPump(tenant) }
    }

    /// The tenants with streams here (the relay's sweep asks each one's last seq, in case an
    /// announcement was lost).
    public var listening: [TenantRef] { fans.withLock { $0.values.filter { !$0.subscribers.isEmpty }.map(\.tenant) } }

    func startPump(_ tenant: TenantID) {
        Task { await pump(tenant) }
    }

    /// Reads and offers the announced range, page by page, until it has caught up.
    func pump(_ tenantID: TenantID) async {
        while true {
            let next = fans.withLock { fans -> (TenantRef, Int64, Int64)? in
                guard var fan = fans[tenantID] else { return nil }
                guard let fanned = fan.fanned, fan.wanted > fanned, !fan.subscribers.isEmpty else {
                    fan.pumping = false
                    if let fanned = fan.fanned { fan.fanned = max(fanned, fan.wanted) }
                    if fan.subscribers.isEmpty { fans[tenantID] = nil } else { fans[tenantID] = fan }
                    return nil
                }
                return (fan.tenant, fanned, fan.wanted)
            }
            guard let (tenant, after, upTo) = next else { return }
            let events: [PublishedEvent]
            do {
                events = try await session(tenant).run { try await EventLog($0).events(after: after, upTo: upTo, limit: page) }
            } catch {
                logger.warning("event fan-out could not read the outbox; the next announcement retries", metadata: [
                    "tenant": "\(tenant.slug)", "error": "\(String(reflecting: error))",
                ])
                fans.withLock { $0[tenantID]?.pumping = false }
                return
            }
            // Who gets what, decided under the lock; offered outside it, in seq order per stream.
            let plan = fans.withLock { fans -> [(Subscriber, [PublishedEvent])] in
                guard let fan = fans[tenantID] else { return [] }
                var perStream: [UUID: [PublishedEvent]] = [:]
                for event in events {
                    for id in fan.targets(event) { perStream[id, default: []].append(event) }
                }
                return perStream.compactMap { id, events in fan.subscribers[id].map { ($0, events) } }
            }
            var slow: [(Subscriber, Int)] = []
            for (subscriber, offered) in plan {
                for event in offered where !subscriber.offer(event) {
                    slow.append((subscriber, offered.count))
                    break
                }
            }
            for (subscriber, pending) in slow {
                unsubscribe(tenant: tenantID, id: subscriber.id)
                subscriber.close(.slowConsumer(pending: pending))
            }
            // A short page means the range is read; a missing seq (purged) is passed over.
            let reached = events.count < page ? upTo : events.last!.seq
            fans.withLock { $0[tenantID]?.fanned = reached }
        }
    }

    /// Closes the streams whose token expired by `now` or was revoked.
    public func checkCredentials(now: Date, isRevoked: (String) -> Bool) {
        let all = fans.withLock { $0.map { ($0.key, Array($0.value.subscribers.values)) } }
        for (tenant, subscribers) in all {
            for subscriber in subscribers {
                let credential = subscriber.credential()
                let closing: Closing? = credential.expiresAt <= now ? .expired : isRevoked(credential.token) ? .revoked : nil
                guard let closing else { continue }
                unsubscribe(tenant: tenant, id: subscriber.id)
                subscriber.close(closing)
            }
        }
    }

    /// Closes every stream (graceful shutdown).
    public func closeAll() {
        let all = fans.withLock { fans in
            defer { fans.removeAll() }
            return fans.values.flatMap(\.subscribers.values)
        }
        for subscriber in all { subscriber.close(.shuttingDown) }
    }
}
