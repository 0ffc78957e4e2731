import Ledger
import Foundation
import Hummingbird
import NzilaCore
import NzilaDatabase
import NzilaPartners

/// `POST /v1/quotes`, `GET /v1/quotes/{id}` on the data plane (`remittance` domain).
///
/// With a `RateFallback`, a corridor whose reference rate is older than its bound is priced at the fallback provider's
/// rate, asked outside any transaction (the first transaction finds the rate stale and ends, writing nothing; a second
/// one prices and records the quote), and the quote records its rate source either way.
public struct QuoteRoutes: Sendable {
    let fallback: RateFallback?

    public init(fallback: RateFallback? = nil) {
        self.fallback = fallback
    }

    /// The reference rate of a corridor is stale: the quote is priced again at the fallback's rate.
    struct StaleReferenceRate: Error {
        let corridor: Corridor
    }

    struct QuoteBody: StrictBody {
        static let fields: Set<String> = ["corridor", "method", "send_amount", "receive_amount", "member_id"]
        let corridor: String
        let method: String
        let sendAmount: Int64?
        let receiveAmount: Int64?
        let memberId: String?
    }

    public func mount(on routes: TenantRoutes) {
        routes.route(.post, "/v1/quotes", "Quote a remittance from a send or a receive amount; the rate and fee hold for 30 minutes", access: .ownOrStaff(.sendRemittances), body: QuoteBody.self, answer: QuoteRecord.self, use: { request, context in
            let body = try await request.decodeStrict(QuoteBody.self)
            let member = try Self.member(body.memberId, context)
            var errors: [FieldError] = []
            if (body.sendAmount == nil) == (body.receiveAmount == nil) {
                errors.append(FieldError(field: "send_amount", message: "give either send_amount or receive_amount, in minor units"))
            }
            for (field, value) in [("send_amount", body.sendAmount), ("receive_amount", body.receiveAmount)] where (value ?? 1) <= 0 {
                errors.append(FieldError(field: field, message: "must be a positive whole number of minor units"))
            }
            guard errors.isEmpty else { throw Problem.validation(errors) }
            let price = { @Sendable (override: (rate: FXRate, source: String)?) async throws -> QuoteRecord in
                try await context.session.run { db -> QuoteRecord in
                    let store = QuoteStore(db)
                    guard let inputs = try await store.inputs(corridor: body.corridor), inputs.corridor.active else {
                        throw Problem.validation(field: "corridor", "is not a corridor this platform sends to (such as CAD-NGN)")
                    }
                    let corridor = inputs.corridor
                    guard corridor.payoutMethods.contains(body.method) else {
                        throw Problem.validation(field: "method", "must be one of \(corridor.payoutMethods.joined(separator: ", ")) for \(corridor.code)")
                    }
                    guard let schedule = FeeSchedule.from(fees: inputs.fees, corridor: corridor.code, method: body.method) else {
                        throw Problem(
                            .unprocessableContent, "corridor-not-offered", "Corridor not offered",
                            detail: "This credit union has no fee for \(corridor.code) by \(body.method), so it does not offer it.")
                    }
                    if override == nil, let fallback, !RateFreshness.isFresh(asOf: inputs.asOf, now: context.now, bound: fallback.staleAfter) {
                        throw StaleReferenceRate(corridor: corridor)
                    }
                    let spread = inputs.fees?.fxSpreadBps ?? 0
                    let basis: QuoteBasis = body.sendAmount.map { .send(Money(minorUnits: $0, currency: .cad)) }
                        ?? .receive(Money(minorUnits: body.receiveAmount ?? 0, currency: corridor.receiveCurrency))
                    let quote = try QuoteEngine.quote(
                        basis, receiveCurrency: corridor.receiveCurrency, mid: override?.rate ?? inputs.mid, spreadBps: spread, schedule: schedule,
                        limits: .init(minSendMinor: corridor.minSendMinor, maxSendMinor: corridor.maxSendMinor))
                    return try await store.record(
                        quote, member: member, by: context.principal, now: context.now,
                        rateSource: String((override?.source ?? inputs.source).prefix(100)))
                }
            }
            let record: QuoteRecord
            do {
                record = try await price(nil)
            } catch let stale as StaleReferenceRate {
                record = try await price(try await fallbackRate(stale.corridor, now: context.now))
            }
            return try Response.json(record, status: .created, headers: [.location: "/v1/quotes/\(record.id)"])
        })
        routes.route(.get, "/v1/quotes/{id}", "A quote with every component and its expiry (its member, or staff)", access: .ownOrStaff(.sendRemittances), answer: QuoteRecord.self, use: { request, context in
            let id = try context.pathUUID("Quote")
            guard let record = try await context.session.run({ try await QuoteStore($0).find(id) }),
                context.memberID == nil || record.memberID == context.memberID
            else { throw Problem.notFound("Quote \(id.lowercased)") }
            return try Response.json(record)
        })
    }

    /// The fallback provider's rate for a corridor whose reference rate is stale; a 503 when there is none to be had.
    func fallbackRate(_ corridor: Corridor, now: Date) async throws -> (rate: FXRate, source: String) {
        do {
            guard let fallback, let source = fallback.source else { throw PartnerUnavailable(description: "no FX fallback") }
            return (try await fallback.rate(from: .cad, to: corridor.receiveCurrency, now: now), source)
        } catch {
            throw Problem(
                .serviceUnavailable, "fx-rate-stale", "Exchange rate unavailable",
                detail: "The rate for \(corridor.code) is out of date and no current rate could be had; try again shortly.", headers: [.retryAfter: "60"])
        }
    }

    /// Whose quote: a member quotes for themselves; staff (who may send remittances: the route checked) name the member.
    static func member(_ raw: String?, _ context: TenantRequestContext) throws -> UUID? {
        if let member = context.memberID {
            guard raw == nil || UUID(uuidString: raw ?? "") == member.rawValue else {
                throw Problem.validation(field: "member_id", "a member quotes only for themselves")
            }
            return member.rawValue
        }
        guard let raw else { return nil }
        guard let id = UUID(uuidString: raw) else { throw Problem.validation(field: "member_id", "must be a UUID") }
        return id
    }
}
