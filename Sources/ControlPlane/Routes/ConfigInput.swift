import Foundation
import HTTPTypes
import Hummingbird
import NzilaCore

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
        try request.ifMatchVersion(of: "configuration", read: "GET …/config")
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
