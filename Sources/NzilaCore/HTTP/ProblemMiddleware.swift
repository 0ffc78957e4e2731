import Foundation
import Hummingbird
import Logging
import NIOCore

/// Turns every error into problem+json and stamps `X-Request-Id` on every response. Unknown errors are
/// logged with the request id and answered with a 500 that carries no internals.
public struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    let routes: RouteTable
    /// Maps errors of lower layers (the database driver) that NzilaCore cannot name.
    let translate: @Sendable (any Error, Logger) -> Problem?

    public init(routes: RouteTable, translate: @escaping @Sendable (any Error, Logger) -> Problem? = { _, _ in nil }) {
        self.routes = routes
        self.translate = translate
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let requestID = request.headers[.requestID].flatMap { $0.count <= 128 && !$0.isEmpty ? $0 : nil } ?? UUID().lowercased
        // Handlers (and the audit log) read the same id from the request.
        var head = request.head
        head.headerFields[.requestID] = requestID
        let request = Request(head: head, body: request.body)
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            let problem = self.problem(for: error, request: request, logger: context.logger, requestID: requestID)
            response = problem.response(instance: request.uri.path, requestID: requestID)
        }
        response.headers[.requestID] = requestID
        return response
    }

    func problem(for error: any Error, request: Request, logger: Logger, requestID: String) -> Problem {
        switch error {
        case let problem as Problem:
            return problem
        case let refused as any DomainError:
            // The one error seam: every domain error is mapped here, through its RuleError.
            return refused.ruleError.problem
        case is NIOTooManyBytesError:
            return Problem(.contentTooLarge, "payload-too-large", "Payload too large", detail: "The body exceeds 1 MiB.")
        case let http as HTTPError where http.status == .notFound:
            return routeMissing(request)
        case let http as HTTPError:
            return Problem(http.status, "http-\(http.status.code)", http.status.reasonPhrase, detail: http.body ?? http.status.reasonPhrase)
        default:
            if let mapped = translate(error, logger) { return mapped }
            logger.error("unhandled error", metadata: ["request_id": "\(requestID)", "error": "\(String(reflecting: error))"])
            return .internalError
        }
    }

    /// The router answers 404 for both an unknown path and a known path with the wrong method; the
    /// route table tells them apart so the client gets 405 with `Allow`.
    func routeMissing(_ request: Request) -> Problem {
        let allowed = routes.methods(matching: request.uri.path)
        if allowed.isEmpty {
            return Problem(.notFound, "route-not-found", "Not found", detail: "No route \(request.method.rawValue) \(request.uri.path).")
        }
        let allow = allowed.map(\.rawValue).sorted().joined(separator: ", ")
        return Problem(
            .methodNotAllowed, "method-not-allowed", "Method not allowed",
            detail: "\(request.uri.path) allows \(allow).", headers: [.allow: allow])
    }
}
