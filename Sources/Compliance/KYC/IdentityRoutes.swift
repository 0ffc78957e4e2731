import Crypto
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
///   With a document store, the report's images (document front and back, selfie) are read from the provider first,
///   sealed under the tenant's key and stored, and recorded with the evidence as the member's KYC files (served only
///   through an audited reveal, like any upload).
public struct IdentityRoutes: Sendable {
    let keys: TenantDataKeys
    let providers: IdentityProviders
    /// Where the report's images go, sealed, as the member's KYC files (nil: they stay at the provider).
    let documents: (any DocumentStore)?
    let maxBytes: Int

    public init(keys: TenantDataKeys, providers: IdentityProviders, documents: (any DocumentStore)? = nil, maxBytes: Int = KYCFileRules.defaultMaxBytes) {
        self.keys = keys
        self.providers = providers
        self.documents = documents
        self.maxBytes = maxBytes
    }

    /// A report's image, sealed and written to the document store, to be recorded with the evidence.
    struct StoredImage: Sendable {
        let id: UUID
        let kind: String
        let mediaType: String
        let size: Int
        let sha256: Data
        let keyID: Int
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
        // Any connection that may have opened a session here, even one narrowed or removed since: the event applies only
        // to a session this tenant opened through this connection.
        guard let provider = providers.provider(name), let secret = providers.secret(name) else { throw Problem.notFound("Identity provider \(name.prefix(40))") }
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
        var images: [StoredImage] = []
        if let verified, verified.selfieMatched, let documents, !verified.files.isEmpty {
            images = try await storeImages(verified, from: provider, into: documents, session: event.session, connection: name, context)
        }
        let (session, keys, today, storeKind) = (context.session, self.keys, CalendarDay.format(context.now), documents?.kind)
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
            if let storeKind, !images.isEmpty {
                let files = KYCFiles(db)
                var count = try await files.lockedCount(member: found.member) ?? 0
                for image in images where count < KYCFileRules.maxFilesPerMember {
                    try await files.record(
                        KYCFiles.Upload(
                            id: image.id, member: found.member, kind: image.kind, mediaType: image.mediaType, size: image.size, sha256: image.sha256,
                            store: storeKind, keyID: image.keyID, document: image.kind == "selfie" ? selfie.id.rawValue : document.id.rawValue),
                        by: actor)
                    count += 1
                }
            }
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

    /// The report's images, read from the provider and sealed into the document store before anything is recorded
    /// (no network call inside a transaction). Nothing is read for a session already verified or unknown. A failure to
    /// read or store is a 503: the provider sends the event again, and nothing was recorded. An image that is not a
    /// JPEG, PNG, WebP or PDF, or is larger than the plane's limit, is left at the provider (said in the log). Objects
    /// written before a later failure, or not recorded (a duplicate event won the race), stay sealed and unnamed in the
    /// store: nothing serves them (no sweep removes them yet).
    func storeImages(
        _ verified: StripeIdentityProvider.Verified, from provider: StripeIdentityProvider, into documents: any DocumentStore, session: String,
        connection: String, _ context: OpenTenantRequestContext
    ) async throws -> [StoredImage] {
        let keys = self.keys
        let pending = try await context.session.unaudited.run { db -> (member: UUID, keyID: Int, key: SymmetricKey)? in
            guard let found = try await KYCStore(db).verification(session: session, connection: connection), found.status != "verified" else { return nil }
            let (keyID, key) = try await keys.current(db)
            return (found.member, keyID, key)
        }
        guard let pending else { return [] }
        let tenant = context.tenant.id.rawValue
        var stored: [StoredImage] = []
        for file in verified.files {
            let bytes: Data
            do {
                bytes = try await provider.file(file.id, limit: maxBytes)
            } catch let tooLarge as PartnerAnswerTooLarge {
                context.logger.warning("identity image left at the provider: over the plane's limit", metadata: ["partner": "\(connection)", "kind": "\(file.kind)", "error": "\(tooLarge)"])
                continue
            } catch {
                throw Problem(
                    .serviceUnavailable, "identity-provider-unavailable", "Identity provider unavailable",
                    detail: "The verified session's images could not be read from the provider; the event will be applied when it is sent again.",
                    headers: [.retryAfter: "60"])
            }
            guard let mediaType = KYCFileRules.sniff(bytes), !bytes.isEmpty else {
                context.logger.warning("identity image left at the provider: not an accepted type", metadata: ["partner": "\(connection)", "kind": "\(file.kind)"])
                continue
            }
            let id = UUID()
            let sealed = try KYCFiles.seal(bytes, key: pending.key, tenant: tenant, member: pending.member, file: id)
            do {
                try await documents.put(KYCFiles.objectKey(tenant: tenant, file: id), sealed)
            } catch {
                context.logger.warning("document store write failed", metadata: ["error": "\(error)"])
                throw KYCFileRoutes.unavailable()
            }
            stored.append(StoredImage(id: id, kind: file.kind, mediaType: mediaType, size: bytes.count, sha256: Data(SHA256.hash(data: bytes)), keyID: pending.keyID))
        }
        return stored
    }
}
