import Foundation
import Hummingbird
import NzilaCore
import NzilaDatabase

/// A member's AML risk rating, for staff only (a member is never told their rating: no tipping off), under
/// `/v1/members/{id}/risk`:
///
/// - `GET …/risk`: the current rating with its score and reasons, the profile it was made from, and every earlier
///   rating (what changed and when). A member never rated yet is rated on this first read.
/// - `PUT …/risk/profile`: what the member declared or staff established — occupation (a code such as `nurse`,
///   `money_services`), country of residence, expected monthly sending in CAD minor units, PEP status (`none`,
///   `domestic`, `foreign`, `international_org`) and whether the member is a PEP's family member or close associate.
///   The member is rated again at once. The rating is also refreshed when the member is enrolled or rescreened and
///   when they place a remittance.
public struct RiskRoutes: Sendable {
    public init() {}

    struct ProfileBody: StrictBody {
        static let fields: Set<String> = ["occupation", "residence_country", "expected_monthly_minor", "pep", "pep_associate"]
        let occupation: String?
        let residenceCountry: String?
        let expectedMonthlyMinor: Int64?
        let pep: String
        let pepAssociate: Bool
    }

    struct Answer: Codable, Sendable {
        let memberId: String
        let current: MemberRiskRating?
        let profile: MemberRiskProfile
        let history: [MemberRiskRating]
    }

    public func mount(on routes: TenantRoutes) {
        routes.route(.get, "/v1/members/{id}/risk", "A member's AML risk rating, its reasons, the profile behind it and earlier ratings (staff only)", access: .staff(.readCompliance), answer: Answer.self, use: { _, context in
            let member = try context.pathUUID("Member")
            return try Response.json(try await context.session.run { db in try await Self.answer(db, member: member, rateIfNone: true) })
        })
        routes.route(.put, "/v1/members/{id}/risk/profile", "Record a member's occupation, residence, expected sending and PEP status; the member is rated again", access: .staff(.manageKYC), body: ProfileBody.self, answer: Answer.self, use: { request, context in
            let member = try context.pathUUID("Member")
            let body = try await request.decodeStrict(ProfileBody.self)
            var errors: [FieldError] = []
            if let occupation = body.occupation, occupation.range(of: #"^[a-z][a-z_]{1,39}$"#, options: .regularExpression) == nil {
                errors.append(FieldError(field: "occupation", message: "must be an occupation code: 2 to 40 lower-case letters and underscores"))
            }
            let country = body.residenceCountry?.uppercased()
            if let country, country.range(of: #"^[A-Z]{2}$"#, options: .regularExpression) == nil {
                errors.append(FieldError(field: "residence_country", message: "must be an ISO 3166 alpha-2 country code"))
            }
            if let expected = body.expectedMonthlyMinor, !(0...100_000_000_000).contains(expected) {
                errors.append(FieldError(field: "expected_monthly_minor", message: "must be 0 to 100000000000 (CAD minor units)"))
            }
            let pep = CustomerRisk.PEP(rawValue: body.pep)
            if pep == nil { errors.append(FieldError(field: "pep", message: "must be one of none, domestic, foreign, international_org")) }
            if pep == CustomerRisk.PEP.none && body.pepAssociate {
                errors.append(FieldError(field: "pep_associate", message: "needs the PEP's kind in pep"))
            }
            guard errors.isEmpty, let pep else { throw Problem.validation(errors) }
            let answer = try await context.session.run { db -> Answer in
                guard try await KYCStore(db).tier(of: member, lock: true) != nil else { throw Problem.notFound("Member \(member.lowercased)") }
                try await CustomerRiskStore(db).saveProfile(
                    member: member, occupation: body.occupation, residenceCountry: country, expectedMonthlyMinor: body.expectedMonthlyMinor, pep: pep,
                    pepAssociate: body.pepAssociate, by: ChangeActor(context.principal))
                try await CustomerRiskStore(db).refresh(member: member, because: "risk profile recorded by staff")
                return try await Self.answer(db, member: member, rateIfNone: false)
            }
            return try Response.json(answer)
        })
    }

    static func answer(_ db: TenantDB, member: UUID, rateIfNone: Bool) async throws -> Answer {
        let store = CustomerRiskStore(db)
        guard let profile = try await store.profile(of: member) else { throw Problem.notFound("Member \(member.lowercased)") }
        var history = try await store.ratings(of: member)
        if history.isEmpty, rateIfNone, let first = try await store.refresh(member: member, because: "first read") { history = [first] }
        return Answer(memberId: member.lowercased, current: history.first, profile: profile, history: history)
    }
}
