@_exported import NzilaValues
import HTTPTypes

extension Problem {
    /// The problem an error answers with when it says so itself: a `Problem`, or a `DomainError`
    /// through its `RuleError`. Nil for anything else (which the middleware logs and answers 500).
    public static func from(_ error: any Error) -> Problem? {
        switch error {
        case let problem as Problem: problem
        case let refused as any DomainError: refused.ruleError.problem
        default: nil
        }
    }
}

extension RuleError {
    /// The problem a refusal answers with: its kind gives the status, and nothing else changes.
    public var problem: Problem {
        let status: HTTPResponse.Status = switch kind {
        case .invalid, .unprocessable: .unprocessableContent
        case .conflict: .conflict
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .unauthenticated: .unauthorized
        }
        return Problem(status, code, title, detail: detail, errors: errors)
    }
}
