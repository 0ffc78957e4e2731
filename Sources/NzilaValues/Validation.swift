import Foundation

/// One offending input field of a validation problem.
public struct FieldError: Error, Codable, Equatable, Sendable {
    public let field: String
    public let message: String
    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
}

/// Input rules shared by staff and members.
public enum Validate {
    /// A lower-cased email with one `@`, no spaces, at most 254 characters.
    public static func email(_ raw: String, field: String = "email") -> Result<String, FieldError> {
        let email = raw.trimmingCharacters(in: .whitespaces).lowercased()
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !email.contains(" ") else {
            return .failure(FieldError(field: field, message: "must be an email address"))
        }
        return .success(email)
    }

    /// At least 12 characters (NIST SP 800-63B allows long passphrases), at most 256.
    public static func password(_ raw: String, field: String = "password") -> FieldError? {
        (12...256).contains(raw.count) ? nil : FieldError(field: field, message: "must be 12 to 256 characters")
    }

    /// An ISO 3166 alpha-2 country code, upper-cased.
    public static func countryCode(_ raw: String, field: String) -> Result<String, FieldError> {
        let code = raw.trimmingCharacters(in: .whitespaces).uppercased()
        guard code.count == 2, code.unicodeScalars.allSatisfy({ ("A"..."Z").contains($0) }) else {
            return .failure(FieldError(field: field, message: "must be an ISO 3166 alpha-2 country code"))
        }
        return .success(code)
    }

    /// A display name: trimmed, 1 to 200 characters.
    public static func name(_ raw: String, field: String) -> Result<String, FieldError> {
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...200).contains(name.count) else { return .failure(FieldError(field: field, message: "must be 1 to 200 characters")) }
        return .success(name)
    }
}

extension Result where Failure == FieldError {
    /// The value, or nil with the error added to `errors`: lets a handler collect every field error.
    public func get(into errors: inout [FieldError]) -> Success? {
        switch self {
        case .success(let value): return value
        case .failure(let error):
            errors.append(error)
            return nil
        }
    }
}
