import Foundation
import Ledger
import NzilaCore
import NzilaDatabase
import Remittance
import Lending
import Testing
import Tontine
import Trading

/// Every event type has a JSON Schema under `Schemas/events/<type>.json`, generated from its Swift
/// type (`JSONSchema.of`); this test fails when the two differ. `NZILA_WRITE_SCHEMAS=1 swift test
/// --filter EventSchemaTests` rewrites them after a deliberate change (a new version is a new type).
@Suite("Event schemas")
struct EventSchemaTests {
    static var folder: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Schemas/events", isDirectory: true)
    }

    /// Each event type the code can emit, with its schema as generated from its Swift type.
    static var expected: [String: [String: Any]] {
        var all: [String: [String: Any]] = [:]
        for state in OrderState.allCases {
            var schema = JSONSchema.of(RemittanceStateChanged.self)
            var properties = schema["properties"] as? [String: Any] ?? [:]
            properties["state"] = ["const": state.rawValue]
            schema["properties"] = properties
            schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
            schema["$id"] = "https://nzila.dev/schemas/events/\(state.event).json"
            schema["title"] = state.event
            schema["description"] = "A remittance reached \(state.rawValue): from the state it left (null for a new order), why, and the role of who moved it."
            all[state.event] = schema
        }
        for state in CircleState.allCases {
            var schema = JSONSchema.of(TontineStateChanged.self)
            var properties = schema["properties"] as? [String: Any] ?? [:]
            properties["state"] = ["const": state.rawValue]
            schema["properties"] = properties
            all[state.event] = described(schema, state.event, "A tontine circle reached \(state.rawValue): from the state it left (null for a new circle), why, and the role of who moved it.")
        }
        let tontine: [(String, [String: Any], String)] = [
            (TontineEvents.memberJoined, JSONSchema.of(TontineMemberJoined.self), "A member took a place in a forming circle."),
            (TontineEvents.contributionReceived, JSONSchema.of(TontineContributionReceived.self),
             "A cycle received a member's contribution (by hand, autopay or the guarantee's advance), with its late fee and the arrears it recovered."),
            (TontineEvents.contributionDue, JSONSchema.of(TontineContributionDue.self),
             "A cycle's contributions fall due tomorrow (or today, when the reminder could not go the day before): the members whose money is not in yet are reminded."),
            (TontineEvents.cyclePaid, JSONSchema.of(TontineCyclePaid.self), "The pool paid a cycle's recipient, less the arrears it recovered."),
            (TontineEvents.cycleShort, JSONSchema.of(TontineCycleShort.self), "Grace ended with contributions missing and no guarantee: the cycle waits."),
            (TontineEvents.advanceMade, JSONSchema.of(TontineAdvanceMade.self), "The guarantee advanced a missing contribution; the member owes it and the penalty."),
            (TontineEvents.memberDelinquent, JSONSchema.of(TontineMemberDelinquent.self), "A member who had been paid missed a contribution; a case is open."),
        ]
        for (type, schema, description) in tontine { all[type] = described(schema, type, description) }
        for status in SwapStatus.allCases {
            var schema = JSONSchema.of(TontineSwapChanged.self)
            var properties = schema["properties"] as? [String: Any] ?? [:]
            properties["status"] = ["const": status.rawValue]
            schema["properties"] = properties
            all[status.event] = described(schema, status.event, "A swap of turns between two members of a circle was \(status.rawValue).")
        }
        for status in DisputeStatus.allCases {
            var schema = JSONSchema.of(TontineDisputeChanged.self)
            var properties = schema["properties"] as? [String: Any] ?? [:]
            properties["status"] = ["const": status.rawValue]
            schema["properties"] = properties
            all[status.event] = described(
                schema, status.event,
                status == .open ? "A member opened a dispute about a cycle's money." : "Staff resolved a dispute: \(status.rawValue), with the ledger action taken, if any.")
        }
        for state in LoanState.allCases {
            var schema = JSONSchema.of(LoanStateChanged.self)
            var properties = schema["properties"] as? [String: Any] ?? [:]
            properties["state"] = ["const": state.rawValue]
            schema["properties"] = properties
            all[state.event] = described(schema, state.event, "A loan reached \(state.rawValue): from the state it left (null for a new application), why, and the role of who moved it.")
        }
        let lending: [(String, [String: Any], String)] = [
            (LoanEvents.repaymentReceived, JSONSchema.of(LoanRepaymentReceived.self),
             "A loan received a repayment (by hand, autopay or payoff): its allocation to penalties, fees, interest and principal, and the principal left."),
            (LoanEvents.penaltyCharged, JSONSchema.of(LoanPenaltyCharged.self), "An instalment passed its grace days unpaid and was charged the late penalty."),
            (LoanEvents.instalmentDue, JSONSchema.of(LoanInstalmentDue.self),
             "An instalment falls due tomorrow (or today, when the reminder could not go the day before): the member's reminder, with what the instalment still asks for."),
            (LoanEvents.delinquencyChanged, JSONSchema.of(LoanDelinquencyChanged.self),
             "A loan moved to another delinquency bucket by days past due of its oldest unpaid instalment (null: current again)."),
        ]
        for (type, schema, description) in lending { all[type] = described(schema, type, description) }
        for status in OrderStatus.allCases {
            all[status.eventType] = described(
                JSONSchema.of(TradingOrderEvent.self), status.eventType,
                "A paper order's trade update \"\(status.event)\" (Alpaca's name): where it stands and, for a fill, its quantity, price and the position after it.")
        }
        all[TradingAlertEvent.type] = described(
            JSONSchema.of(TradingAlertEvent.self), TradingAlertEvent.type,
            "A member's price alert fired: the last trade crossed its level between two consecutive quotes (prices in the instrument's quote unit).")
        all[TradingCopyEvent.leaderLeft] = described(
            JSONSchema.of(TradingCopyEvent.self), TradingCopyEvent.leaderLeft,
            "A follower's copy stopped mirroring: its leader is no longer copyable. The copy's positions stay the follower's to sell, or the copy to stop.")
        all[TradingCopyEvent.stopped] = described(
            JSONSchema.of(TradingCopyEvent.self), TradingCopyEvent.stopped,
            "A follower's copy stopped, by the member or by its stop loss (stop_reason): nothing more is mirrored; a stop loss sells what it holds.")
        all[AccountEvents.balanceChanged] = described(
            JSONSchema.of(AccountBalanceChanged.self), AccountEvents.balanceChanged,
            "An entry moved a member's account balance: the journal, the entry's signed amount and the balance after it, in minor units.")
        all[WebhookEndpointDisabled.eventType] = described(
            JSONSchema.of(WebhookEndpointDisabled.self), WebhookEndpointDisabled.eventType,
            "A webhook endpoint failed for 3 days without a success and was disabled: since when, and the last failure.")
        return all
    }

    static func described(_ schema: [String: Any], _ type: String, _ description: String) -> [String: Any] {
        var schema = schema
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = "https://nzila.dev/schemas/events/\(type).json"
        schema["title"] = type
        schema["description"] = description
        return schema
    }

    static func text(_ schema: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: schema, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]), as: UTF8.self) + "\n"
    }

    @Test("every event type has its schema file, equal to the one generated from its Swift type, and nothing else is there")
    func schemasMatchTypes() throws {
        let expected = Self.expected
        if ProcessInfo.processInfo.environment["NZILA_WRITE_SCHEMAS"] == "1" {
            try FileManager.default.createDirectory(at: Self.folder, withIntermediateDirectories: true)
            for (type, schema) in expected { try Self.text(schema).write(to: Self.folder.appendingPathComponent("\(type).json"), atomically: true, encoding: .utf8) }
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path).filter { $0.hasSuffix(".json") }
        #expect(Set(files) == Set(expected.keys.map { "\($0).json" }), "Schemas/events/ and the event types differ")
        for (type, schema) in expected {
            #expect(type.range(of: Outbox.typePattern, options: .regularExpression) != nil, "\(type) is not <domain>.<event>.v<n>")
            let file = try? String(contentsOf: Self.folder.appendingPathComponent("\(type).json"), encoding: .utf8)
            #expect(file == (try Self.text(schema)), "Schemas/events/\(type).json differs from its Swift type")
        }
    }

    @Test("an event as the outbox writes it has exactly its schema's properties, the required ones present")
    func encodingFitsSchema() throws {
        let id = UUID()
        let steps: [(OrderState?, OrderState)] = [(nil, .created), (.created, .awaitingFunding), (.disbursing, .delivered)]
        for (from, to) in steps {
            let event = RemittanceStateChanged(remittance: id, from: from, state: to, reason: "Because", actorRole: "member")
            let batch = try Outbox.Batch([event])
            #expect(batch.types == [to.event] && batch.aggregates == [id])
            let payload = try #require(try JSONSerialization.jsonObject(with: Data(batch.payloads[0].utf8)) as? [String: Any])
            let schema = try #require(Self.expected[to.event])
            let properties = try #require(schema["properties"] as? [String: Any])
            #expect(Set(payload.keys) == Set(properties.keys))
            #expect((schema["required"] as? [String] ?? []).allSatisfy { payload[$0] != nil })
            #expect(payload["remittance_id"] as? String == id.lowercased && payload["state"] as? String == to.rawValue)
            #expect(from == nil ? payload["from"] is NSNull : payload["from"] as? String == from?.rawValue)
        }
    }
}
