import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// One structured log line and the metrics of every request, outermost on both planes (it sees the
/// final status, problems included): request id, plane, method, route template (never the raw path,
/// so label sets stay bounded and ids stay out), status, duration, tenant, caller id and role, and
/// database round trips. Nothing from the body, the query string or the headers is logged, so tokens,
/// passwords and document numbers cannot reach a log.
public struct RequestObservationMiddleware<Context: RequestContext>: RouterMiddleware {
    let routes: RouteTable
    let plane: String
    let logger: Logger

    public init(routes: RouteTable, plane: String, logger: Logger) {
        self.routes = routes
        self.plane = plane
        self.logger = logger
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let facts = RequestFacts()
        var response: Response
        do {
            response = try await RequestFacts.$current.withValue(facts) { try await next(request, context) }
        } catch {
            observe(request, status: 500, requestID: nil, facts: facts.snapshot, elapsed: ContinuousClock.now - started, replay: false)
            throw error
        }
        let replay = response.headers[.idempotentReplayed] == "true"
        observe(request, status: Int(response.status.code), requestID: response.headers[.requestID], facts: facts.snapshot,
                elapsed: ContinuousClock.now - started, replay: replay)
        return response
    }

    func observe(_ request: Request, status: Int, requestID: String?, facts: RequestFacts.Snapshot, elapsed: Duration, replay: Bool) {
        let route = routes.template(matching: request.uri.path, method: request.method) ?? "unmatched"
        let seconds = elapsed.inSeconds
        let method = request.method.rawValue
        let tenant = facts.tenant ?? "-"
        Observability.count("nzila_http_requests_total", [("plane", plane), ("route", route), ("method", method), ("status", String(status)), ("tenant", tenant)])
        Observability.record("nzila_http_request_duration_seconds", [("plane", plane), ("route", route), ("method", method)], seconds: seconds)
        if facts.roundTrips > 0 { Observability.record("nzila_db_round_trips_per_request", [("plane", plane), ("route", route)], value: facts.roundTrips) }
        if status == 429 { Observability.count("nzila_rate_limited_total", [("plane", plane), ("tenant", tenant)]) }
        if replay { Observability.count("nzila_idempotent_replays_total", [("plane", plane), ("route", route)]) }
        guard logger.logLevel <= .info else { return }
        var metadata: Logger.Metadata = [
            "request_id": .string(requestID ?? "-"), "plane": .string(plane), "method": .string(method), "route": .string(route),
            "status": .stringConvertible(status), "duration_ms": .string(String(format: "%.2f", seconds * 1000)),
            "db_round_trips": .stringConvertible(facts.roundTrips),
        ]
        if let tenant = facts.tenant { metadata["tenant"] = .string(tenant) }
        if let principal = facts.principal { metadata["principal"] = .string(principal) }
        if let role = facts.role { metadata["role"] = .string(role) }
        if replay { metadata["idempotent_replay"] = "true" }
        logger.info("request", metadata: metadata)
    }
}
