import Foundation
import Ledger
import NzilaValues
import Yams

/// Reading the academy's shipped files (`Content/academy`): YAML and Markdown into `Academy.Course`.
extension Academy {
    // MARK: - Parsing

    struct CourseFile: Decodable {
        let id: String
        let title: Text
        let summary: Text
        let lessons: [LessonEntry]
    }

    struct LessonEntry: Decodable {
        let id: String
        let quiz: QuizEntry?
        let scenario: Scenario?
    }

    struct QuizEntry: Decodable {
        let passPct: Int
        let questions: [Quiz.Question]

        enum CodingKeys: String, CodingKey {
            case questions
            case passPct = "pass_pct"
        }
    }

    static let idPattern = #"^[a-z0-9][a-z0-9-]{1,63}$"#

    /// Parses one course: its `course.yaml` text and a reader of its lesson files by name. Every
    /// problem is named (a missing translation, a quiz answer out of range, a scenario that cannot
    /// run), none is skipped.
    public static func course(yaml: String, file: (String) -> String?) -> Result<Course, ContentError> {
        let decoder = YAMLDecoder()
        let parsed: CourseFile
        do {
            parsed = try decoder.decode(CourseFile.self, from: yaml, userInfo: [:])
        } catch {
            return .failure(ContentError(problems: ["course.yaml: \(error)"]))
        }
        var problems: [String] = []
        if parsed.id.range(of: idPattern, options: .regularExpression) == nil { problems.append("course id \(parsed.id): must match \(idPattern)") }
        if parsed.lessons.isEmpty { problems.append("\(parsed.id): a course has at least one lesson") }
        var lessons: [Lesson] = []
        var seen: Set<String> = []
        for entry in parsed.lessons {
            let where_ = "\(parsed.id)/\(entry.id)"
            if entry.id.range(of: idPattern, options: .regularExpression) == nil { problems.append("\(where_): lesson id must match \(idPattern)") }
            if !seen.insert(entry.id).inserted { problems.append("\(where_): lesson listed twice") }
            var texts: [Language: (title: String, body: String)] = [:]
            for language in Language.allCases {
                guard let text = file("\(entry.id).\(language.rawValue).md") else {
                    problems.append("\(where_): \(entry.id).\(language.rawValue).md is missing")
                    continue
                }
                guard let title = text.split(separator: "\n", omittingEmptySubsequences: true).first, title.hasPrefix("# ") else {
                    problems.append("\(where_).\(language.rawValue).md: the first line is its title, as \"# Title\"")
                    continue
                }
                texts[language] = (String(title.dropFirst(2)).trimmingCharacters(in: .whitespaces), text)
            }
            var quiz: Quiz?
            if let q = entry.quiz {
                if q.questions.isEmpty { problems.append("\(where_): a quiz has at least one question") }
                if !(1...100).contains(q.passPct) { problems.append("\(where_): pass_pct must be 1 to 100") }
                for (i, question) in q.questions.enumerated() {
                    if question.choices.count < 2 { problems.append("\(where_): question \(i + 1) needs at least two choices") }
                    if !question.choices.indices.contains(question.answer) { problems.append("\(where_): question \(i + 1)'s answer is not one of its choices") }
                }
                quiz = Quiz(passPct: q.passPct, questions: q.questions)
            }
            if let s = entry.scenario {
                if !(1...240).contains(s.steps) { problems.append("\(where_): a scenario replays 1 to 240 steps") }
                if FXRate(decimal: s.rate) == nil { problems.append("\(where_): scenario rate must be a positive decimal") }
                if s.holding < 0 || s.startingCashMinor < 0 { problems.append("\(where_): scenario holding and cash are not negative") }
                for shock in [s.shock, s.rateShock].compactMap({ $0 }) where !(0..<s.steps).contains(shock.step) || abs(shock.bps) >= 10_000 {
                    problems.append("\(where_): a shock's step is within the scenario and its size under 10000 bps")
                }
            }
            if let en = texts[.en], let fr = texts[.fr] {
                lessons.append(Lesson(
                    id: entry.id, title: Text(en: en.title, fr: fr.title), body: Text(en: en.body, fr: fr.body), quiz: quiz, scenario: entry.scenario))
            }
        }
        guard problems.isEmpty else { return .failure(ContentError(problems: problems)) }
        return .success(Course(id: parsed.id, title: parsed.title, summary: parsed.summary, lessons: lessons))
    }

    /// Every course under `root` (one folder each), in folder-name order.
    public static func courses(root: URL) -> Result<[Course], ContentError> {
        let fm = FileManager.default
        guard let folders = try? fm.contentsOfDirectory(atPath: root.path).sorted() else {
            return .failure(ContentError(problems: ["\(root.path): cannot be read"]))
        }
        var courses: [Course] = [], problems: [String] = []
        for folder in folders {
            let dir = root.appendingPathComponent(folder)
            guard let yaml = try? String(contentsOf: dir.appendingPathComponent("course.yaml"), encoding: .utf8) else { continue }
            switch course(yaml: yaml, file: { try? String(contentsOf: dir.appendingPathComponent($0), encoding: .utf8) }) {
            case .success(let c): courses.append(c)
            case .failure(let e): problems += e.problems
            }
        }
        if Set(courses.map(\.id)).count != courses.count { problems.append("two courses share an id") }
        let lessonIDs = courses.flatMap { $0.lessons.map(\.id) }
        if Set(lessonIDs).count != lessonIDs.count { problems.append("two lessons share an id (lesson ids are unique across courses)") }
        return problems.isEmpty ? .success(courses) : .failure(ContentError(problems: problems))
    }
}
