import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import NzilaCore
import NzilaDatabase
import Synchronization

/// `GET /v1/stream`: a tenant's events, live, over a WebSocket (docs/EVENTS.md has the protocol).
///
/// The upgrade is decided on its own router: the tenant is resolved as for every request and, if
/// the upgrade carries `Authorization: Bearer`, the caller is authenticated there; any refusal lets
/// the request fall through to the HTTP route of the same path, which answers it as a problem
/// (401, 403, 404, 429…; 426 to a plain GET that would have been admitted).
struct StreamRequestContext: RequestContext, WebSocketRequestContext {
    var coreContext: CoreRequestContextStorage
    let webSocket: WebSocketHandlerReference<Self>
    let remoteAddress: SocketAddress?
    /// What the upgrade decision admitted, for the connection's handler.
    let admission = StreamAdmission()

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.webSocket = .init()
        self.remoteAddress = source.channel.remoteAddress
    }
}

final class StreamAdmission: Sendable {
    let value = Mutex<(TenantRef, StreamCaller?)?>(nil)
}

/// An authenticated stream caller: who, with which token, until when (platform time).
struct StreamCaller: Sendable {
    let principal: Principal
    let token: String
    let expiresAt: Date
}

extension DataPlane {
    /// The topics this plane's modules declare, by name.
    var streamTopics: [String: StreamTopic] {
        let platform = [StreamTopic(name: "webhooks", eventDomain: "webhook", staffPermission: .manageWebhooks, tenantDomain: nil)]
        return Dictionary((modules.flatMap(\.topics) + platform).map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The live topic families (`prices` for `prices:<symbol>`) this plane's modules declare, by family.
    var liveFamilies: [String: any LiveTopicFamily] {
        Dictionary(modules.flatMap(\.liveTopics).map { ($0.family, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The router that decides WebSocket upgrades.
    func streamUpgradeRouter() -> Router<StreamRequestContext> {
        let router = Router(context: StreamRequestContext.self)
        let topics = streamTopics
        let families = liveFamilies
        router.ws(
            "/v1/stream",
            shouldUpgrade: { request, context in
                let tenant = try await resolveTenant(request)
                var caller: StreamCaller?
                if let token = request.bearerToken {
                    let (principal, expiresAt) = try await authenticate(token: token, tenant: tenant)
                    try await admit(tenant, caller: principal)
                    caller = StreamCaller(principal: principal, token: token, expiresAt: expiresAt)
                } else {
                    let address = ClientAddress.key(
                        peer: context.remoteAddress?.ipAddress, forwardedFor: request.headers[.xForwardedFor], trusted: settings.trustedProxies)
                    try await admit(tenant, caller: nil, address: address)
                }
                context.admission.value.withLock { $0 = (tenant, caller) }
                return .upgrade([:])
            },
            onUpgrade: { inbound, outbound, context in
                guard let (tenant, caller) = context.requestContext.admission.value.withLock({ $0 }) else { return }
                let stream = StreamConnection(plane: self, tenant: tenant, topics: topics, families: families, caller: caller, logger: context.logger)
                await stream.serve(inbound: inbound, outbound: outbound)
            })
        return router
    }

    /// The HTTP side of `/v1/stream`: what a request that was not upgraded is told.
    func addStreamRoute(_ routes: TenantRoutes) {
        routes.openRoute(.get, "/v1/stream", "Live events over a WebSocket (upgrade); docs/EVENTS.md") { request, context in
            if let token = request.bearerToken { _ = try await authenticate(token: token, tenant: context.tenant) }
            throw Problem(
                HTTPResponse.Status(code: 426, reasonPhrase: "Upgrade Required"), "upgrade-required", "Upgrade required",
                detail: "GET /v1/stream is a WebSocket: send Connection: Upgrade and Upgrade: websocket.", headers: [.upgrade: "websocket"])
        }
    }
}

/// One live stream: authentication (at the upgrade or by a first message), the topics it follows,
/// its bounded queue of events, replay on `resume`, and its end.
final class StreamConnection: Sendable {
    enum Outgoing: Sendable {
        case event(PublishedEvent)
        case control([String: any Sendable])
        case resume(after: Int64)
        case live(LiveMessage)
    }

    /// How many `<family>:<key>` topics one stream may follow.
    static let liveLimit = 100

    let id = UUID()
    let plane: DataPlane
    let tenant: TenantRef
    let topics: [String: StreamTopic]
    let families: [String: any LiveTopicFamily]
    /// The `<family>:<key>` topics followed.
    let followedLive = Mutex<Set<String>>([])
    let caller: Mutex<StreamCaller?>
    let subscribed = Mutex<Set<String>>([])
    let queue: AsyncStream<Outgoing>
    let continuation: AsyncStream<Outgoing>.Continuation
    let closing = Mutex<(code: WebSocketErrorCode, reason: String)?>(nil)
    let writer = Mutex<Task<Void, Never>?>(nil)
    let logger: Logger

    init(plane: DataPlane, tenant: TenantRef, topics: [String: StreamTopic], families: [String: any LiveTopicFamily], caller: StreamCaller?, logger: Logger) {
        self.families = families
        self.plane = plane
        self.tenant = tenant
        self.topics = topics
        self.caller = Mutex(caller)
        self.logger = logger
        (queue, continuation) = AsyncStream.makeStream(of: Outgoing.self, bufferingPolicy: .bufferingOldest(max(1, plane.settings.streamQueueLimit)))
    }

    /// Whether this stream carries `event`: a followed topic of an enabled domain, and the caller's
    /// own (a member) or readable by their role (staff).
    /// The topic that carries `event`.
    func topic(of event: PublishedEvent) -> StreamTopic? {
        topics.values.first { $0.carries(event.type) }
    }

    func wants(_ event: PublishedEvent) -> Bool {
        guard let caller = caller.withLock({ $0 }), let topic = topic(of: event) else { return false }
        guard subscribed.withLock({ $0.contains(topic.name) }) else { return false }
        if caller.principal.role == .member { return event.audience.contains(caller.principal.id) }
        return caller.principal.role.may(topic.staffPermission)
    }

    /// Ends the stream with `code` and `reason` (the first reason wins); the writer sends the close.
    func close(_ code: WebSocketErrorCode, _ reason: String, now: Bool = false) {
        let first = closing.withLock { closing -> Bool in
            guard closing == nil else { return false }
            closing = (code, reason)
            return true
        }
        guard first else { return }
        continuation.finish()
        // A consumer too slow to read may hold the writer in a write: cancel it.
        if now { writer.withLock { $0 }?.cancel() }
    }

    func serve(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        Observability.adjust("nzila_streams_open", by: 1)
        defer { Observability.adjust("nzila_streams_open", by: -1) }
        let writing = Task { await write(outbound) }
        writer.withLock { $0 = writing }
        var watchdog: Task<Void, Never>?
        if caller.withLock({ $0 }) == nil {
            let seconds = plane.settings.streamAuthSeconds
            watchdog = Task { [weak self] in
                // A protocol timeout on the wire, not business time.
                try? await Task.sleep(for: .seconds(seconds))
                guard let self, !Task.isCancelled, self.caller.withLock({ $0 }) == nil else { return }
                self.close(.policyViolation, "authenticate within \(Self.seconds(seconds)): send {\"action\":\"auth\",\"token\":\"…\"} first")
            }
        } else {
            await admitted()
        }
        do {
            for try await message in inbound.messages(maxSize: 16 << 10) {
                guard closing.withLock({ $0 }) == nil else { break }
                switch message {
                case .text(let text): await handle(text)
                case .binary: reply(error: "bad-message", "Send text frames of JSON.")
                }
            }
        } catch {
            logger.debug("stream read ended", metadata: ["error": "\(error)"])
        }
        watchdog?.cancel()
        continuation.finish()
        await writing.value
        plane.events.unsubscribe(tenant: tenant.id, id: id)
        for family in families.values { family.unfollow(id: id, key: nil) }
    }

    static func seconds(_ value: Double) -> String { value == value.rounded() ? "\(Int(value)) s" : "\(value) s" }

    /// Registers with the hub and says so.
    func admitted() async {
        let member = caller.withLock { $0 }.flatMap { $0.principal.role == .member ? $0.principal.id : nil }
        let subscriber = EventHub.Subscriber(
            id: id, member: member,
            offer: { [weak self] event in
                guard let self else { return true }
                guard self.wants(event) else { return true }
                if case .dropped = self.continuation.yield(.event(event)) { return false }
                return true
            },
            close: { [weak self] closing in
                guard let self else { return }
                switch closing {
                case .slowConsumer: self.close(.init(codeNumber: 1013), closing.reason, now: true)
                case .shuttingDown: self.close(.goingAway, closing.reason, now: true)
                case .expired, .revoked: self.close(.policyViolation, closing.reason)
                }
            },
            credential: { [weak self] in
                let caller = self?.caller.withLock { $0 }
                return (caller?.expiresAt ?? .distantPast, caller?.token ?? "")
            })
        do {
            try await plane.events.subscribe(tenant, subscriber)
        } catch {
            logger.warning("stream could not join the event hub", metadata: ["tenant": "\(tenant.slug)", "error": "\(String(reflecting: error))"])
            close(.init(codeNumber: 1011), "the server could not start the stream; retry shortly")
            return
        }
        let caller = caller.withLock { $0 }
        let available = topics.values.filter { topic in
            topic.isEnabled(tenant.enabledDomains) && (caller?.principal.role == .member || caller?.principal.role.may(topic.staffPermission) == true)
        }.map(\.name)
        let live = families.values.filter { family in
            tenant.enabledDomains.contains(family.tenantDomain)
                && (caller?.principal.role == .member || caller?.principal.role.may(family.staffPermission) == true)
        }.map { "\($0.family):<key>" }
        let names = (available + live).sorted()
        send(["type": "stream.ready", "tenant": tenant.slug.value, "role": caller?.principal.role.rawValue ?? "", "topics": names])
    }

    func send(_ control: [String: any Sendable]) {
        _ = continuation.yield(.control(control))
    }

    func reply(error code: String, _ detail: String) {
        // The shape ../shared/API.md gives stream errors.
        send(["type": "error", "code": code, "message": detail])
    }

    /// One message from the client.
    func handle(_ text: String) async {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any], let action = object["action"] as? String else {
            return reply(error: "bad-message", "Send a JSON object with an \"action\": auth, subscribe, unsubscribe or resume.")
        }
        let authenticated = caller.withLock { $0 } != nil
        switch action {
        case "auth":
            guard let token = object["token"] as? String, !token.isEmpty else { return reply(error: "bad-message", "auth needs a \"token\".") }
            do {
                let (principal, expiresAt) = try await plane.authenticate(token: token, tenant: tenant)
                let refused = caller.withLock { current -> Bool in
                    // A fresh token for the same caller extends the stream; another caller cannot take it over.
                    if let current, current.principal != principal { return true }
                    current = StreamCaller(principal: principal, token: token, expiresAt: expiresAt)
                    return false
                }
                if refused { return reply(error: "wrong-caller", "A stream stays with the caller who opened it; open another for this token.") }
                if authenticated {
                    send(["type": "stream.authenticated", "expires_at": expiresAt.rfc3339])
                } else {
                    await admitted()
                }
            } catch let problem as Problem {
                if authenticated { return reply(error: "unauthorized", problem.detail.isEmpty ? "The token was refused." : problem.detail) }
                close(.policyViolation, "authentication failed: \(problem.detail.isEmpty ? problem.title : problem.detail)")
            } catch {
                close(.policyViolation, "authentication failed")
            }
        case _ where !authenticated:
            close(.policyViolation, "authenticate first: send {\"action\":\"auth\",\"token\":\"…\"}")
        case "subscribe", "unsubscribe":
            guard let names = object["topics"] as? [String], !names.isEmpty, names.count <= 32 else {
                return reply(error: "bad-message", "\(action) needs \"topics\": a list of topic names.")
            }
            let role = caller.withLock { $0 }?.principal.role
            var live: [(family: any LiveTopicFamily, name: String, key: String)] = []
            if action == "subscribe" {
                for name in names {
                    if let colon = name.firstIndex(of: ":"), let family = families[String(name[..<colon])] {
                        let key = String(name[name.index(after: colon)...])
                        guard tenant.enabledDomains.contains(family.tenantDomain) else {
                            return reply(error: "domain-disabled", "This credit union has not enabled \(family.tenantDomain).")
                        }
                        guard role == .member || role?.may(family.staffPermission) == true else {
                            return reply(error: "forbidden-topic", "Your role may not read \(family.family).")
                        }
                        if let refusal = await family.refusal(key: key) { return reply(error: "unknown-topic", refusal) }
                        live.append((family, name, key))
                        continue
                    }
                    guard let topic = topics[name] else {
                        let known = topics.keys.sorted() + families.keys.sorted().map { "\($0):<key>" }
                        return reply(error: "unknown-topic", "No topic \(name.prefix(64)); topics: \(known.joined(separator: ", ")).")
                    }
                    guard topic.isEnabled(tenant.enabledDomains) else {
                        return reply(error: "domain-disabled", "This credit union has not enabled \(topic.tenantDomain ?? name).")
                    }
                    guard role == .member || role?.may(topic.staffPermission) == true else {
                        return reply(error: "forbidden-topic", "Your role may not read \(name).")
                    }
                }
                let added = followedLive.withLock { followed -> [(family: any LiveTopicFamily, name: String, key: String)]? in
                    let fresh = live.filter { !followed.contains($0.name) }
                    guard followed.count + Set(fresh.map(\.name)).count <= Self.liveLimit else { return nil }
                    followed.formUnion(fresh.map(\.name))
                    return fresh
                }
                guard let added else {
                    return reply(error: "too-many-topics", "A stream follows at most \(Self.liveLimit) topics such as prices:<symbol>; unsubscribe some first.")
                }
                subscribed.withLock { $0.formUnion(names.filter { topics[$0] != nil }) }
                live = added
            } else {
                subscribed.withLock { $0.subtract(names) }
                let dropped = followedLive.withLock { followed in names.filter { followed.remove($0) != nil } }
                for name in dropped {
                    guard let colon = name.firstIndex(of: ":"), let family = families[String(name[..<colon])] else { continue }
                    family.unfollow(id: id, key: String(name[name.index(after: colon)...]))
                }
            }
            send(["type": "stream.subscribed", "topics": (subscribed.withLock { $0 }.union(followedLive.withLock { $0 })).sorted()])
            // After the reply: each new live topic's latest message, then its new ones.
            for (family, _, key) in live {
                family.follow(id: id, key: key) { [weak self] message in
                    guard let self else { return false }
                    if case .dropped = self.continuation.yield(.live(message)) {
                        self.close(.init(codeNumber: 1013), EventHub.Closing.slowConsumer(pending: self.plane.settings.streamQueueLimit).reason, now: true)
                        return false
                    }
                    return true
                }
            }
        case "resume":
            guard let after = (object["after_seq"] as? NSNumber).map({ $0.int64Value }), after >= 0 else {
                return reply(error: "bad-message", "resume needs \"after_seq\": the last seq you received (0: from the start).")
            }
            _ = continuation.yield(.resume(after: after))
        default:
            reply(error: "bad-message", "Unknown action \(action.prefix(32)); actions: auth, subscribe, unsubscribe, resume.")
        }
    }

    /// Sends the queue in order until the stream ends; events already sent (by seq) are not sent
    /// twice, except by a `resume`, which re-sends everything after its seq.
    func write(_ outbound: WebSocketOutboundWriter) async {
        var sent: Int64 = 0
        do {
            for await item in queue {
                guard closing.withLock({ $0 }) == nil else { break }
                switch item {
                case .event(let event):
                    guard event.seq > sent, wants(event) else { continue }
                    try await outbound.write(.text(Self.message(event, topic: topic(of: event)!.name)))
                    sent = event.seq
                    Observability.count("nzila_stream_events_sent_total")
                case .control(let object):
                    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
                    try await outbound.write(.text(String(decoding: data, as: UTF8.self)))
                case .resume(let after):
                    sent = try await replay(after: after, outbound)
                case .live(let message):
                    // Not one unsubscribed while it waited in the queue.
                    guard followedLive.withLock({ $0.contains(message.topic) }) else { continue }
                    try await outbound.write(.text(message.text))
                    Observability.count("nzila_stream_events_sent_total")
                }
            }
        } catch {
            if !(error is CancellationError) { logger.debug("stream write ended", metadata: ["error": "\(error)"]) }
        }
        if let (code, reason) = closing.withLock({ $0 }) {
            try? await outbound.close(code, reason: reason)
        }
    }

    /// Sends what followed `after`, from the outbox, in seq order; says so when part of it is past
    /// retention. Returns the last seq it covered.
    func replay(after: Int64, _ outbound: WebSocketOutboundWriter) async throws -> Int64 {
        let session = plane.session(tenant: tenant, principal: nil)
        let bounds = try await session.run { try await EventLog($0).bounds() }
        var cursor = after
        if let first = bounds.firstKept, first > after + 1 {
            try await outbound.write(.text(Self.control(["type": "stream.gap", "after_seq": after, "first_available_seq": first])))
            cursor = first - 1
        }
        var count = 0
        while cursor < bounds.last {
            let page = try await session.run { try await EventLog($0).events(after: cursor, upTo: bounds.last, limit: 500) }
            for event in page where wants(event) {
                try await outbound.write(.text(Self.message(event, topic: topic(of: event)!.name)))
                count += 1
            }
            guard let last = page.last, page.count == 500 else { break }
            cursor = last.seq
        }
        try await outbound.write(.text(Self.control(["type": "stream.resumed", "after_seq": after, "through_seq": bounds.last, "replayed": count])))
        return bounds.last
    }

    /// `{"seq", "topic", "type", "occurred_at", "data"}`, the payload as stored.
    static func message(_ event: PublishedEvent, topic: String) -> String {
        "{\"seq\":\(event.seq),\"topic\":\"\(topic)\",\"type\":\"\(event.type)\",\"occurred_at\":\"\(event.occurredAt.rfc3339)\",\"data\":\(event.payload)}"
    }

    static func control(_ object: [String: Any]) -> String {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
