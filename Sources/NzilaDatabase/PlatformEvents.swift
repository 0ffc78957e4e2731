import Foundation
import NzilaCore

/// Tenant webhooks' ids (docs/EVENTS.md): an endpoint, one delivery of an event to it, and the
/// event id a delivery carries (`Nzila-Event-Id`).
public enum WebhookEndpointTag {}
public enum WebhookDeliveryTag {}
public enum EventTag {}
public typealias WebhookEndpointID = Identifier<WebhookEndpointTag>
public typealias WebhookDeliveryID = Identifier<WebhookDeliveryTag>
public typealias EventID = Identifier<EventTag>

/// `webhook.endpoint_disabled.v1`: an endpoint failed for 3 days and was disabled (staff only).
public struct WebhookEndpointDisabled: Codable, Sendable, Equatable, OutboxEvent {
    public let endpointId: WebhookEndpointID
    public let failingSince: Date
    public let reason: String

    public init(endpointId: WebhookEndpointID, failingSince: Date, reason: String) {
        self.endpointId = endpointId
        self.failingSince = failingSince
        self.reason = reason
    }

    public static let eventType = "webhook.endpoint_disabled.v1"
    public var type: String { Self.eventType }
    public var aggregateID: UUID { endpointId.rawValue }

    enum CodingKeys: String, CodingKey { case endpointId, failingSince, reason }
}
