import Foundation
import NzilaValues

/// `remittance.<state>.v1`: an order reached `state` (from `from`, nil for a new order), with the
/// reason and the role of who moved it. Schema: `Schemas/events/remittance.state_changed.v1.json`.
public struct RemittanceStateChanged: Codable, Sendable, Equatable {
    public let remittanceId: UUID
    public let from: OrderState?
    public let state: OrderState
    public let reason: String
    public let actorRole: String

    public init(remittance: UUID, from: OrderState?, state: OrderState, reason: String, actorRole: String) {
        self.remittanceId = remittance
        self.from = from
        self.state = state
        self.reason = String(reason.prefix(2000))
        self.actorRole = actorRole
    }

    enum CodingKeys: String, CodingKey { case remittanceId, from, state, reason, actorRole }

    /// The id in lower case, as every id the API writes; `from` is always present (null for a new order), as consumers have read it since 0010.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(remittanceId.lowercased, forKey: .remittanceId)
        try container.encode(from, forKey: .from)
        try container.encode(state, forKey: .state)
        try container.encode(reason, forKey: .reason)
        try container.encode(actorRole, forKey: .actorRole)
    }
}
