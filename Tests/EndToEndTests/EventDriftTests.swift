import Foundation
import NzilaCore
import NzilaDatabase
import Testing

/// The suite holds every event it writes to its schema (the harness sets `Outbox.verifier`), so an
/// event type whose payload drifts from `Schemas/events/` fails whichever test writes it.
@Suite("Event schemas at write time")
struct EventDriftTests {
    struct Drifted: OutboxEvent {
        let type = "loan.closed.v1"
        let aggregateID = UUID()
        let loanId = UUID().uuidString.lowercased()
        let surprise = "not in the schema"

        enum CodingKeys: String, CodingKey { case loanId, surprise }
    }

    struct Unknown: OutboxEvent {
        let type = "loan.vanished.v1"
        let aggregateID = UUID()
    }

    @Test("an event whose payload breaks its schema, or whose type has none, is refused as it is written")
    func drift() async throws {
        _ = try await Harness.get()
        #expect(throws: Outbox.SchemaDrift.self) { try Outbox.Batch([Drifted()]) }
        do {
            _ = try Outbox.Batch([Drifted()])
        } catch let drift as Outbox.SchemaDrift {
            #expect(drift.violations.contains("$.surprise: not in the schema") && drift.violations.contains { $0.hasSuffix(".member_id: missing") },
                    "\(drift.violations)")
        }
        #expect(throws: Outbox.SchemaDrift.self) { try Outbox.Batch([Unknown()]) }
    }
}
