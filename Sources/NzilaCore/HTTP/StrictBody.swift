import Foundation
import Hummingbird
import NIOCore

/// A JSON request body whose accepted field names are listed, so a typo is refused (422) instead of
/// silently ignored.
public protocol StrictBody: Decodable, Sendable {
    static var fields: Set<String> { get }
}

/// The largest body any route accepts.
public let maxBodyBytes = 1 << 20

extension Request {
    /// Reads and decodes a JSON body by API.md's rules: 415 unless JSON, 413 over 1 MiB, 400 when
    /// malformed, 422 for an unknown, missing or wrongly typed field.
    public func decodeStrict<Body: StrictBody>(_ type: Body.Type) async throws -> Body {
        try decodeStrictJSON(Body.self, from: try await jsonBody())
    }

    /// The raw bytes of a JSON body, after the media-type and size checks.
    public func jsonBody() async throws -> Data {
        let mediaType = headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard mediaType == "application/json" else {
            throw Problem(.unsupportedMediaType, "unsupported-media-type", "Unsupported media type", detail: "Send Content-Type: application/json.")
        }
        let buffer = try await body.collect(upTo: maxBodyBytes)
        return Data(buffer.readableBytesView)
    }
}

/// The body-independent half of `decodeStrict`, kept apart so it is testable without HTTP.
public func decodeStrictJSON<Body: StrictBody>(_ type: Body.Type, from data: Data) throws -> Body {
    let object: Any
    do {
        object = try JSONSerialization.jsonObject(with: data, options: [])
    } catch {
        throw Problem.badRequest("malformed-json", "The body is not valid JSON.")
    }
    guard let fields = object as? [String: Any] else {
        throw Problem.validation(field: "", "the body must be a JSON object")
    }
    let unknown = fields.keys.filter { !Body.fields.contains($0) }.sorted()
    if !unknown.isEmpty {
        throw Problem.validation(unknown.map { FieldError(field: $0, message: "unknown field") })
    }
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    do {
        return try decoder.decode(Body.self, from: data)
    } catch let error as DecodingError {
        if case .dataCorrupted(let context) = error, context.codingPath.isEmpty {
            // Foundation reports a fractional number for an integer field as "not valid JSON" with no
            // path; name the fields holding non-integral numbers instead, since that is the usual cause.
            let fractional = fields.filter { ($0.value as? NSNumber).map(isFractional) ?? false }.map(\.key).sorted()
            if !fractional.isEmpty {
                throw Problem.validation(fractional.map { FieldError(field: $0, message: "must be an integer") })
            }
        }
        throw Problem.validation([fieldError(error)])
    }
}

func isFractional(_ number: NSNumber) -> Bool {
    let value = number.doubleValue
    return value.rounded() != value || abs(value) >= 9.2e18
}

func fieldError(_ error: DecodingError) -> FieldError {
    func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map(String.init) ?? snakeCase($0.stringValue) }.joined(separator: ".")
    }
    switch error {
    case .keyNotFound(let key, let context):
        return FieldError(field: path(context.codingPath + [key]), message: "is required")
    case .typeMismatch(let type, let context):
        return FieldError(field: path(context.codingPath), message: "must be \(describe(type))")
    case .valueNotFound(let type, let context):
        return FieldError(field: path(context.codingPath), message: "must be \(describe(type)), not null")
    case .dataCorrupted(let context):
        return FieldError(field: path(context.codingPath), message: context.debugDescription)
    @unknown default:
        return FieldError(field: "", message: "is invalid")
    }
}

func describe(_ type: Any.Type) -> String {
    switch type {
    case is String.Type: return "a string"
    case is Int.Type, is Int64.Type, is Int32.Type: return "an integer"
    case is Bool.Type: return "a boolean"
    default: return "of the right type"
    }
}

func snakeCase(_ name: String) -> String {
    var result = ""
    for character in name {
        if character.isUppercase {
            result += "_" + character.lowercased()
        } else {
            result.append(character)
        }
    }
    return result
}
