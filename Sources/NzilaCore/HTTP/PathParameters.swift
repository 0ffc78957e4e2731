import Foundation
import Hummingbird

extension RequestContext {
    /// The path parameter `name` (as the route template spells it) as a UUID; anything else cannot
    /// name a resource, so it is a 404 naming `what`.
    public func pathUUID(_ what: String, _ name: String = "id") throws -> UUID {
        let raw = parameters.get(name) ?? ""
        guard let id = UUID(uuidString: raw) else { throw Problem.notFound("\(what) \(raw)") }
        return id
    }

    /// The path parameter `name` as text (404 naming `what` when absent, which a matched route never is).
    public func pathText(_ what: String, _ name: String) throws -> String {
        guard let raw = parameters.get(name) else { throw Problem.notFound(what) }
        return raw
    }
}
