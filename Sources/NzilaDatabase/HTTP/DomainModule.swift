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
}

extension DomainModule {
    public var services: [any Service] { [] }
    public var events: [String] { [] }
    public var topics: [StreamTopic] { [] }
}

/// A topic of the live stream: the events of one event domain (`remittance.*` for `remittances`).
/// A member receives the events whose audience names them; staff receive every event of the topic
/// if their role has `staffPermission`.
public struct StreamTopic: Sendable, Equatable {
    public let name: String
    /// The `<domain>` part of the event types it carries.
    public let eventDomain: String
    public let staffPermission: Permission
    /// The tenant domain that must be enabled for the topic (the module's `name`); nil for the
    /// platform's own topics.
    public let tenantDomain: String?

    public init(name: String, eventDomain: String, staffPermission: Permission, tenantDomain: String?) {
        self.name = name
        self.eventDomain = eventDomain
        self.staffPermission = staffPermission
        self.tenantDomain = tenantDomain
    }

    /// Whether a tenant with these domains enabled may follow it.
    public func isEnabled(_ domains: Set<String>) -> Bool {
        tenantDomain.map { domains.contains($0) } ?? true
    }
}
