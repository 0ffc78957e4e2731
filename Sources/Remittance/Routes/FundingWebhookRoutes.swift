import Ledger
import Foundation
import HTTPTypes
import Hummingbird
import NzilaCore
import NzilaDatabase

/// `POST /v1/webhooks/funding/{provider}`: an Interac-style provider confirms that the money for an
/// order awaiting funding arrived. Signed per tenant and provider (`WebhookSignature`); each event id
/// is applied once (a repeat answers 200 with no effect). A verified event always answers 200 with
/// its outcome, so the provider stops retrying; one that could not fund its order is recorded with
/// the reason for staff to act on.
public struct FundingWebhookRoutes: Sendable {
    /// The secret of a tenant and provider (derived from the master key; never stored).
    let secret: @Sendable (TenantRef, String) -> String
    let kick: @Sendable (TenantRef) -> Void

    public init(secret: @escaping @Sendable (TenantRef, String) -> String, kick: @escaping @Sendable (TenantRef) -> Void) {
        self.secret = secret
        self.kick = kick
    }

    /// The header the signature travels in.
    public static let signatureHeader = HTTPField.Name("Nzila-Signature")!

    struct Event: StrictBody {
        static let fields: Set<String> = ["event_id", "remittance_id", "amount", "currency"]
        let eventId: String
        let remittanceId: String
        let amount: Int64
        let currency: String
    }

    struct Answer: Codable, Sendable {
        let eventId: String
        let outcome: String
        let remittance: RemittanceOrder?
    }

    public func mount(on routes: TenantRoutes) {
        routes.openRoute(.post, "/v1/webhooks/funding/{provider}", "A funding provider confirms an order's money arrived (signed; each event once)", body: Event.self, answer: Answer.self, use: { request, context in
            let (tenant, session, now) = (context.tenant, context.session, context.now)
            let provider = try context.pathText("Provider", "provider")
            guard (1...40).contains(provider.count), provider.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" }) else {
                throw Problem.notFound("Provider \(provider.prefix(40))")
            }
            let raw = try await request.jsonBody()
            let refusal = WebhookSignature.verifyReceived(
                header: request.headers[Self.signatureHeader], secret: secret(tenant, provider), body: raw)
            if let refusal { throw refusal }
            let event = try decodeStrictJSON(Event.self, from: raw)
            guard (1...200).contains(event.eventId.count) else { throw Problem.validation(field: "event_id", "must be 1 to 200 characters") }
            guard let orderID = UUID(uuidString: event.remittanceId) else { throw Problem.validation(field: "remittance_id", "must be a UUID") }
            let answer = try await session.run { db in
                try await Self.apply(
                    event: event.eventId, amountMinor: event.amount, currency: event.currency, order: orderID, provider: provider, connection: nil, db: db,
                    now: now)
            }
            if answer.outcome == "funded" { kick(tenant) }
            return try Response.json(answer)
        })
    }

    /// Under the order's row lock (so two deliveries of one event queue): the outcome is decided, the
    /// event recorded with it (an event id seen before: nothing else happens), then the order funded. `connection`: the
    /// registry connection the event came through (nil: the generic signed webhook), which must be the order's.
    static func apply(
        event: String, amountMinor: Int64?, currency: String?, order id: UUID, provider: String, connection: String?, db: TenantDB, now: Date
    ) async throws -> Answer {
        let store = RemittanceStore(db)
        let found = try await store.find(id, lock: true)
        let outcome: String
        switch found {
        case nil: outcome = "unknown-remittance"
        case let stored? where stored.order.state != .awaitingFunding
            || (connection == nil ? stored.order.funding != "webhook" : stored.fundingConnection != connection):
            outcome = "not-awaiting-funding"
        case let stored? where amountMinor != stored.order.totalDebit.minorUnits || currency != stored.order.totalDebit.currency.code:
            outcome = "amount-mismatch"
        default: outcome = "funded"
        }
        let first = try await db.query(
            """
            INSERT INTO webhook_events (provider, event_id, remittance_id, outcome) VALUES (\(provider), \(event), \(found == nil ? nil : id), \(outcome))
            ON CONFLICT DO NOTHING RETURNING 1
            """
        ).first(Int.self)
        guard first != nil else { return Answer(eventId: event, outcome: "duplicate", remittance: nil) }
        if outcome == "funded", let order = found?.order { try await fund(order, provider: connection ?? provider, event: event, db: db, now: now) }
        return Answer(eventId: event, outcome: outcome, remittance: try await store.find(id, log: true)?.order)
    }

    /// The money is in the credit union's cash account: funding journal, then the decision taken when
    /// the order was placed (converting, or held with a case).
    static func fund(_ order: RemittanceOrder, provider: String, event: String, db: TenantDB, now: Date) async throws {
        let id = order.id.rawValue
        let store = RemittanceStore(db)
        let actor = OrderActor.webhook(provider)
        let journal = try await RemittanceLedger(db: db).fund(order, payer: nil)
        var funded = OrderChanges()
        funded.fundingJournal = journal.id.rawValue
        funded.nextStep = .clear
        try await store.transition(id, from: .awaitingFunding, to: .funded, reason: "\(order.totalDebit) received from \(provider) (event \(event))", by: actor, changes: funded)
        try await store.transition(id, from: .funded, to: .screening, reason: "sender and recipient screened; limits and AML rules checked at order time", by: actor)
        if order.holdReasons.isEmpty {
            var next = OrderChanges()
            next.nextStep = .at(now)
            try await store.transition(id, from: .screening, to: .converting, reason: "compliance cleared the order", by: actor, changes: next)
        } else {
            try await store.transition(id, from: .screening, to: .held, reason: "held for review: " + order.holdReasons.joined(separator: "; "), by: actor)
            try await OrderReview.openCase(db, order: id, member: order.memberId.rawValue, reasons: order.holdReasons, screening: nil, by: nil)
        }
    }
}
