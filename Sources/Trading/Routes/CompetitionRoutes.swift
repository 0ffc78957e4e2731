import Foundation
import Hummingbird
import NzilaCore
import NzilaDatabase
import NzilaValues

struct AmountBody: Codable, Sendable {
    let amount: Int64?
    let currency: String?
}

struct CompetitionBody: StrictBody {
    static let fields: Set<String> = ["name", "starts_at", "ends_at", "starting_cash", "max_position_pct", "late_entry", "required_course"]
    /// 2 to 80 characters.
    let name: String?
    /// RFC 3339 instants; the end after the start and in the future.
    let startsAt: String?
    let endsAt: String?
    /// `{"amount": minor units, "currency": "CAD"}`: each participant's paper cash.
    let startingCash: AmountBody?
    /// The most one instrument may weigh in a participant's equity after a buy, 1–100 (default 100: no cap).
    let maxPositionPct: Int?
    /// Members may join after the start (default false).
    let lateEntry: Bool?
    /// An academy course id a member must have completed to join.
    let requiredCourse: String?
}

struct JoinBody: StrictBody {
    static let fields: Set<String> = ["member_id"]
    let memberId: String?
}

/// Competitions run by staff (`Competition`, `CompetitionStore`): create, list, join, and the board.
struct CompetitionRoutes {
    func mount(on routes: TenantRoutes) {
        routes.route(
            .post, "/v1/trading/competitions", "Create a trading competition: dates, starting cash, position cap, late entry, a required course",
            access: .staff(.manageTrading), body: CompetitionBody.self, answer: CompetitionView.self
        ) { request, context in
            let body = try await request.decodeStrict(CompetitionBody.self)
            var new = try Self.validate(body, now: context.now)
            let staff = context.principal.id
            let view = try await context.session.run { db -> CompetitionView in
                if let course = new.requiredCourse, try await AcademyStore(db).course(course, language: .en) == nil {
                    throw Problem.validation(field: "required_course", "names no academy course (GET /v1/academy/courses)")
                }
                new.name = new.name.trimmingCharacters(in: .whitespaces)
                return try await CompetitionStore(db).create(new, by: staff).view(now: db.now)
            }
            return try Response.json(view, status: .created, headers: [.location: "/v1/trading/competitions/\(view.id)"])
        }
        routes.route(
            .get, "/v1/trading/competitions", "Competitions, latest start first, each with its phase and the caller's account in it", access: .ownOrStaff(.readTrading),
            answer: Page<CompetitionView>.self
        ) { request, context in
            let page = try PageRequest(query: request.queryDictionary)
            let member = context.memberID
            return try Response.json(try await context.session.run { try await CompetitionStore($0).list(member: member, page: page) })
        }
        routes.route(.get, "/v1/trading/competitions/{id}", "One competition", access: .ownOrStaff(.readTrading), answer: CompetitionView.self) { _, context in
            let id = TradingCompetitionID(try context.pathUUID("Competition"))
            let member = context.memberID
            let view = try await context.session.run { db -> CompetitionView in
                guard let row = try await CompetitionStore(db).competition(id, member: member) else { throw Problem.notFound("Competition") }
                return row.view(now: db.now)
            }
            return try Response.json(view)
        }
        routes.route(
            .post, "/v1/trading/competitions/{id}/join", "Join a competition: a separate paper account with its starting cash (needs a trading profile)",
            access: .ownOrStaff(.manageTrading), body: JoinBody.self, answer: TradingAccount.self
        ) { request, context in
            let id = TradingCompetitionID(try context.pathUUID("Competition"))
            let member = try context.subject(named: try await request.decodeStrict(JoinBody.self).memberId)
            let account = try await context.session.run { db -> TradingAccount in
                let store = CompetitionStore(db)
                // Under the competition's row lock: a join never races the freeze.
                guard let competition = try await store.competition(id, member: member, lock: true) else { throw Problem.notFound("Competition") }
                let completed = try await competition.requiredCourse.asyncMap { try await AcademyStore(db).completed(member: member, course: $0) } ?? true
                if let refusal = Competition.joinRefusal(
                    phase: competition.phase(now: db.now), lateEntry: competition.lateEntry, alreadyJoined: competition.accountId != nil,
                    requiredCourse: competition.requiredCourse, courseCompleted: completed)
                {
                    throw Self.problem(refusal)
                }
                guard try await LeaderboardStore(db).profile(member: member) != nil else {
                    throw RuleError(
                        .conflict, "profile-required", "Trading profile required",
                        detail: "A competition's board shows display names: set one first (PUT /v1/trading/profile).")
                }
                guard let account = try await TradingStore(db).openCompetitionAccount(member: member, competition: id, startingCash: competition.startingCash) else {
                    throw Problem.validation(field: "member_id", "names no active member")
                }
                return account
            }
            return try Response.json(account, status: .created, headers: [.location: "/v1/trading/account?account_id=\(account.id)"])
        }
        routes.route(
            .get, "/v1/trading/competitions/{id}/leaderboard",
            "A competition's board: each participant's value at their latest snapshot through the final day, ranked; final once frozen",
            access: .ownOrStaff(.readTrading), answer: Page<CompetitionStanding>.self
        ) { request, context in
            let id = TradingCompetitionID(try context.pathUUID("Competition"))
            let page = try PageRequest(query: request.queryDictionary)
            let board = try await context.session.run { db -> Page<CompetitionStanding> in
                let store = CompetitionStore(db)
                guard let competition = try await store.competition(id) else { throw Problem.notFound("Competition") }
                return try await store.standings(competition, page: page)
            }
            return try Response.json(board)
        }
    }

    static func problem(_ refusal: Competition.JoinRefusal) -> RuleError {
        switch refusal {
        case .ended: RuleError(.conflict, "competition-ended", "Competition ended", detail: "The competition is over; it takes no more participants.")
        case .lateEntryClosed:
            RuleError(.conflict, "late-entry-closed", "Late entry closed", detail: "The competition has started and does not allow late entry.")
        case .alreadyJoined: RuleError(.conflict, "already-joined", "Already joined", detail: "The member has an account in this competition.")
        case .courseRequired(let course):
            RuleError(
                .conflict, "course-required", "Course required",
                detail: "The competition requires the academy course \(course) first (GET /v1/academy/courses/\(course)).")
        }
    }

    /// The body as a new competition, every bad field named at once.
    static func validate(_ body: CompetitionBody, now: Date) throws -> CompetitionStore.New {
        var errors: [FieldError] = []
        let name = (body.name ?? "").trimmingCharacters(in: .whitespaces)
        // Counted as the table counts it: code points.
        if !(2...80).contains(name.unicodeScalars.count) || name.contains(where: \.isNewline) {
            errors.append(FieldError(field: "name", message: "must be 2 to 80 characters on one line"))
        }
        let starts = body.startsAt.flatMap(Self.instant)
        if starts == nil { errors.append(FieldError(field: "starts_at", message: "must be an RFC 3339 instant such as 2026-12-01T14:00:00Z")) }
        let ends = body.endsAt.flatMap(Self.instant)
        if ends == nil {
            errors.append(FieldError(field: "ends_at", message: "must be an RFC 3339 instant such as 2026-12-31T21:00:00Z"))
        } else if let ends, let starts, ends <= starts {
            errors.append(FieldError(field: "ends_at", message: "must be after starts_at"))
        } else if let ends, ends <= now {
            errors.append(FieldError(field: "ends_at", message: "must be in the future"))
        }
        let cash = body.startingCash
        if cash?.currency != "CAD" { errors.append(FieldError(field: "starting_cash.currency", message: "must be CAD: paper accounts are in CAD")) }
        if !(100...100_000_000_000).contains(cash?.amount ?? 0) {
            errors.append(FieldError(field: "starting_cash.amount", message: "must be 100 to 100000000000 minor units (1.00 to 1,000,000,000.00 CAD)"))
        }
        let pct = body.maxPositionPct ?? 100
        if !(1...100).contains(pct) { errors.append(FieldError(field: "max_position_pct", message: "must be a whole percentage from 1 to 100")) }
        if let course = body.requiredCourse, course.range(of: #"^[a-z0-9][a-z0-9-]{1,63}$"#, options: .regularExpression) == nil {
            errors.append(FieldError(field: "required_course", message: "must be an academy course id (GET /v1/academy/courses)"))
        }
        let finalDay = ends.flatMap { Competition.finalDay(endsAt: $0) }
        if let finalDay, let starts, let startDay = Day(utc: starts), finalDay < startDay {
            errors.append(FieldError(field: "ends_at", message: "the competition must span at least one trading day (Monday to Friday)"))
        }
        guard errors.isEmpty, let starts, let ends, let finalDay, let amount = cash?.amount else { throw Problem.validation(errors) }
        return CompetitionStore.New(
            name: name, startsAt: starts, endsAt: ends, finalDay: finalDay, startingCash: amount, maxPositionBps: pct * 100, lateEntry: body.lateEntry ?? false,
            requiredCourse: body.requiredCourse)
    }

    /// An RFC 3339 instant, with or without fractional seconds.
    static func instant(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }
}
