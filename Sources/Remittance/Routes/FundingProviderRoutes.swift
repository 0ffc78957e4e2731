import Compliance
import Foundation
import HTTPTypes
import Hummingbird
import NzilaCore
import NzilaDatabase

/// Orders funded through the provider the credit union configured (its `funding` section): the member reads what to pay
/// with, and the provider's signed events fund the order.
///
/// - `GET /v1/remittances/{id}/funding`: the provider's request for the order (made by the worker once the order
///   committed): its reference, and the Interac payment link or, for the member only, the card PaymentIntent's client
///   secret their app confirms the card with (sealed at rest under the tenant's key). Staff see everything but it.
/// - `POST /v1/webhooks/funding-providers/{connection}`: the provider's event, verified as that provider signs
///   (Interac-style: `Nzila-Signature`; Stripe: `Stripe-Signature`, the same `t=…,v1=…` HMAC-SHA256 scheme) with the
///   connection's callback secret; each event id applied once. A payment that succeeded funds the order through the same
///   path as every funding webhook (amount and currency checked, then the decision taken at order time); a failed card
///   payment is recorded and the order keeps waiting (the member may try another card) until its window closes.
public struct FundingProviderRoutes: Sendable {
    let partners: PayoutPartners
    let keys: TenantDataKeys
    let kick: @Sendable (TenantRef) -> Void

    public init(partners: PayoutPartners, keys: TenantDataKeys, kick: @escaping @Sendable (TenantRef) -> Void) {
        self.partners = partners
        self.keys = keys
        self.kick = kick
    }

    struct FundingView: Codable, Sendable {
        let remittanceId: String
        let funding: String
        let provider: String
        let state: String
        /// nil while the provider's request is being made.
        let reference: String?
        let paymentUrl: String?
        let clientSecret: String?
    }

    struct Answer: Codable, Sendable {
        let eventId: String
        let outcome: String
        let remittance: RemittanceOrder?
    }

    public func mount(on routes: TenantRoutes) {
        routes.route(.get, "/v1/remittances/{id}/funding", "How to pay an order funded by Interac or card: the provider's request (its client secret to the member only)", access: .ownOrStaff(.readRemittances), answer: FundingView.self, use: { _, context in
            try await view(context)
        })
        routes.openRoute(.post, "/v1/webhooks/funding-providers/{connection}", "A funding provider's event (Interac deposit, Stripe payment_intent.succeeded), signed as the provider signs", body: [String: JSONValue].self, answer: Answer.self, use: { request, context in
            try await receive(request, context)
        })
    }

    func view(_ context: TenantRequestContext) async throws -> Response {
        let id = try context.pathUUID("Remittance")
        let member: UUID? = context.memberID?.rawValue
        let keys = self.keys
        let found = try await context.session.run { db in
            try await RemittanceStore(db).fundingRequest(id, member: member, openSecret: member != nil, keys: keys)
        }
        guard let found else { throw RemittanceRoutes.notFound(id) }
        let view = FundingView(
            remittanceId: id.lowercased, funding: found.funding, provider: found.connection, state: found.state, reference: found.reference,
            paymentUrl: found.url, clientSecret: found.secret)
        return try Response.json(view)
    }

    func receive(_ request: Request, _ context: OpenTenantRequestContext) async throws -> Response {
        let (tenant, session, now) = (context.tenant, context.session, context.now)
        let name = try context.pathText("Connection", "connection")
        // Any connection that may have made a request for this tenant's orders, even one narrowed or removed since: the
        // event is applied only to an order that names this connection (`FundingWebhookRoutes.apply`), so money already
        // taken is always matched to its order.
        guard let provider = partners.fundingProvider(receiving: name), let secret = partners.callbackSecret(name) else {
            throw Problem.notFound("Funding provider \(name.prefix(40))")
        }
        let raw = try await request.jsonBody()
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let event = try WebhookSignature.receiving { try provider.event(headers: headers, body: raw, secret: secret, nowSeconds: $0) }
        guard (1...200).contains(event.id.count) else { throw Problem.validation(field: "id", "must be 1 to 200 characters") }
        let answer: Answer
        if event.kind == .paid, let order = event.order {
            answer = try await session.run { db in
                let applied = try await FundingWebhookRoutes.apply(
                    event: event.id, amountMinor: event.amountMinor, currency: event.currency, order: order, provider: name, connection: name, db: db,
                    now: now)
                return Answer(eventId: applied.eventId, outcome: applied.outcome, remittance: applied.remittance)
            }
        } else {
            // Recorded once for the record; nothing moves.
            let outcome = event.order == nil ? "unknown-remittance" : (event.kind == .failed ? "payment-failed" : "ignored")
            let first = try await session.run { db in
                try await RemittanceStore(db).recordProviderEvent(provider: name, event: event.id, order: event.order, outcome: outcome)
            }
            answer = Answer(eventId: event.id, outcome: first ? outcome : "duplicate", remittance: nil)
        }
        if answer.outcome == "funded" { kick(tenant) }
        return try Response.json(answer)
    }
}
