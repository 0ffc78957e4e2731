import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NzilaCore

/// One partner API's calls: a timeout per call, and connection errors, timeouts and 5xx answers tried again with
/// backoff (200 ms, 400 ms, …) up to `attempts`, after which the outcome is unknown and thrown. 2xx–4xx answers are
/// returned with their body (at most 1 MiB). The credential travels in `authorization` only, never in an error.
/// A partner's answer was larger than the call takes (a file over the plane's limit): known at once, never retried.
public struct PartnerAnswerTooLarge: Error, CustomStringConvertible {
    public let description: String
}

public struct PartnerHTTP: Sendable {
    let name: String
    let authorization: String
    let timeout: TimeAmount
    let attempts: Int
    let client: HTTPClient

    /// `authorization`: the whole header value (`Bearer …`, `Basic …`); it is sent and never said.
    public init(name: String, authorization: String, timeout: TimeAmount, attempts: Int, client: HTTPClient) {
        precondition((1...5).contains(attempts), "a bounded number of tries")
        self.name = name
        self.authorization = authorization
        self.timeout = timeout
        self.attempts = attempts
        self.client = client
    }

    /// `limit`: the largest answer taken (1 MiB unless a call reads files).
    public func call(
        _ method: HTTPMethod, _ url: String, body: Data?, idempotencyKey: String? = nil, contentType: String = "application/json", limit: Int = 1 << 20
    ) async throws -> (status: Int, body: Data) {
        try await Self.tried(name: name, attempts: attempts, timeout: timeout, client: client, limit: limit) {
            var request = HTTPClientRequest(url: url)
            request.method = method
            request.headers.add(name: "Authorization", value: authorization)
            request.headers.add(name: "Accept", value: "application/json")
            if let idempotencyKey { request.headers.add(name: "Idempotency-Key", value: idempotencyKey) }
            if let body {
                request.headers.add(name: "Content-Type", value: contentType)
                request.body = .bytes(ByteBuffer(bytes: body))
            }
            return request
        }
    }

    /// Sends the request `make` builds (afresh for each try, so a signature can carry its time) up to `attempts`
    /// times, 200 ms, 400 ms, … apart, while the connection fails, times out or answers 5xx; then throws
    /// `PartnerUnavailable` naming `name` and the last failure. Answers of at most `limit` bytes.
    public static func tried(
        name: String, attempts: Int, timeout: TimeAmount, client: HTTPClient, limit: Int = 1 << 20, _ make: () throws -> HTTPClientRequest
    ) async throws -> (status: Int, body: Data) {
        var lastError = "no attempt"
        for attempt in 0..<attempts {
            if attempt > 0 { try await Task.sleep(for: .milliseconds(200 << (attempt - 1))) }
            let request = try make()
            do {
                let response = try await client.execute(request, timeout: timeout)
                let data = Data(buffer: try await response.body.collect(upTo: limit))
                let code = Int(response.status.code)
                guard code < 500 else {
                    lastError = "HTTP \(code)"
                    continue
                }
                return (code, data)
            } catch is NIOTooManyBytesError {
                // An answer over the limit is the same answer every time: not tried again.
                throw PartnerAnswerTooLarge(description: "\(name) answered more than \(limit) bytes")
            } catch let error as HTTPClientError {
                // Its short description names the failure without associated values (a header's value, a URL).
                lastError = error.shortDescription
            } catch {
                lastError = "\(type(of: error))"
            }
        }
        throw PartnerUnavailable(description: "\(name) unreachable after \(attempts) tries: \(lastError)")
    }

    /// `application/x-www-form-urlencoded` (Stripe's request bodies): ASCII letters, digits and `-._~` as they are,
    /// everything else percent-encoded.
    public static func formEscape(_ text: String) -> String {
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// The JSON with the number values of `keys` turned into strings of the same digits, so an amount is read exactly
    /// (`"available": 110.94` → `"available": "110.94"`); numbers elsewhere, and text inside strings, are left alone.
    public static func numbersAsText(_ json: Data, keys: Set<String>) -> Data {
        let text = String(decoding: json, as: UTF8.self)
        var out = ""
        out.reserveCapacity(text.utf8.count + 32)
        let characters = Array(text.unicodeScalars)
        var index = 0
        var lastString = ""
        var inString = false
        var current = ""
        while index < characters.count {
            let character = characters[index]
            if inString {
                out.unicodeScalars.append(character)
                if character == "\\", index + 1 < characters.count {
                    // The escape goes out as it came; the string's text (a key to match) gets what it stands for.
                    let escaped = characters[index + 1]
                    out.unicodeScalars.append(escaped)
                    if escaped == "u", index + 5 < characters.count,
                        let code = UInt32(String(String.UnicodeScalarView(characters[(index + 2)...(index + 5)])), radix: 16)
                    {
                        for offset in 2...5 { out.unicodeScalars.append(characters[index + offset]) }
                        current.unicodeScalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
                        index += 6
                        continue
                    }
                    let simple: [Unicode.Scalar: Unicode.Scalar] = ["n": "\n", "t": "\t", "r": "\r", "b": "\u{8}", "f": "\u{C}"]
                    current.unicodeScalars.append(simple[escaped] ?? escaped)
                    index += 2
                    continue
                }
                if character == "\"" {
                    inString = false
                    lastString = current
                } else {
                    current.unicodeScalars.append(character)
                }
                index += 1
                continue
            }
            if character == "\"" {
                inString = true
                current = ""
                out.unicodeScalars.append(character)
                index += 1
                continue
            }
            if character == ":" {
                out.unicodeScalars.append(character)
                index += 1
                while index < characters.count, characters[index].properties.isWhitespace {
                    out.unicodeScalars.append(characters[index])
                    index += 1
                }
                if keys.contains(lastString), index < characters.count, characters[index] == "-" || ("0"..."9").contains(characters[index]) {
                    var number = ""
                    while index < characters.count, "-+.eE0123456789".unicodeScalars.contains(characters[index]) {
                        number.unicodeScalars.append(characters[index])
                        index += 1
                    }
                    out += "\"\(number)\""
                }
                continue
            }
            out.unicodeScalars.append(character)
            index += 1
        }
        return Data(out.utf8)
    }

    /// Provider answers are snake_case.
    public static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }()
}

/// A partner could not be reached, or answered what cannot be used: the outcome of the call is unknown. Says the
/// partner's name and what happened, never a credential.
public struct PartnerUnavailable: Error, CustomStringConvertible {
    public let description: String

    public init(description: String) {
        self.description = description
    }
}

/// A partner reached over the network, whose health `nzila partners test` checks.
public protocol PartnerCheck: Sendable {
    /// The HTTP status of the partner's balance (or account) endpoint with the connection's credential (401 or 403:
    /// refused). Throws when the partner cannot be reached.
    func check() async throws -> Int
}

/// A Stripe webhook event (payments, identity), its signature verified first: `Stripe-Signature: t=<unix>,v1=<hex
/// HMAC-SHA256 of "<t>.<body>">` with the endpoint's signing secret, a 5-minute tolerance and a constant-time
/// comparison (the platform's own inbound scheme under Stripe's header name). `Object` is what `data.object` is read as.
public struct StripeEvent<Object: Decodable & Sendable>: Decodable, Sendable {
    public struct Payload: Decodable, Sendable {
        public let object: Object
    }

    public let id: String
    public let type: String
    public let data: Payload

    public static func verified(headers: [String: String], body: Data, secret: String, nowSeconds: Int64) throws -> StripeEvent {
        if let refusal = WebhookSignature.verify(header: headers["stripe-signature"], secret: secret, body: body, nowSeconds: nowSeconds) { throw refusal }
        guard let event = try? PartnerHTTP.decoder.decode(Self.self, from: body) else {
            throw Problem.validation(field: "data", "must be a Stripe event with id, type and data.object")
        }
        return event
    }
}
