import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NzilaCore
import NzilaDatabase
import Synchronization

/// The pages do nothing the API does not: every read and every action of the portal and the console
/// is a request to the plane's own API route, answered in process by the same router (no socket),
/// under a token for the signed-in staff member. So each page checks exactly the permission its
/// route declares, every write is audited, idempotent and validated exactly as through the API, and
/// there is no second implementation to drift.
public final class InProcessAPI: Sendable {
    let responder = Mutex<RouterResponder<PlaneRequestContext>?>(nil)
    /// The route table the API was registered in: what a page's link needs is read from it.
    public let table: RouteTable

    public init(table: RouteTable) { self.table = table }

    /// Installs the router's responder once every API route is registered.
    public func install(_ router: Router<PlaneRequestContext>) {
        let built = router.buildResponder()
        responder.withLock { $0 = built }
    }

    /// May this caller use the route `method path` (its template)? What decides whether a page or a
    /// link is shown at all; the route checks it again when called.
    public func allows(_ method: HTTPRequest.Method, _ template: String, _ principal: Principal) -> Bool {
        guard let route = table.routes.first(where: { $0.method == method && $0.path == template }) else { return false }
        return (try? route.access.check(principal)) != nil
    }

    /// Calls the API: `path` with its query, a JSON body, under `token`, as if sent to `authority`.
    public func call(
        _ method: HTTPRequest.Method, _ path: String, json body: [String: Any]? = nil, token: String, authority: String?, context: PlaneRequestContext,
        headers extra: HTTPFields = [:]
    ) async throws -> APIAnswer {
        guard let responder = responder.withLock({ $0 }) else { throw Problem.internalError }
        var fields = extra
        fields[.authorization] = "Bearer \(token)"
        fields[.accept] = "application/json"
        var buffer = ByteBuffer()
        if let body {
            fields[.contentType] = "application/json"
            buffer = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]))
        }
        let head = HTTPRequest(method: method, scheme: "http", authority: authority, path: path, headerFields: fields)
        let response: Response
        do {
            response = try await responder.respond(to: Request(head: head, body: RequestBody(buffer: buffer)), context: context)
        } catch let problem as Problem {
            return APIAnswer(status: problem.status, headers: problem.headers, body: Data(), problem: problem)
        }
        let collected = Collected()
        try await response.body.write(BodyCollector(into: collected))
        return APIAnswer(status: response.status, headers: response.headers, body: Data(buffer: collected.buffer.withLock { $0 }), problem: nil)
    }
}

/// One API answer as a page sees it.
public struct APIAnswer: Sendable {
    public let status: HTTPResponse.Status
    public let headers: HTTPFields
    public let body: Data
    let problem: Problem?

    /// An answer read from elsewhere (a control-plane route called over HTTP).
    public init(status: HTTPResponse.Status, headers: HTTPFields, body: Data) {
        (self.status, self.headers, self.body, self.problem) = (status, headers, body, nil)
    }

    init(status: HTTPResponse.Status, headers: HTTPFields, body: Data, problem: Problem?) {
        (self.status, self.headers, self.body, self.problem) = (status, headers, body, problem)
    }

    public var succeeded: Bool { (200..<300).contains(status.code) }

    /// The body as JSON (an object; nil if it is none).
    public var object: [String: Any]? { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] }

    /// A page's `data` items.
    public var items: [[String: Any]] { object?["data"] as? [[String: Any]] ?? [] }

    /// The cursor of the next page.
    public var nextCursor: String? { object?["next_cursor"] as? String }

    /// What a failed call tells the staff member: the problem's detail and its field errors.
    public var failure: WebFailure {
        if let problem { return WebFailure(status: problem.status.code, code: problem.code, detail: problem.detail, fields: problem.errors.map { ($0.field, $0.message) }) }
        let object = self.object ?? [:]
        let type = object["type"] as? String ?? ""
        let fields = (object["errors"] as? [[String: Any]] ?? []).map { ($0["field"] as? String ?? "", $0["message"] as? String ?? "") }
        return WebFailure(
            status: status.code, code: String(type.split(separator: "/").last ?? ""), detail: object["detail"] as? String ?? status.reasonPhrase,
            fields: fields)
    }

    /// The answer as a thrown failure unless it succeeded.
    @discardableResult
    public func required() throws -> APIAnswer {
        guard succeeded else { throw failure }
        return self
    }
}

/// A refused API call, carried to the page that shows it.
public struct WebFailure: Error, Sendable {
    public let status: Int
    public let code: String
    public let detail: String
    public let fields: [(String, String)]
}

final class Collected: Sendable {
    let buffer = Mutex(ByteBuffer())
}

struct BodyCollector: ResponseBodyWriter {
    let into: Collected

    mutating func write(_ buffer: ByteBuffer) async throws {
        var copy = buffer
        into.buffer.withLock { _ = $0.writeBuffer(&copy) }
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
