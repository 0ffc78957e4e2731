import Foundation
import HTTPTypes
import Hummingbird
import NzilaCore

/// A submitted `application/x-www-form-urlencoded` form: its fields, last value wins.
public struct FormFields: Sendable {
    public let values: [String: String]

    public init(_ values: [String: String]) { self.values = values }

    /// Reads and parses the body (at most 64 KiB; anything else is refused before parsing).
    public static func read(_ request: Request) async throws -> FormFields {
        let type = request.headers[.contentType]?.lowercased() ?? ""
        guard type.hasPrefix("application/x-www-form-urlencoded") else {
            throw Problem(.unsupportedMediaType, "form-required", "Form expected", detail: "Send the page's form.")
        }
        let buffer = try await request.body.collect(upTo: 64 * 1024)
        return FormFields(parse(String(buffer: buffer)))
    }

    /// `a=1&b=x+y` to fields; `+` is a space and `%XX` a byte (malformed escapes are kept as sent).
    public static func parse(_ body: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in body.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode: (Substring) -> String = {
                let plus = $0.replacingOccurrences(of: "+", with: " ")
                return plus.removingPercentEncoding ?? plus
            }
            fields[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return fields
    }

    public subscript(_ name: String) -> String? { values[name] }

    /// The field trimmed, nil when empty.
    public func text(_ name: String) -> String? {
        let value = values[name]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        return value.isEmpty ? nil : value
    }
}

/// What every page and asset of the portal and the console answers with: a strict CSP (no inline
/// script or style, nothing from elsewhere but an https logo), no framing, no sniffing, and pages
/// never cached (they show balances and PII).
public enum WebHeaders {
    public static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; font-src 'self'; connect-src 'self'; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    public static func apply(to fields: inout HTTPFields, cacheable: Bool = false) {
        fields[.contentSecurityPolicy] = contentSecurityPolicy
        fields[.xFrameOptions] = "DENY"
        fields[.xContentTypeOptions] = "nosniff"
        fields[.referrerPolicy] = "same-origin"
        fields[.crossOriginOpenerPolicy] = "same-origin"
        fields[.cacheControl] = cacheable ? "public, max-age=300" : "no-store"
    }

    /// `Set-Cookie` for a session token: `HttpOnly`, `SameSite=Strict`, on the surface's path only;
    /// `Secure` unless the plane serves plain http for development.
    public static func sessionCookie(_ name: String, _ value: String, path: String, secure: Bool, maxAge: Int? = nil) -> String {
        var cookie = "\(name)=\(value); Path=\(path); HttpOnly; SameSite=Strict"
        if secure { cookie += "; Secure" }
        if let maxAge { cookie += "; Max-Age=\(maxAge)" }
        return cookie
    }

    /// A cookie's value from the request's `Cookie` headers.
    public static func cookie(_ name: String, in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for part in header.split(separator: ";") {
                let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if pair.count == 2, pair[0] == name { return String(pair[1]) }
            }
        }
        return nil
    }

    /// A form post is accepted only from the page's own origin: when the browser names an `Origin`
    /// (every modern one does on POST), its host must be the request's host.
    public static func sameOrigin(_ request: Request) -> Bool {
        guard let origin = request.headers[.origin] else { return true }
        guard origin != "null", let host = URL(string: origin)?.host, let authority = request.head.authority else { return false }
        let requestHost = authority.split(separator: ":").first.map(String.init) ?? authority
        return host.lowercased() == requestHost.lowercased()
    }
}

extension HTTPField.Name {
    static let crossOriginOpenerPolicy = Self("Cross-Origin-Opener-Policy")!
    static let referrerPolicy = Self("Referrer-Policy")!
    static let xFrameOptions = Self("X-Frame-Options")!
}
