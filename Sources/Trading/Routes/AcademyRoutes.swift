import Foundation
import Hummingbird
import NzilaCore
import NzilaDatabase
import NzilaValues

struct AttemptBody: StrictBody {
    static let fields: Set<String> = ["answers", "member_id"]
    /// One choice index (from 0) per question, in order.
    let answers: [Int]?
    /// Staff record an attempt for a member (a member leaves it out).
    let memberId: String?
}

struct ScenarioRunBody: StrictBody {
    static let fields: Set<String> = ["side", "type", "qty", "limit_price", "stop_price", "member_id"]
    /// Each field defaults to the lesson's suggested order.
    let side: String?
    let type: String?
    let qty: Int64?
    let limitPrice: String?
    let stopPrice: String?
    let memberId: String?
}

/// The trading academy: courses, lessons, quizzes graded by the server, progress, and scenario
/// replays (`Academy`, `ScenarioReplay`, `AcademyStore`). Members on their own progress; staff for a
/// member they name (`member_id`), as every trading route.
struct AcademyRoutes {
    /// The feed scenarios replay: the seeded feed under its own seed, so a replay never depends on
    /// the platform's live quotes.
    static let feed = SeededQuoteFeed(seed: "nzila-academy")

    func mount(on routes: TenantRoutes) {
        routes.route(
            .get, "/v1/academy/courses", "The academy's courses (?lang=en|fr), each with its lessons and the member's progress", access: .ownOrStaff(.readTrading),
            answer: Page<CourseView>.self
        ) { request, context in
            let language = try Self.language(request)
            let member = context.memberID
            let courses = try await context.session.run { try await AcademyStore($0).courses(member: member, language: language) }
            return try Response.json(Page(data: courses, nextCursor: nil))
        }
        routes.route(.get, "/v1/academy/courses/{id}", "One course (?lang=en|fr)", access: .ownOrStaff(.readTrading), answer: CourseView.self) { request, context in
            let id = try Self.contentID(context, "Course")
            let language = try Self.language(request)
            let member = context.memberID
            guard let course = try await context.session.run({ try await AcademyStore($0).course(id, member: member, language: language) }) else {
                throw Problem.notFound("Course")
            }
            return try Response.json(course)
        }
        routes.route(
            .get, "/v1/academy/lessons/{id}", "One lesson (?lang=en|fr): its Markdown, its quiz without the answers, its scenario",
            access: .ownOrStaff(.readTrading), answer: LessonView.self
        ) { request, context in
            let id = try Self.contentID(context, "Lesson")
            let language = try Self.language(request)
            let member = context.memberID
            guard let lesson = try await context.session.run({ try await AcademyStore($0).lesson(id, member: member, language: language) }) else {
                throw Problem.notFound("Lesson")
            }
            return try Response.json(lesson)
        }
        routes.route(
            .post, "/v1/academy/lessons/{id}/complete", "Mark a lesson completed (a lesson with a quiz: once the quiz is passed; staff: ?member_id=)",
            access: .ownOrStaff(.manageTrading), answer: LessonView.self
        ) { request, context in
            let id = try Self.contentID(context, "Lesson")
            let member = try context.subject(named: request.queryDictionary["member_id"])
            let language = try Self.language(request)
            let lesson = try await context.session.run { db -> LessonView in
                try await Self.requireMember(db, member)
                let store = AcademyStore(db)
                guard let material = try await store.material(id, member: member) else { throw Problem.notFound("Lesson") }
                if material.quiz != nil && !material.passed {
                    throw RuleError(.conflict, "quiz-not-passed", "Quiz not passed", detail: "Pass the lesson's quiz first (POST /v1/academy/quizzes/\(id)/attempts).")
                }
                try await store.complete(member: member, lesson: id)
                guard let lesson = try await store.lesson(id, member: member, language: language) else { throw Problem.notFound("Lesson") }
                return lesson
            }
            return try Response.json(lesson)
        }
        routes.route(
            .post, "/v1/academy/quizzes/{id}/attempts", "Answer a lesson's quiz (its id is the lesson's): graded by the server, every attempt kept",
            access: .ownOrStaff(.manageTrading), body: AttemptBody.self, answer: QuizAttempt.self
        ) { request, context in
            let id = try Self.contentID(context, "Quiz")
            let body = try await request.decodeStrict(AttemptBody.self)
            let member = try context.subject(named: body.memberId)
            guard let answers = body.answers else {
                throw Problem.validation(field: "answers", "is required: one choice index per question")
            }
            let attempt = try await context.session.run { db -> QuizAttempt in
                try await Self.requireMember(db, member)
                let store = AcademyStore(db)
                guard let quiz = try await store.material(id, member: member)?.quiz else { throw Problem.notFound("Quiz") }
                guard let grade = quiz.grade(answers) else {
                    throw Problem.validation(field: "answers", "must give one choice index per question (\(quiz.questions.count)), each among its choices")
                }
                return try await store.recordAttempt(member: member, lesson: id, answers: answers, grade: grade)
            }
            return try Response.json(attempt, status: .created)
        }
        routes.route(
            .post, "/v1/academy/lessons/{id}/scenario/runs",
            "Replay the lesson's scenario on the seeded feed with an order (the lesson's by default): every step, fill and CAD value, in a sandbox",
            access: .ownOrStaff(.manageTrading), body: ScenarioRunBody.self, answer: ScenarioRun.self
        ) { request, context in
            let id = try Self.contentID(context, "Lesson")
            let body = try await request.decodeStrict(ScenarioRunBody.self)
            let member = try context.subject(named: body.memberId)
            let run = try await context.session.run { db -> ScenarioRun in
                try await Self.requireMember(db, member)
                let store = AcademyStore(db)
                guard let scenario = try await store.material(id, member: member)?.scenario else { throw Problem.notFound("Scenario") }
                let order = try Self.order(body, default: scenario.order)
                guard let instrument = try await MarketStore(db).instrument(scenario.symbol), let rates = ScenarioReplay.rates(scenario) else {
                    throw RuleError(.conflict, "scenario-unavailable", "Scenario unavailable", detail: "The scenario's instrument \(scenario.symbol) is not listed.")
                }
                let quotes = ScenarioReplay.quotes(scenario, instrument: instrument, feed: Self.feed)
                let reference = Self.feed.reference(of: instrument, at: scenario.from)
                let result = ScenarioReplay.run(scenario, order: order, instrument: instrument, quotes: quotes, reference: reference, rates: rates)
                return try await store.saveRun(member: member, lesson: id, symbol: scenario.symbol, order: order, result: result)
            }
            return try Response.json(run, status: .created)
        }
    }

    /// Staff name a member: one that is not an active member of the credit union is a bad field, not a 500.
    static func requireMember(_ db: TenantDB, _ member: MemberID) async throws {
        if try await WatchStore(db).unlistedMember(member) { throw Problem.validation(field: "member_id", "names no active member") }
    }

    static func language(_ request: Request) throws -> Academy.Language {
        guard let raw = request.queryDictionary["lang"] else { return .en }
        guard let language = Academy.Language(rawValue: raw) else { throw Problem.validation(field: "lang", "must be en or fr") }
        return language
    }

    static func contentID(_ context: TenantRequestContext, _ what: String) throws -> String {
        guard let id = context.parameters.get("id"), id.range(of: #"^[a-z0-9][a-z0-9-]{1,63}$"#, options: .regularExpression) != nil else {
            throw Problem.notFound(what)
        }
        return id
    }

    static func order(_ body: ScenarioRunBody, default order: Academy.ScenarioOrder) throws -> Academy.ScenarioOrder {
        var errors: [FieldError] = []
        let side = body.side.map { OrderSide(rawValue: $0) } ?? order.side
        if side == nil { errors.append(FieldError(field: "side", message: "must be buy or sell")) }
        let type = body.type.map { OrderType(rawValue: $0) } ?? order.type
        if type == nil { errors.append(FieldError(field: "type", message: "must be market, limit, stop or stop_limit")) }
        let qty = body.qty ?? order.qty
        if qty <= 0 { errors.append(FieldError(field: "qty", message: "must be a positive whole number of shares")) }
        // A type given without its prices drops the lesson's (a market order has none).
        let typeChanged = body.type != nil
        let limit = body.limitPrice ?? (typeChanged ? nil : order.limitPrice)
        let stop = body.stopPrice ?? (typeChanged ? nil : order.stopPrice)
        guard errors.isEmpty, let side, let type else { throw Problem.validation(errors) }
        return Academy.ScenarioOrder(side: side, type: type, qty: qty, limitPrice: limit, stopPrice: stop)
    }
}
