import Foundation
import HTTPTypes
import Hummingbird
import NzilaCore

extension HTTPField.Name {
    static let ifMatch = HTTPField.Name("If-Match")!
    static let eTag = HTTPField.Name("ETag")!
}

/// What the configuration routes read: their bodies and the `If-Match` header.
extension ControlPlane {
    struct RollbackBody: StrictBody {
        static let fields: Set<String> = ["version", "reason"]
        let version: Int
        let reason: String
    }

    /// The body `PUT …/config` reads (`configBody` parses it by hand, so the document stays as it
    /// was sent); it documents the route.
    struct ConfigBody: Decodable, Sendable {
        /// The whole configuration document (a JSON object `TenantConfig.problems` checks).
        let config: JSONValue
        let reason: String
    }

    /// The version `If-Match` names: 428 without one, `*` for any.
    static func ifMatch(_ request: Request) throws -> Int? {
        guard let raw = request.headers[.ifMatch]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else {
            throw Problem(
                .preconditionRequired, "precondition-required", "If-Match required",
                detail: "Send If-Match with the ETag of the configuration you edited (GET …/config).")
        }
        if raw == "*" { return nil }
        let tag = raw.hasPrefix("W/") ? String(raw.dropFirst(2)) : raw
        guard tag.count > 2, tag.first == "\"", tag.last == "\"", let version = Int(tag.dropFirst().dropLast()) else {
            throw Problem.badRequest("invalid-if-match", "If-Match must be the ETag of a configuration version, such as \"3\".")
        }
        return version
    }

    static func reason(_ raw: String, into errors: inout [FieldError]) -> String? {
        let reason = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...500).contains(reason.count) else {
            errors.append(FieldError(field: "reason", message: "must be 1 to 500 characters"))
            return nil
        }
        return reason
    }

    /// `{config, reason}`, strictly: unknown fields refused, every bad configuration field named.
    static func configBody(_ data: Data) throws -> (Any, String) {
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw Problem.badRequest("malformed-json", "The body is not a JSON object.")
        }
        var errors: [FieldError] = []
        for key in object.keys.sorted() where !["config", "reason"].contains(key) {
            errors.append(FieldError(field: key, message: "is not a known field"))
        }
        let reason = (object["reason"] as? String).flatMap { Self.reason($0, into: &errors) }
        if object["reason"] as? String == nil { errors.append(FieldError(field: "reason", message: "is required")) }
        if let document = object["config"] {
            errors += TenantConfig.problems(document).map { FieldError(field: "config.\($0.field)", message: $0.message) }
        } else {
            errors.append(FieldError(field: "config", message: "is required"))
        }
        guard errors.isEmpty, let document = object["config"], let reason else { throw Problem.validation(errors) }
        return (document, reason)
    }
}
