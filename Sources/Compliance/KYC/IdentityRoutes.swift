import Foundation
import Hummingbird
import NzilaCore
import NzilaDatabase
import NzilaPartners

/// Identity verification with the tenant's provider (its `identity` section), under `/v1/members/{id}/kyc`:
///
/// - `POST …/verifications`: a session (document + matching selfie) opened with the provider, outside any transaction,
///   then recorded; the member's app completes it with the client secret (given to the member only), or staff hand the
///   member the hosted link.
/// - `GET …/verifications`: the member's sessions and their status.
/// - `POST /v1/webhooks/identity/{connection}`: the provider's signed events (`Stripe-Signature`). A verified session is
///   read back from the provider (the document's type, number, issuing country and expiry, and the selfie's match) and
///   recorded, under the member's lock and once, as KYC evidence carrying the provider's report id: the identity
///   document (its number sealed under the tenant's key) and the selfie match. When the section says `grant_tier: 2`,
///   the member then moves to tier 2 if the evidence allows it, the tier history naming the provider as the author.
public struct IdentityRoutes: Sendable {
    let keys: TenantDataKeys
    let providers: IdentityProviders

    public init(keys: TenantDataKeys, providers: IdentityProviders) {
        self.keys = keys
        self.providers = providers
    }

    struct Started: Codable, Sendable {
        let verification: KYCVerification
        let url: String?
        /// For the member's own app only.
        let clientSecret: String?
    }

    struct Answer: Codable, Sendable {
        let eventId: String
        let outcome: String
        let tier: Int?
    }

    public func mount(on routes: TenantRoutes) {
        routes.route(.post, "/v1/members/{id}/kyc/verifications", "Open an identity verification session (document + selfie) with the credit union's provider", access: .ownOrStaff(.manageKYC), answer: Started.self, use: { _, context in
            try await start(context)
        })
        routes.route(.get, "/v1/members/{id}/kyc/verifications", "A member's identity verification sessions and their status", access: .ownOrStaff(.readMembers), answer: [KYCVerification].self, use: { _, context in
            let member = try context.pathUUID("Member")
            guard context.memberID == nil || context.memberID?.rawValue == member else { throw Problem.notFound("Member \(member.lowercased)") }
            return try Response.json(try await context.session.run { db in try await KYCStore(db).verifications(of: member) })
        })
        routes.openRoute(.post, "/v1/webhooks/identity/{connection}", "An identity provider's event about a verification session (Stripe-Signature)", body: [String: JSONValue].self, answer: Answer.self, use: { request, context in
            try await receive(request, context)
        })
    }

    func start(_ context: TenantRequestContext) async throws -> Response {
        let member = try context.pathUUID("Member")
        guard context.memberID == nil || context.memberID?.rawValue == member else { throw Problem.notFound("Member \(member.lowercased)") }
        let section = try await context.session.run { db -> IdentitySection? in
            let store = KYCStore(db)
            guard try await store.tier(of: member) != nil else { throw Problem.notFound("Member \(member.lowercased)") }
            return try await store.identitySection()
        }
        guard let section else {
            throw Problem(.unprocessableContent, "identity-provider-missing", "No identity provider", detail: "The credit union verifies identities with no provider; staff record the evidence.")
        }
        guard providers.tenants.allows(section.connection, tenant: context.tenant.slug.value) else {
            throw Problem(
                .unprocessableContent, "partner-not-allowed", "Provider not available",
                detail: "The identity provider \(section.connection) is not available to this credit union.")
        }
        guard let provider = providers.provider(section.connection) else {
            throw Problem(.serviceUnavailable, "identity-provider-unavailable", "Identity provider unavailable", detail: "The identity provider \(section.connection) is not reachable from this data plane.")
        }
        let id = UUID()
        let session: StripeIdentityProvider.Session
        do {
            session = try await provider.start(verification: id, member: member)
        } catch {
            throw Problem(
                .serviceUnavailable, "identity-provider-unavailable", "Identity provider unavailable", detail: "The identity provider did not open a session; try again.",
                headers: [.retryAfter: "30"])
        }
        let verification = try await context.session.run { db -> KYCVerification in
            let store = KYCStore(db)
            try await store.startVerification(id, member: member, connection: section.connection, session: session.id, status: session.status, by: context.principal)
            guard let made = try await store.verifications(of: member).first(where: { $0.id == id.lowercased }) else { throw Problem.internalError }
            return made
        }
        return try Response.json(
            Started(verification: verification, url: session.url, clientSecret: context.memberID == nil ? nil : session.clientSecret), status: .created)
    }

    func receive(_ request: Request, _ context: OpenTenantRequestContext) async throws -> Response {
        let name = try context.pathText("Connection", "connection")
        guard let provider = providers.provider(name, for: context.tenant.slug.value), let secret = providers.secret(name) else { throw Problem.notFound("Identity provider \(name.prefix(40))") }
        let raw = try await request.jsonBody()
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let event = try WebhookSignature.receiving { try provider.event(headers: headers, body: raw, secret: secret, nowSeconds: $0) }
        let status: String? = switch event.type {
        case "identity.verification_session.verified": "verified"
        case "identity.verification_session.requires_input": "requires_input"
        case "identity.verification_session.processing": "processing"
        case "identity.verification_session.canceled": "canceled"
        default: nil
        }
        guard let status else { return try Response.json(Answer(eventId: event.id, outcome: "ignored", tier: nil)) }
        // The verified result is read from the provider before the transaction (never a network call inside one); the
        // event itself carries no document details.
        var verified: StripeIdentityProvider.Verified?
        if status == "verified" {
            do {
                verified = try await provider.verified(session: event.session)
            } catch {
                // The provider retries an event it did not get a 2xx for: nothing is recorded until the report is read.
                throw Problem(
                    .serviceUnavailable, "identity-provider-unavailable", "Identity provider unavailable",
                    detail: "The verified session could not be read back from the provider; the event will be applied when it is sent again.",
                    headers: [.retryAfter: "60"])
            }
        }
        let (session, keys, today) = (context.session, self.keys, CalendarDay.format(context.now))
        let answer = try await session.run { db -> Answer in
            let store = KYCStore(db)
            guard let found = try await store.lockVerification(session: event.session, connection: name) else {
                return Answer(eventId: event.id, outcome: "unknown-session", tier: nil)
            }
            // Applied once: a verified session stays verified, whatever comes after.
            guard found.status != "verified" else { return Answer(eventId: event.id, outcome: "duplicate", tier: nil) }
            guard status == "verified" else {
                try await store.settleVerification(found.id, status: status)
                return Answer(eventId: event.id, outcome: status, tier: nil)
            }
            guard let verified, verified.selfieMatched else {
                try await store.settleVerification(found.id, status: "requires_input")
                return Answer(eventId: event.id, outcome: "not-verified", tier: nil)
            }
            let actor = ChangeActor(id: nil, role: "provider:\(name)")
            let document = try await store.add(
                member: found.member, kind: verified.kind, number: verified.number, issuingCountry: verified.issuingCountry, expiresOn: verified.expiresOn,
                notes: "Verified by \(name), session \(event.session)", by: actor, reference: verified.report, keys: keys)
            let selfie = try await store.add(
                member: found.member, kind: .selfieMatch, number: nil, issuingCountry: nil, expiresOn: nil, notes: "Selfie matched the document (\(name))",
                by: actor, reference: verified.report, keys: keys)
            try await store.settleVerification(found.id, status: "verified", documents: [document.id.rawValue, selfie.id.rawValue])
            var tier = try await store.tier(of: found.member)
            if try await store.identitySection()?.grantTier == 2, let current = tier, current < 2,
                KYCTiers.refusal(from: current, to: 2, evidence: try await store.evidence(of: found.member, today: today), role: .teller) == nil
            {
                try await store.changeTier(member: found.member, from: current, to: 2, reason: "identity verified by \(name) (report \(verified.report))", by: actor)
                tier = 2
            }
            return Answer(eventId: event.id, outcome: "verified", tier: tier)
        }
        return try Response.json(answer)
    }
}
