import Foundation
import Hummingbird
import NzilaCore
import NzilaDatabase

/// KYC on the data plane: evidence on file, tiers and their history, under `/v1/members/{id}/kyc`.
public struct KYCRoutes: Sendable {
    let keys: TenantDataKeys

    public init(keys: TenantDataKeys) {
        self.keys = keys
    }

    struct DocumentBody: StrictBody {
        static let fields: Set<String> = ["kind", "number", "issuing_country", "expires_on", "notes"]
        let kind: String
        let number: String?
        let issuingCountry: String?
        let expiresOn: String?
        let notes: String?
    }

    struct TierBody: StrictBody {
        static let fields: Set<String> = ["tier", "reason"]
        let tier: Int
        let reason: String
    }

    public func mount(on routes: TenantRoutes) {
        routes.route(.get, "/v1/members/{id}/kyc", "A member's KYC tier, evidence (numbers masked) and tier history (staff, or that member)", access: .ownOrStaff(.readMembers), answer: KYCProfile.self, use: { request, context in
            let member = try context.pathUUID("Member")
            guard context.memberID == nil || context.memberID?.rawValue == member,
                let profile = try await context.session.run({ try await KYCStore($0).profile(of: member) })
            else { throw Problem.notFound("Member \(member.lowercased)") }
            return try Response.json(profile)
        })
        routes.route(.post, "/v1/members/{id}/kyc/documents", "Record a verified piece of KYC evidence (the number is sealed at rest)", access: .staff(.manageKYC), body: DocumentBody.self, answer: KYCDocumentRecord.self, use: { request, context in
            let member = try context.pathUUID("Member")
            let body = try await request.decodeStrict(DocumentBody.self)
            let (kind, number, country, expires, notes) = try Self.validate(body, today: context.now)
            let record = try await context.session.run { db -> KYCDocumentRecord in
                guard try await KYCStore(db).tier(of: member) != nil else { throw Problem.notFound("Member \(member.lowercased)") }
                return try await KYCStore(db).add(
                    member: member, kind: kind, number: number, issuingCountry: country, expiresOn: expires, notes: notes, by: context.principal, keys: keys)
            }
            return try Response.json(record, status: .created)
        })
        routes.route(.post, "/v1/members/{id}/kyc/documents/{document}/reveal", "Unseal a document number (audited)", access: .staff(.revealKYC), answer: [String: String].self, use: { request, context in
            let member = try context.pathUUID("Member")
            let document = try context.pathUUID("Document", "document")
            guard let number = try await context.session.run({ try await KYCStore($0).reveal(member: member, document: document, keys: keys) }) else {
                throw Problem.notFound("Document \(document.lowercased)")
            }
            return try Response.json(["document_id": document.lowercased, "number": number], headers: [.cacheControl: "no-store"])
        })
        routes.route(.post, "/v1/members/{id}/kyc/tier", "Move a member to another KYC tier, with a reason; the evidence is checked", access: .staff(.manageKYC), body: TierBody.self, answer: KYCProfile.self, use: { request, context in
            let member = try context.pathUUID("Member")
            let body = try await request.decodeStrict(TierBody.self)
            var errors: [FieldError] = []
            if !(1...4).contains(body.tier) { errors.append(FieldError(field: "tier", message: "must be 1, 2, 3 or 4")) }
            let reason = body.reason.trimmingCharacters(in: .whitespacesAndNewlines)
            if !(1...1000).contains(reason.count) { errors.append(FieldError(field: "reason", message: "must be 1 to 1000 characters")) }
            guard errors.isEmpty else { throw Problem.validation(errors) }
            let today = CalendarDay.format(context.now)
            let profile = try await context.session.run { db -> KYCProfile in
                let store = KYCStore(db)
                guard let current = try await store.tier(of: member, lock: true) else { throw Problem.notFound("Member \(member.lowercased)") }
                let evidence = try await store.evidence(of: member, today: today)
                if let refusal = KYCTiers.refusal(from: current, to: body.tier, evidence: evidence, role: context.principal.role) {
                    throw refusal
                }
                try await store.changeTier(member: member, from: current, to: body.tier, reason: reason, by: context.principal)
                guard let profile = try await store.profile(of: member) else { throw Problem.internalError }
                return profile
            }
            return try Response.json(profile)
        })
    }

    static func validate(_ body: DocumentBody, today: Date) throws -> (KYCEvidence, String?, String?, String?, String?) {
        var errors: [FieldError] = []
        let kind = KYCEvidence(rawValue: body.kind)
        if kind == nil { errors.append(FieldError(field: "kind", message: "must be one of \(KYCEvidence.allCases.map(\.rawValue).joined(separator: ", "))")) }
        let number = body.number?.trimmingCharacters(in: .whitespaces).uppercased()
        if let kind, kind.isIdentityDocument {
            if number == nil || !(5...30).contains(number!.count) || !number!.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) {
                errors.append(FieldError(field: "number", message: "an identity document needs its number: 5 to 30 letters, digits or hyphens"))
            }
            if body.expiresOn == nil { errors.append(FieldError(field: "expires_on", message: "an identity document needs its expiry date")) }
        } else if number != nil {
            errors.append(FieldError(field: "number", message: "only identity documents carry a number"))
        }
        let country = body.issuingCountry.flatMap { Validate.countryCode($0, field: "issuing_country").get(into: &errors) }
        if let expires = body.expiresOn {
            if let date = CalendarDay.parse(expires) {
                if date < today { errors.append(FieldError(field: "expires_on", message: "has passed: an expired document is not evidence")) }
            } else {
                errors.append(FieldError(field: "expires_on", message: "must be a date as YYYY-MM-DD"))
            }
        }
        let notes = body.notes?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let notes, notes.count > 1000 { errors.append(FieldError(field: "notes", message: "must be at most 1000 characters")) }
        guard errors.isEmpty, let kind else { throw Problem.validation(errors) }
        return (kind, kind.isIdentityDocument ? number : nil, country, body.expiresOn, notes?.isEmpty == true ? nil : notes)
    }
}
