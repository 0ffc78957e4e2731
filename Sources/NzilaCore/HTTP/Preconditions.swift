import Foundation
import HTTPTypes
import Hummingbird

extension Request {
    /// The version `If-Match` names, for an edit of a versioned resource whose ETag is `"<version>"`
    /// (API.md): 428 without the header, nil for `*` (any version), 400 when it is not such an ETag.
    /// `what` names the resource and `read` where its ETag comes from, for the problem's detail.
    public func ifMatchVersion(of what: String, read: String) throws -> Int? {
        guard let raw = headers[.ifMatch]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else {
            throw Problem(
                .preconditionRequired, "precondition-required", "If-Match required", detail: "Send If-Match with the ETag of the \(what) you edited (\(read)).")
        }
        if raw == "*" { return nil }
        let tag = raw.hasPrefix("W/") ? String(raw.dropFirst(2)) : raw
        guard tag.count > 2, tag.first == "\"", tag.last == "\"", let version = Int(tag.dropFirst().dropLast()) else {
            throw Problem.badRequest("invalid-if-match", "If-Match must be the ETag of a \(what) version, such as \"3\".")
        }
        return version
    }
}
