import Foundation
import Ledger
import NzilaValues

/// The trading academy's content, as shipped in `Content/academy/<course>/`: a `course.yaml`
/// (titles, summary, the lessons in order, each lesson's quiz and scenario) and each lesson's text
/// as Markdown in English and French (`<lesson>.en.md`, `<lesson>.fr.md`; the first `# ` line is
/// its title). `nzila reference load-academy` checks it all (`Academy.courses(root:)`, in
/// `Store/AcademyContent.swift`) and loads it into `reference`.
public enum Academy {
    public enum Language: String, Sendable, Codable, CaseIterable {
        case en, fr
    }

    /// A text in both languages.
    public struct Text: Sendable, Codable, Equatable {
        public let en: String
        public let fr: String

        public init(en: String, fr: String) {
            self.en = en
            self.fr = fr
        }

        public func `in`(_ language: Language) -> String { language == .fr ? fr : en }
    }

    public struct Course: Sendable, Equatable {
        public let id: String
        public let title: Text
        public let summary: Text
        public let lessons: [Lesson]
    }

    public struct Lesson: Sendable, Equatable {
        public let id: String
        public let title: Text
        public let body: Text
        public let quiz: Quiz?
        public let scenario: Scenario?
    }

    public struct Quiz: Sendable, Codable, Equatable {
        /// The share of questions to answer right to pass, in percent.
        public let passPct: Int
        public let questions: [Question]

        public struct Question: Sendable, Codable, Equatable {
            public let prompt: Text
            public let choices: [Text]
            /// The right choice's index (never sent to members).
            public let answer: Int
        }

        /// How an attempt did: which answers were right, the score, passed or not.
        public struct Grade: Sendable, Codable, Equatable {
            public let correct: [Bool]
            public let score: Int
            public let total: Int
            public let passed: Bool
        }

        /// Grades `answers` (one choice index per question, in order); nil when their count or a
        /// choice is out of range.
        public func grade(_ answers: [Int]) -> Grade? {
            guard answers.count == questions.count else { return nil }
            for (a, q) in zip(answers, questions) where !q.choices.indices.contains(a) { return nil }
            let correct = zip(answers, questions).map { $0 == $1.answer }
            let score = correct.filter { $0 }.count
            // Passed when score / total ≥ pass_pct / 100, in integers.
            return Grade(correct: correct, score: score, total: questions.count, passed: score * 100 >= passPct * questions.count)
        }
    }

    /// A replayable market moment on the seeded feed (`ScenarioReplay`).
    public struct Scenario: Sendable, Codable, Equatable {
        public let symbol: String
        /// The first quote's instant: the seeded feed's step in progress then.
        public let from: Date
        /// How many of the feed's 15-second steps to replay.
        public let steps: Int
        /// From `shock.step` on, every price moves by `shock.bps` (a gap the feed would not make).
        public let shock: Shock?
        /// The instrument currency's mid rate to CAD (a decimal string) at the start.
        public let rate: String
        public let rateShock: Shock?
        /// Shares held at the start (a sell needs some).
        public let holding: Int64
        public let startingCashMinor: Int64
        /// The order the lesson suggests; a member may change any field.
        public let order: ScenarioOrder

        public struct Shock: Sendable, Codable, Equatable {
            public let step: Int
            public let bps: Int
        }

        enum CodingKeys: String, CodingKey {
            case symbol, from, steps, shock, rate, holding, order
            case rateShock = "rate_shock"
            case startingCashMinor = "starting_cash_minor"
        }
    }

    public struct ScenarioOrder: Sendable, Codable, Equatable {
        public let side: OrderSide
        public let type: OrderType
        public let qty: Int64
        public let limitPrice: String?
        public let stopPrice: String?

        public init(side: OrderSide, type: OrderType, qty: Int64, limitPrice: String?, stopPrice: String?) {
            self.side = side
            self.type = type
            self.qty = qty
            self.limitPrice = limitPrice
            self.stopPrice = stopPrice
        }

        enum CodingKeys: String, CodingKey {
            case side, type, qty
            case limitPrice = "limit_price"
            case stopPrice = "stop_price"
        }
    }

    public struct ContentError: Error, CustomStringConvertible, Equatable {
        public let problems: [String]
        public var description: String { problems.joined(separator: "\n") }
    }
}
