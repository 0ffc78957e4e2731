import Foundation
import HTTPTypes
import Hummingbird
import NzilaCore
import NzilaDatabase
import NzilaPartners

/// `POST /v1/webhooks/payouts/{partner}`: a payout partner (a registry connection with a callback secret) reports a
/// transaction's status at the tenant's address, as the `callback_url` it was given with the transaction. The body is
/// the partner's transaction object (Thunes-style: `id`, `status`, `status_class`, `external_id` = the order id).
///
/// Signed with the connection's callback secret (`Nzila-Signature`, the same scheme as every inbound webhook: a
/// timestamp within 5 minutes and an HMAC compared in constant time); each status of each transaction is applied once
/// (`webhook_events`, by partner and `id:status`: a repeat answers `duplicate` and does nothing). Applied as the worker
/// applies the partner's own answer, to the attempt that partner has in flight for the order; polling stays the
/// fallback, so a lost callback delays a payout and never loses it. A verified callback always answers 200 with its
/// outcome, so the partner stops retrying.
public struct PayoutCallbackRoutes: Sendable {
    let step: PayoutStep
    let kick: @Sendable (TenantRef) -> Void

    public init(step: PayoutStep, kick: @escaping @Sendable (TenantRef) -> Void) {
        self.step = step
        self.kick = kick
    }

    struct Answer: Codable, Sendable {
        let eventId: String
        let outcome: String
        let state: String?
    }

    public func mount(on routes: TenantRoutes) {
        let step = self.step
        let kick = self.kick
        routes.openRoute(
            .post, "/v1/webhooks/payouts/{partner}", "A payout partner reports a transaction's status (signed per connection; each status once)",
            // The partner's whole transaction object, of which `id`, `status`, `status_class` and `external_id` are read.
            body: [String: JSONValue].self, answer: Answer.self,
            use: { request, context in
                let (tenant, session, now) = (context.tenant, context.session, context.now)
                let partner = try context.pathText("Partner", "partner")
                guard let secret = step.partners.callbackSecret(partner) else { throw Problem.notFound("Payout partner \(partner.prefix(40))") }
                let raw = try await request.jsonBody()
                let refusal = WebhookSignature.verifyReceived(
                    header: request.headers[FundingWebhookRoutes.signatureHeader], secret: secret, body: raw)
                if let refusal { throw refusal }
                let transaction: QuotationPayoutPartner.Transaction
                do {
                    transaction = try PartnerHTTP.decoder.decode(QuotationPayoutPartner.Transaction.self, from: raw)
                } catch {
                    throw Problem.validation(field: "status", "must be a transaction with an id, a status and an external_id")
                }
                guard let outcome = transaction.outcome else { throw Problem.validation(field: "status", "is not a status this platform knows") }
                let eventID = "\(transaction.id):\(transaction.status)"
                guard let order = transaction.externalId.flatMap(UUID.init(uuidString:)) else {
                    throw Problem.validation(field: "external_id", "must be the order id the transaction was created with")
                }
                let (answer, again) = try await session.run { db -> (Answer, Bool) in
                    let first = try await db.query(
                        """
                        INSERT INTO webhook_events (provider, event_id, remittance_id, outcome)
                        SELECT \("payout:\(partner)"), \(eventID), r.id, \(outcome.label) FROM (SELECT \(order) AS wanted) w
                        LEFT JOIN remittances r ON r.id = w.wanted
                        ON CONFLICT DO NOTHING RETURNING remittance_id
                        """
                    ).first(UUID?.self)
                    guard let first else { return (Answer(eventId: eventID, outcome: "duplicate", state: nil), false) }
                    guard first != nil else { return (Answer(eventId: eventID, outcome: "unknown-remittance", state: nil), false) }
                    guard let (state, again) = try await step.applyCallback(outcome, partner: partner, order: order, db: db, now: now) else {
                        return (Answer(eventId: eventID, outcome: "no-attempt-in-flight", state: nil), false)
                    }
                    return (Answer(eventId: eventID, outcome: outcome.label, state: state.rawValue), again)
                }
                // After the commit: a declined payout's next partner is called by the worker, which must see it.
                if again { kick(tenant) }
                return try Response.json(answer)
            })
    }
}
