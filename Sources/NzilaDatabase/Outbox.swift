import Foundation
import NzilaCore
import Synchronization

/// An event a domain announces through the transactional outbox: a `Codable` value whose type is
/// named `<domain>.<event>.v<n>` and whose JSON Schema is `Schemas/events/<type>.json` (a test checks
/// every type against its schema). Events carry ids and states, never secrets or full account or
/// recipient numbers.
public protocol OutboxEvent: Encodable, Sendable {
    /// `<domain>.<event>.v<n>`, such as `remittance.funded.v1`.
    var type: String { get }
    /// What the event is about; a relay keeps each aggregate's events in order.
    var aggregateID: UUID { get }
    /// The members the event is about: the ones whose live streams carry it (staff with the topic's
    /// read permission see every event). Empty: staff only.
    var audience: [UUID] { get }
}

extension OutboxEvent {
    /// Staff only, unless the event names its members or its writer addresses it (`to(_:)`, or the
    /// `audience` column set in the writer's SQL when only the statement knows them).
    public var audience: [UUID] { [] }

    /// The same event, on the streams of `members` too.
    public func to(_ members: [UUID]) -> any OutboxEvent { Addressed(event: self, audience: members) }
}

/// An event with the members it is about, when the event's own fields do not name them.
struct Addressed: OutboxEvent {
    let event: any OutboxEvent
    let audience: [UUID]
    var type: String { event.type }
    var aggregateID: UUID { event.aggregateID }
    func encode(to encoder: any Encoder) throws { try event.encode(to: encoder) }
}

/// The platform's outbox: rows in the tenant's `outbox_events`, written in the caller's transaction,
/// so an event exists exactly when the change it announces committed. The data plane's `EventRelay`
/// numbers them per tenant in commit order and fans them out (streams, webhooks, notifications).
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

    /// Set by the test harness: checks each event's payload against its type's schema as it is
    /// written (the violations, empty when it conforms), so every event the suite produces is held
    /// to `Schemas/events/` as every answer is to its route's schema (`RouteTable.verifiesShapes`).
    public static let verifier = Mutex<(@Sendable (_ type: String, _ payload: Data) -> [String])?>(nil)

    /// An event whose payload breaks its schema, when the harness checks them: a logged 500 in a test.
    public struct SchemaDrift: Error, CustomStringConvertible {
        public let type: String
        public let violations: [String]
        public var description: String { "outbox event \(type) breaks Schemas/events/\(type).json: \(violations.joined(separator: "; "))" }
    }

    public static func append(_ events: [any OutboxEvent], in db: TenantDB) async throws {
        guard !events.isEmpty else { return }
        OutboxWake.wrote()
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
            // Built to be written in the transaction in progress (see OutboxWake).
            if !events.isEmpty { OutboxWake.wrote() }
            aggregates = events.map(\.aggregateID)
            let encoded = try events.map { try JSONEncoder.api.encode($0) }
            if let check = Outbox.verifier.withLock({ $0 }) {
                for (type, payload) in zip(types, encoded) {
                    let violations = check(type, payload)
                    if !violations.isEmpty { throw SchemaDrift(type: type, violations: violations) }
                }
            }
            payloads = zip(events, encoded).map { event, payload in Self.carrying(event.audience, in: payload) }
        }

        /// The payload's JSON object with the audience in its `_audience` member, which the table's
        /// trigger moves to the row's `audience` column (Migrations/tenant/0015), so the domains'
        /// one-statement inserts need no fourth array.
        static func carrying(_ audience: [UUID], in payload: Data) -> String {
            let text = String(decoding: payload, as: UTF8.self)
            guard !audience.isEmpty, text.first == "{" else { return text }
            let members = audience.map { "\"\($0.uuidString.lowercased())\"" }.joined(separator: ",")
            let rest = text.dropFirst().drop { $0 == " " || $0 == "\n" }
            return "{\"_audience\":[\(members)]" + (rest.first == "}" ? "" : ",") + rest
        }
    }
}
