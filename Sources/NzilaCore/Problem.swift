import Foundation
import HTTPTypes
import Hummingbird

/// An RFC 9457 problem: every error either plane returns is one of these, rendered as
/// `application/problem+json` with a stable `type` whose last segment clients switch on.
public struct Problem: Error, Sendable, Equatable {
    public static let typeBase = "https://nzila.dev/problems/"

    public var status: HTTPResponse.Status
    public var code: String
    public var title: String
    public var detail: String
    public var errors: [FieldError]
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, _ code: String, _ title: String, detail: String, errors: [FieldError] = [], headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.errors = errors
        self.headers = headers
    }

    public var type: String { Problem.typeBase + code }

    /// The body as JSONEncoder would write it (tests compare the hand-written one with it).
    struct Body: Encodable {
        let type: String
        let title: String
        let status: Int
        let detail: String
        let instance: String
        let request_id: String
        let errors: [FieldError]?
    }

    /// Renders the problem for one request; the body names the path and the request id so a support
    /// person can find the log lines.
    public func response(instance: String, requestID: String) -> Response {
        var fields = headers
        fields[.contentType] = "application/problem+json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: json(instance: instance, requestID: requestID))))
    }

    /// The body, written by hand with the keys in JSONEncoder.api's sorted order (a flood of 429s is
    /// answered without Foundation's encoder).
    func json(instance: String, requestID: String) -> String {
        var out = ""
        out.reserveCapacity(256 + detail.utf8.count)
        out += "{\"detail\":"
        JSONText.append(detail, to: &out)
        if !errors.isEmpty {
            out += ",\"errors\":["
            for (index, error) in errors.enumerated() {
                out += index == 0 ? "{\"field\":" : ",{\"field\":"
                JSONText.append(error.field, to: &out)
                out += ",\"message\":"
                JSONText.append(error.message, to: &out)
                out += "}"
            }
            out += "]"
        }
        out += ",\"instance\":"
        JSONText.append(instance, to: &out)
        out += ",\"request_id\":"
        JSONText.append(requestID, to: &out)
        out += ",\"status\":\(status.code),\"title\":"
        JSONText.append(title, to: &out)
        out += ",\"type\":"
        JSONText.append(type, to: &out)
        out += "}"
        return out
    }
}

extension Problem {
    /// Every offending field at once (422 `validation-failed`): the same answer as a rule's `RuleError.invalid`.
    public static func validation(_ errors: [FieldError]) -> Problem {
        RuleError.invalid(errors).problem
    }

    public static func validation(field: String, _ message: String) -> Problem {
        validation([FieldError(field: field, message: message)])
    }

    public static func notFound(_ what: String) -> Problem {
        Problem(.notFound, "not-found", "Not found", detail: "\(what) was not found.")
    }

    /// A tenant that does not exist, or that the caller may not see: one code on both planes.
    public static func tenantNotFound(_ detail: String) -> Problem {
        Problem(.notFound, "tenant-not-found", "Tenant not found", detail: detail)
    }

    public static func unauthorized(_ detail: String) -> Problem {
        Problem(.unauthorized, "unauthorized", "Unauthorized", detail: detail, headers: [.wwwAuthenticate: "Bearer"])
    }

    public static func forbidden(_ detail: String) -> Problem {
        RuleError.forbidden(detail).problem
    }

    public static func badRequest(_ code: String, _ detail: String) -> Problem {
        Problem(.badRequest, code, "Bad request", detail: detail)
    }

    public static func conflict(_ code: String, _ detail: String) -> Problem {
        Problem(.conflict, code, "Conflict", detail: detail)
    }

    public static let internalError = Problem(
        .internalServerError, "internal", "Internal error", detail: "The server failed; the request id identifies the log entry.")

    public static let databaseUnavailable = Problem(
        .serviceUnavailable, "database-unavailable", "Database unavailable", detail: "The database could not be reached; retry later.")
}

extension JSONEncoder {
    /// The encoder for every API body: snake_case keys, RFC 3339 times with milliseconds, stable key order.
    public static var api: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.rfc3339)
        }
        return encoder
    }
}

extension HTTPField.Name {
    public static let requestID = HTTPField.Name("X-Request-Id")!
    public static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    public static let idempotentReplayed = HTTPField.Name("Idempotent-Replayed")!
    public static let xTenant = HTTPField.Name("X-Tenant")!
    /// The client a trusted proxy forwarded for (`ClientAddress`).
    public static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
}
