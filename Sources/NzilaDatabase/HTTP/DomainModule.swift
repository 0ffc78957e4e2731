import Foundation
import NzilaCore
import ServiceLifecycle

/// What a product domain declares to the platform, in one place: the name tenants enable it by, its
/// routes (each with its `Access`), its background services and the events it writes. The data
/// plane registers each module in one line (`DataPlane.modules`); it mounts the routes behind the
/// platform's gates for `name` and runs the services beside the plane. A domain imports the
/// platform (NzilaValues, NzilaCore, NzilaDatabase, Ledger) and never another domain; a reaction
/// across domains is a named hook the data plane wires, or an event.
public protocol DomainModule: Sendable {
    /// The name in a tenant's `domains` configuration (`banking`, `remittance`, …); a tenant that has
    /// not enabled it gets 403 `domain-disabled` from every route of the module.
    var name: String { get }
    /// Registers the routes. The platform has resolved the tenant, authenticated the caller, checked
    /// the route's `Access`, rate-limited, checked `name` is enabled and opened the session before a
    /// handler runs.
    func mount(on routes: TenantRoutes)
    /// Work run beside the plane (workers), unless `NZILA_DATA_PLANE_WORKERS=off`.
    var services: [any Service] { get }
    /// The outbox event types it writes (`<domain>.<event>.v<n>`); each has `Schemas/events/<type>.json`.
    var events: [String] { get }
    /// The live-stream topics its events go out on (`GET /v1/stream`).
    var topics: [StreamTopic] { get }
    /// Live topic families that are not tenant events (`prices:<symbol>`): platform data the module
    /// pushes to the streams that follow a key of the family.
    var liveTopics: [any LiveTopicFamily] { get }
}

extension DomainModule {
    public var services: [any Service] { [] }
    public var events: [String] { [] }
    public var topics: [StreamTopic] { [] }
    public var liveTopics: [any LiveTopicFamily] { [] }
}

/// A family of live topics named `<family>:<key>` (`prices:RY`) whose messages are not a tenant's
/// outbox events but platform data (a quote), the same for every tenant that may follow it. They
/// carry no `seq` and are not replayed by `resume`: a follower is sent the latest message of the key
/// at once, then each new one. The stream checks the tenant domain and the caller's role; the
/// family checks the key and delivers.
public protocol LiveTopicFamily: Sendable {
    /// The name before the colon (`prices`).
    var family: String { get }
    /// The tenant domain that must be enabled (the module's `name`).
    var tenantDomain: String { get }
    /// What staff need to follow it (members may).
    var staffPermission: Permission { get }
    /// Why `key` cannot be followed (nil: it can), as a sentence for the client.
    func refusal(key: String) async -> String?
    /// Starts sending `key`'s messages to the stream `id`: its latest message, if there is one, then
    /// each new one. `deliver` returns false when the stream's queue is full (it is then closed).
    func follow(id: UUID, key: String, deliver: @escaping @Sendable (LiveMessage) -> Bool)
    /// Stops sending `key` (nil: every key) to the stream `id`.
    func unfollow(id: UUID, key: String?)
}

/// One message of a live topic family, ready to send.
public struct LiveMessage: Sendable {
    /// The full topic name (`prices:RY`).
    public let topic: String
    /// The message as sent: `{"topic","type","occurred_at","data"}`.
    public let text: String

    public init(topic: String, text: String) {
        self.topic = topic
        self.text = text
    }
}

/// A topic of the live stream: the events of one event domain (`remittance.*` for `remittances`).
/// A member receives the events whose audience names them; staff receive every event of the topic
/// if their role has `staffPermission`.
public struct StreamTopic: Sendable, Equatable {
    public let name: String
    /// The `<domain>` part of the event types it carries.
    public let eventDomain: String
    /// When a domain has several topics: the start of the `<event>` part of the types this one
    /// carries (`order_` of `trading.order_fill.v1`); nil: every event of the domain.
    public let eventPrefix: String?
    public let staffPermission: Permission
    /// The tenant domain that must be enabled for the topic (the module's `name`); nil for the
    /// platform's own topics.
    public let tenantDomain: String?

    public init(name: String, eventDomain: String, eventPrefix: String? = nil, staffPermission: Permission, tenantDomain: String?) {
        self.name = name
        self.eventDomain = eventDomain
        self.eventPrefix = eventPrefix
        self.staffPermission = staffPermission
        self.tenantDomain = tenantDomain
    }

    /// Whether it carries events of type `type` (`<domain>.<event>.v<n>`).
    public func carries(_ type: String) -> Bool {
        let parts = type.split(separator: ".", maxSplits: 2)
        guard parts.count >= 2, parts[0] == eventDomain else { return false }
        return eventPrefix.map { parts[1].hasPrefix($0) } ?? true
    }

    /// Whether a tenant with these domains enabled may follow it.
    public func isEnabled(_ domains: Set<String>) -> Bool {
        tenantDomain.map { domains.contains($0) } ?? true
    }
}
