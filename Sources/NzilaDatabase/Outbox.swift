import Foundation
import NzilaCore

/// An event a domain announces through the transactional outbox: a `Codable` value whose type is
/// named `<domain>.<event>.v<n>` and whose JSON Schema is `Schemas/events/<type>.json` (a test checks
/// every type against its schema). Events carry ids and states, never secrets or full account or
/// recipient numbers.
public protocol OutboxEvent: Encodable, Sendable {
    /// `<domain>.<event>.v<n>`, such as `remittance.funded.v1`.
    var type: String { get }
    /// What the event is about; a relay keeps each aggregate's events in order.
    var aggregateID: UUID { get }
}

/// The platform's outbox: rows in the tenant's `outbox_events`, written in the caller's transaction,
/// so an event exists exactly when the change it announces committed. (Relaying them is a later
/// service's work.)
public enum Outbox {
    /// The `<domain>.<event>.v<n>` shape the table's CHECK also holds every type to.
    public static let typePattern = #"^[a-z_]+\.[a-z_]+\.v[0-9]+$"#

    /// Appends `events`, in order, in the caller's transaction (one statement).
    /// An event type not of the form `<domain>.<event>.v<n>`: a programming error, answered as a
    /// logged 500 (the table's CHECK would refuse the row too).
    public struct MisnamedEvent: Error, CustomStringConvertible {
        public let type: String
        public var description: String { "outbox event type \(type) is not <domain>.<event>.v<n>" }
    }

    public static func append(_ events: [any OutboxEvent], in db: TenantDB) async throws {
        guard !events.isEmpty else { return }
        let batch = try Batch(events)
        try await db.query(
            """
            INSERT INTO outbox_events (topic, aggregate_id, payload)
            SELECT t, a, p::jsonb FROM unnest(\(batch.types)::text[], \(batch.aggregates)::uuid[], \(batch.payloads)::text[]) WITH ORDINALITY AS e(t, a, p, n)
            ORDER BY n
            """)
    }

    /// Events as three parallel arrays, for a domain whose change, log and events must be one
    /// statement: it binds them and selects from `unnest(types, aggregates, payloads)` (see
    /// `RemittanceStore`), so the payloads are still encoded from the Swift types.
    public struct Batch: Sendable {
        public let types: [String]
        public let aggregates: [UUID]
        public let payloads: [String]

        public init(_ events: [any OutboxEvent]) throws {
            if let misnamed = events.first(where: { $0.type.range(of: Outbox.typePattern, options: .regularExpression) == nil }) {
                throw MisnamedEvent(type: misnamed.type)
            }
            types = events.map(\.type)
            aggregates = events.map(\.aggregateID)
            payloads = try events.map { String(decoding: try JSONEncoder.api.encode($0), as: UTF8.self) }
        }
    }
}
