import Hummingbird
import HummingbirdCore
import Logging
import NIOSSL
import NIOCore
import NzilaCore
import PostgresNIO
import Tracing

/// What both planes share when they become an HTTP application: problem+json for every error, public
/// `/health`, `/ready` (a query on each pool) and `/openapi.json` generated from the same route table
/// the routes were registered in.
public struct PlaneApplication {
    public let router = Router(context: PlaneRequestContext.self)
    public let routes = RouteTable()

    /// `deadlineSeconds` bounds every request (0 turns the bound off).
    /// `metricsToken`: the bearer token `GET /metrics` requires (nil: no `/metrics` route at all).
    /// `tracer`: spans per request and per statement (nil: tracing off).
    public init(
        readiness pools: [PostgresClient], deadlineSeconds: Double, logger: Logger, plane: String = "plane", metricsToken: String? = nil,
        tracer: (any Tracer)? = nil
    ) {
        Observability.bootstrap()
        router.add(middleware: RequestObservationMiddleware(plane: plane, logger: logger, tracer: tracer))
        router.add(middleware: ProblemMiddleware(routes: routes, translate: DatabaseErrors.problem(for:logger:)))
        if deadlineSeconds > 0 { router.add(middleware: DeadlineMiddleware(seconds: deadlineSeconds)) }
        router.openRoute(.get, "/health", "Process is alive", in: routes, answer: [String: String].self) { _, _ in try Response.json(["status": "ok"]) }
        router.openRoute(.get, "/ready", "Database reachable", in: routes, answer: [String: String].self) { _, _ in
            for pool in pools { _ = try await pool.statement("SELECT 1", logger: logger) { try await $0.first(Int32.self) } }
            return try Response.json(["status": "ready"])
        }
        if let metricsToken {
            router.openRoute(.get, "/metrics", "Prometheus metrics (Bearer NZILA_METRICS_TOKEN)", in: routes) { request, _ in
                guard let token = request.bearerToken, constantTimeEquals(Array(token.utf8), Array(metricsToken.utf8)) else {
                    throw Problem.unauthorized("Send the metrics token as a bearer token.")
                }
                return Response(
                    status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(string: Observability.exposition())))
            }
        }
    }

    /// Adds `/openapi.json` (after every other route, so it documents them all) and builds the app; with `tls`, it
    /// serves TLS 1.3 only (`PlaneTLS`).
    /// `onServerRunning` learns the bound channel (tests listening on port 0 read their port from it).
    public func application(
        title: String, description: String, host: String, port: Int, name: String, logger: Logger, server: HTTPServerBuilder = .http1(),
        tls: TLSConfiguration? = nil, onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let document = routes.openAPIDocument(title: title, description: description)
        router.openRoute(.get, "/openapi.json", "This OpenAPI document", in: routes) { _, _ in Response.jsonData(document) }
        return Application(
            router: router, server: PlaneTLS.server(server, tls: tls), configuration: .init(address: .hostname(host, port: port), serverName: name), onServerRunning: onServerRunning,
            logger: logger)
    }
}
