import Foundation

/// A rule's refusal, as a value: what kind of refusal it is, a stable code clients switch on, a title
/// and an explanation (and, for invalid input, every offending field). Rules throw it and never an
/// HTTP type; the platform's one error seam (`ProblemConvertible` in NzilaCore) gives each kind its
/// status.
public struct RuleError: Error, Equatable, Sendable {
    public enum Kind: Sendable, Equatable {
        /// Input that breaks a rule, field by field (422 `validation-failed`).
        case invalid
        /// Not allowed in the resource's current state (409).
        case conflict
        /// Not allowed for this caller (403).
        case forbidden
        /// Well-formed but refused by a business rule (422).
        case unprocessable
        /// Names nothing the caller can see (404).
        case notFound
        /// The caller could not be authenticated, as a webhook's signature (401).
        case unauthenticated
    }

    public let kind: Kind
    public let code: String
    public let title: String
    public let detail: String
    public let errors: [FieldError]

    public init(_ kind: Kind, _ code: String, _ title: String, detail: String, errors: [FieldError] = []) {
        self.kind = kind
        self.code = code
        self.title = title
        self.detail = detail
        self.errors = errors
    }

    /// Every offending field at once.
    public static func invalid(_ errors: [FieldError]) -> RuleError {
        RuleError(.invalid, "validation-failed", "Validation failed", detail: "Invalid fields: \(errors.map(\.field).joined(separator: ", ")).", errors: errors)
    }

    public static func invalid(field: String, _ message: String) -> RuleError {
        invalid([FieldError(field: field, message: message)])
    }

    public static func forbidden(_ detail: String) -> RuleError {
        RuleError(.forbidden, "forbidden", "Forbidden", detail: detail)
    }

    /// A 409 naming the current state (API.md, State machines), for every resource with a life cycle.
    public static func invalidTransition(_ what: String, current: String) -> RuleError {
        RuleError(.conflict, "invalid-transition", "Invalid transition", detail: "The \(what) is \(current); that action is not allowed now.")
    }
}

/// An error a rule or a store ends a request with. A domain's error type adopts it once, saying which
/// `RuleError` it is; `ProblemMiddleware` turns every one into problem+json in one place. An error
/// that adopts nothing is logged and answered with a generic 500, and a test checks that every error
/// type a domain declares adopts it.
public protocol DomainError: Error {
    var ruleError: RuleError { get }
}

extension RuleError: DomainError {
    public var ruleError: RuleError { self }
}

extension MoneyError: DomainError {
    public var ruleError: RuleError {
        switch self {
        case .currencyMismatch(let a, let b):
            RuleError(.unprocessable, "currency-mismatch", "Currency mismatch", detail: "\(a.code) and \(b.code) amounts cannot be combined.")
        case .overflow: RuleError(.unprocessable, "amount-out-of-range", "Amount out of range", detail: "The amount is too large to hold.")
        case .invalidAmount(let raw): RuleError.invalid(field: "amount", "is not an amount: \(raw.prefix(40))")
        }
    }
}
