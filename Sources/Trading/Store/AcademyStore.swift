import Foundation
import Logging
import NzilaCore
import NzilaDatabase
import NzilaValues
import PostgresNIO

/// A course as a member sees it, in one language, with their progress.
public struct CourseView: Codable, Sendable {
    public let id: String
    public let title: String
    public let summary: String
    public let language: Academy.Language
    public let lessons: [LessonSummary]
    public let completedLessons: Int
    public let completed: Bool

    public struct LessonSummary: Codable, Sendable {
        public let id: String
        public let title: String
        public let hasQuiz: Bool
        public let hasScenario: Bool
        public let completed: Bool
    }
}

/// A lesson in one language: its Markdown, its quiz without the answers, its scenario.
public struct LessonView: Codable, Sendable {
    public let id: String
    public let courseId: String
    public let title: String
    public let language: Academy.Language
    /// Markdown.
    public let body: String
    public let quiz: QuizView?
    public let scenario: Academy.Scenario?
    public let completed: Bool
    public let quizPassed: Bool

    public struct QuizView: Codable, Sendable {
        public let passPct: Int
        public let questions: [Question]

        public struct Question: Codable, Sendable {
            public let prompt: String
            public let choices: [String]
        }
    }
}

public enum QuizAttemptTag {}
public typealias QuizAttemptID = Identifier<QuizAttemptTag>
public enum ScenarioRunTag {}
public typealias ScenarioRunID = Identifier<ScenarioRunTag>

/// A graded quiz attempt.
public struct QuizAttempt: Codable, Sendable {
    public let id: QuizAttemptID
    public let lessonId: String
    public let correct: [Bool]
    public let score: Int
    public let total: Int
    public let passed: Bool
    public let createdAt: Date
}

/// A scenario replayed for a member.
public struct ScenarioRun: Codable, Sendable {
    public let id: ScenarioRunID
    public let lessonId: String
    public let symbol: String
    public let order: Academy.ScenarioOrder
    public let result: ScenarioReplay.Result
    public let createdAt: Date
}

/// The academy's content in `reference` (written by the CLI's owner) and members' progress in
/// their tenant's schema.
public struct AcademyStore: Sendable {
    let db: TenantDB

    public init(_ db: TenantDB) { self.db = db }

    static let json: JSONEncoder = {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .iso8601
        e.outputFormatting = .sortedKeys
        return e
    }()
    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }()

    // MARK: - Loading (reference)

    /// Adds or replaces every course given, in one transaction: a course's lessons are replaced whole.
    public static func save(courses: [Academy.Course], client: PostgresClient, logger: Logger) async throws {
        try await client.withTransaction(logger: logger) { connection in
            for (position, course) in courses.enumerated() {
                try await connection.query(
                    """
                    INSERT INTO reference.academy_courses (id, position, title_en, title_fr, summary_en, summary_fr, loaded_at)
                    VALUES (\(course.id), \(position), \(course.title.en), \(course.title.fr), \(course.summary.en), \(course.summary.fr), clock_timestamp())
                    ON CONFLICT (id) DO UPDATE SET position = EXCLUDED.position, title_en = EXCLUDED.title_en, title_fr = EXCLUDED.title_fr,
                        summary_en = EXCLUDED.summary_en, summary_fr = EXCLUDED.summary_fr, loaded_at = EXCLUDED.loaded_at
                    """, logger: logger)
                try await connection.query("DELETE FROM reference.academy_lessons WHERE course_id = \(course.id)", logger: logger)
                for (index, lesson) in course.lessons.enumerated() {
                    let quiz = try lesson.quiz.map { String(decoding: try json.encode($0), as: UTF8.self) }
                    let scenario = try lesson.scenario.map { String(decoding: try json.encode($0), as: UTF8.self) }
                    try await connection.query(
                        """
                        INSERT INTO reference.academy_lessons (id, course_id, position, title_en, title_fr, body_en, body_fr, quiz, scenario)
                        VALUES (\(lesson.id), \(course.id), \(index), \(lesson.title.en), \(lesson.title.fr), \(lesson.body.en), \(lesson.body.fr),
                                \(quiz)::jsonb, \(scenario)::jsonb)
                        """, logger: logger)
                }
            }
        }
    }

    /// The shipped `Content/academy`, as `nzila dev` and the tests load it.
    public static func loadShipped(root: URL, client: PostgresClient, logger: Logger) async throws {
        try await save(courses: try Academy.courses(root: root.appendingPathComponent("Content/academy")).get(), client: client, logger: logger)
    }

    // MARK: - Members (tenant)

    /// Every course (or the one `id` names) with the member's progress (`member` nil: staff, no progress).
    public func courses(member: MemberID?, language: Academy.Language, id: String? = nil) async throws -> [CourseView] {
        let rows = try await db.query(
            """
            SELECT c.id, c.title_\(unescaped: language.rawValue), c.summary_\(unescaped: language.rawValue),
                   array_agg(l.id ORDER BY l.position), array_agg(l.title_\(unescaped: language.rawValue) ORDER BY l.position),
                   array_agg(l.quiz IS NOT NULL ORDER BY l.position), array_agg(l.scenario IS NOT NULL ORDER BY l.position),
                   array_agg(EXISTS (SELECT 1 FROM academy_progress p WHERE p.member_id = \(member)::uuid AND p.lesson_id = l.id) ORDER BY l.position)
            FROM reference.academy_courses c JOIN reference.academy_lessons l ON l.course_id = c.id
            WHERE (\(id)::text IS NULL OR c.id = \(id))
            GROUP BY c.id ORDER BY min(c.position), c.id
            """
        ).all((String, String, String, [String], [String], [Bool], [Bool], [Bool]).self)
        return rows.map { r in
            let lessons = r.3.indices.map { i in CourseView.LessonSummary(id: r.3[i], title: r.4[i], hasQuiz: r.5[i], hasScenario: r.6[i], completed: r.7[i]) }
            let done = lessons.filter(\.completed).count
            return CourseView(id: r.0, title: r.1, summary: r.2, language: language, lessons: lessons, completedLessons: done, completed: done == lessons.count)
        }
    }

    public func course(_ id: String, member: MemberID? = nil, language: Academy.Language) async throws -> CourseView? {
        try await courses(member: member, language: language, id: id).first
    }

    /// Whether the member has completed every lesson of the course (false for a course that does not exist).
    public func completed(member: MemberID, course: String) async throws -> Bool {
        let all: Bool?? = try await db.query(
            """
            SELECT count(*) > 0 AND bool_and(EXISTS (SELECT 1 FROM academy_progress p WHERE p.member_id = \(member) AND p.lesson_id = l.id))
            FROM reference.academy_lessons l WHERE l.course_id = \(course)
            """
        ).first(Bool?.self)
        return (all ?? nil) ?? false
    }

    struct LessonRow {
        let id: String
        let course: String
        let title: String
        let body: String
        let quiz: Academy.Quiz?
        let scenario: Academy.Scenario?
        let completed: Bool
        let passed: Bool
    }

    func lessonRow(_ id: String, member: MemberID?, language: Academy.Language) async throws -> LessonRow? {
        guard let r = try await db.query(
            """
            SELECT l.id, l.course_id, l.title_\(unescaped: language.rawValue), l.body_\(unescaped: language.rawValue), l.quiz::text, l.scenario::text,
                   EXISTS (SELECT 1 FROM academy_progress p WHERE p.member_id = \(member)::uuid AND p.lesson_id = l.id),
                   EXISTS (SELECT 1 FROM academy_quiz_attempts a WHERE a.member_id = \(member)::uuid AND a.lesson_id = l.id AND a.passed)
            FROM reference.academy_lessons l WHERE l.id = \(id)
            """
        ).first((String, String, String, String, String?, String?, Bool, Bool).self) else { return nil }
        let quiz = try r.4.map { try Self.decoder.decode(Academy.Quiz.self, from: Data($0.utf8)) }
        let scenario = try r.5.map { try Self.decoder.decode(Academy.Scenario.self, from: Data($0.utf8)) }
        return LessonRow(id: r.0, course: r.1, title: r.2, body: r.3, quiz: quiz, scenario: scenario, completed: r.6, passed: r.7)
    }

    public func lesson(_ id: String, member: MemberID?, language: Academy.Language) async throws -> LessonView? {
        guard let row = try await lessonRow(id, member: member, language: language) else { return nil }
        let quiz = row.quiz.map { q in
            LessonView.QuizView(passPct: q.passPct, questions: q.questions.map { .init(prompt: $0.prompt.in(language), choices: $0.choices.map { $0.in(language) }) })
        }
        return LessonView(
            id: row.id, courseId: row.course, title: row.title, language: language, body: row.body, quiz: quiz, scenario: row.scenario, completed: row.completed,
            quizPassed: row.passed)
    }

    /// The lesson's quiz and scenario (the answers included: for grading, never answered as is).
    public func material(_ id: String, member: MemberID) async throws -> (quiz: Academy.Quiz?, scenario: Academy.Scenario?, passed: Bool)? {
        try await lessonRow(id, member: member, language: .en).map { ($0.quiz, $0.scenario, $0.passed) }
    }

    public func recordAttempt(member: MemberID, lesson: String, answers: [Int], grade: Academy.Quiz.Grade) async throws -> QuizAttempt {
        let id = UUID()
        try await db.query(
            """
            INSERT INTO academy_quiz_attempts (id, member_id, lesson_id, answers, score, total, passed, created_at)
            VALUES (\(id), \(member), \(lesson), \(answers)::int4[], \(grade.score), \(grade.total), \(grade.passed), \(db.now))
            """
        )
        return QuizAttempt(id: QuizAttemptID(id), lessonId: lesson, correct: grade.correct, score: grade.score, total: grade.total, passed: grade.passed, createdAt: db.now)
    }

    /// Marks the lesson completed (once; completing it again changes nothing).
    public func complete(member: MemberID, lesson: String) async throws {
        try await db.query(
            "INSERT INTO academy_progress (member_id, lesson_id, completed_at) VALUES (\(member), \(lesson), \(db.now)) ON CONFLICT DO NOTHING"
        )
    }

    public func saveRun(member: MemberID, lesson: String, symbol: String, order: Academy.ScenarioOrder, result: ScenarioReplay.Result) async throws -> ScenarioRun {
        let id = UUID()
        let ticket = String(decoding: try Self.json.encode(order), as: UTF8.self)
        let outcome = String(decoding: try Self.json.encode(result), as: UTF8.self)
        try await db.query(
            """
            INSERT INTO academy_scenario_runs (id, member_id, lesson_id, ticket, result, created_at)
            VALUES (\(id), \(member), \(lesson), \(ticket)::jsonb, \(outcome)::jsonb, \(db.now))
            """
        )
        return ScenarioRun(id: ScenarioRunID(id), lessonId: lesson, symbol: symbol, order: order, result: result, createdAt: db.now)
    }
}
