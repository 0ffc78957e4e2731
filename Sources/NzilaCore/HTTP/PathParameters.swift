import Foundation
import Hummingbird

/// A path segment (the last, or `segmentFromEnd` before it) as a UUID; anything else cannot name a
/// resource, so it is a 404.
public func pathUUID(_ request: Request, _ what: String, segmentFromEnd: Int = 0) throws -> UUID {
    let segments = request.uri.path.split(separator: "/")
    let raw = segments.count > segmentFromEnd ? String(segments[segments.count - 1 - segmentFromEnd]) : ""
    guard let id = UUID(uuidString: raw) else { throw Problem.notFound("\(what) \(raw)") }
    return id
}
