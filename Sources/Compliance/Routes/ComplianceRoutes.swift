import Foundation
import Hummingbird
import NzilaCore
import NzilaDatabase

/// The compliance domain's routes on the data plane (`compliance` in the tenant's enabled domains).
public struct ComplianceRoutes: Sendable {
    let screening: ScreeningIndexCache

    public init(screening: ScreeningIndexCache) {
        self.screening = screening
    }

    struct ScreeningBody: StrictBody {
        static let fields: Set<String> = ["name", "date_of_birth", "nationality", "member_id"]
        let name: String
        let dateOfBirth: String?
        let nationality: String?
        let memberId: String?
    }

    public func mount(on routes: TenantRoutes) {
        routes.route(
            .post, "/v1/compliance/screenings", "Screen a name against the sanctions and PEP lists; the decision is recorded", access: .staff(.screenNames),
            body: ScreeningBody.self, answer: ScreeningRecord.self,
            use: { request, context in
                let body = try await request.decodeStrict(ScreeningBody.self)
                let (query, member) = try Self.validate(body, today: context.now)
                let index = try await screening.index(context.session.unaudited)
                guard !index.listVersions.isEmpty else {
                    throw Problem(
                        .serviceUnavailable, "screening-lists-missing", "No screening list loaded",
                        detail: "No sanctions or PEP list is loaded on this platform, so no name can be cleared; an operator loads them with nzila reference load-sanctions.")
                }
                let record = try await context.session.run { db -> ScreeningRecord in
                    let result = index.screen(query, thresholds: try await ComplianceSettings.load(db).screening)
                    if let member {
                        let known = try await db.query("SELECT EXISTS (SELECT 1 FROM members WHERE id = \(member))").first(Bool.self) ?? false
                        guard known else { throw Problem.validation(field: "member_id", "names no member of this credit union") }
                    }
                    let record = try await ScreeningStore(db).record(
                        id: UUID(), purpose: "manual", memberID: member, query: query, result: result, by: context.principal)
                    // A member who does not clear goes to the officers' queue with the screening behind it.
                    if let member {
                        try await MemberScreening.queue(db, member: member, name: query.name, purpose: "manual", screening: record, result: result, by: context.principal)
                    }
                    return record
                }
                return try Response.json(record, status: .created, headers: [.location: "/v1/compliance/screenings/\(record.id)"])
            })
        routes.route(
            .get, "/v1/compliance/screenings", "Recorded screenings, newest first (?member_id= for one member's)", access: .staff(.readCompliance),
            answer: Page<ScreeningRecord>.self,
            use: { request, context in
                let query = request.queryDictionary
                let member = try query["member_id"].map { raw throws(Problem) -> UUID in
                    guard let id = UUID(uuidString: raw) else { throw Problem.validation(field: "member_id", "must be a UUID") }
                    return id
                }
                let page = try PageRequest(query: query)
                return try Response.json(try await context.session.run { try await ScreeningStore($0).screenings(member: member, page: page) })
            })
        routes.route(
            .get, "/v1/compliance/screenings/{id}", "A recorded screening: the decision, every candidate and why", access: .staff(.readCompliance), answer: ScreeningRecord.self,
            use: { request, context in
                let id = try context.pathUUID("Screening")
                guard let record = try await context.session.run({ try await ScreeningStore($0).screening(id) }) else {
                    throw Problem.notFound("Screening \(id.lowercased)")
                }
                return try Response.json(record)
            })
    }

    /// Every field error at once: a name with a letter in it, a real past date, a two-letter country code.
    static func validate(_ body: ScreeningBody, today: Date) throws -> (ScreeningQuery, UUID?) {
        var errors: [FieldError] = []
        let name = Validate.name(body.name, field: "name").get(into: &errors)
        if let name, !name.contains(where: \.isLetter) { errors.append(FieldError(field: "name", message: "must contain a letter")) }
        var dateOfBirth: String?
        if let raw = body.dateOfBirth {
            if let date = CalendarDay.parse(raw), date <= today {
                dateOfBirth = raw
            } else {
                errors.append(FieldError(field: "date_of_birth", message: "must be a past date as YYYY-MM-DD"))
            }
        }
        let nationality = body.nationality.flatMap { Validate.countryCode($0, field: "nationality").get(into: &errors) }
        var member: UUID?
        if let raw = body.memberId {
            member = UUID(uuidString: raw)
            if member == nil { errors.append(FieldError(field: "member_id", message: "must be a UUID")) }
        }
        guard errors.isEmpty, let name else { throw Problem.validation(errors) }
        return (ScreeningQuery(name: name, dateOfBirth: dateOfBirth, nationality: nationality), member)
    }
}
