import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Tracing

/// One structured log line and the metrics of every request, outermost on both planes (it sees the
/// final status, problems included): request id, plane, method, route template (never the raw path,
/// so label sets stay bounded and ids stay out), status, duration, tenant, caller id and role, and
/// database round trips. Nothing from the body, the query string or the headers is logged, so tokens,
/// passwords and document numbers cannot reach a log.
///
/// With a tracer (tracing on), each request is also a server span named by its route template, in the
/// trace its `traceparent` header names (else a new one); the handler runs under it with the tracer
/// bound, so database statements and partner calls become its children, and the log line carries the
/// trace id.
public struct RequestObservationMiddleware<Context: RequestContext>: RouterMiddleware {
    let routes: RouteTable
    let plane: String
    let logger: Logger
    let tracer: (any Tracer)?

    public init(routes: RouteTable, plane: String, logger: Logger, tracer: (any Tracer)? = nil) {
        self.routes = routes
        self.plane = plane
        self.logger = logger
        self.tracer = tracer
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let facts = RequestFacts()
        let route = routes.template(matching: request.uri.path, method: request.method) ?? "unmatched"
        guard let tracer else {
            var response: Response
            do {
                response = try await RequestFacts.$current.withValue(facts) { try await next(request, context) }
            } catch {
                observe(request, route: route, status: 500, requestID: nil, facts: facts.snapshot, elapsed: ContinuousClock.now - started)
                throw error
            }
            observe(request, route: route, status: Int(response.status.code), requestID: response.headers[.requestID], facts: facts.snapshot,
                    elapsed: ContinuousClock.now - started, replay: response.headers[.idempotentReplayed] == "true")
            return response
        }
        return try await traced(request, context: context, route: route, tracer: tracer, facts: facts, started: started, next: next)
    }

    func traced(
        _ request: Request, context: Context, route: String, tracer: any Tracer, facts: RequestFacts, started: ContinuousClock.Instant,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var parent = InstrumentationContext.topLevel
        tracer.extract(request.headers, into: &parent, using: HTTPFieldsExtractor())
        let span = tracer.startSpan("\(request.method.rawValue) \(route)", context: parent, ofKind: .server)
        span.updateAttributes {
            $0["http.request.method"] = request.method.rawValue
            $0["http.route"] = route
            $0["nzila.plane"] = plane
        }
        let traceID = Traces.traceID(of: span.context, tracer: tracer)
        defer { span.end() }
        do {
            let response = try await Traces.$tracer.withValue(tracer) {
                try await Traces.$request.withValue(span.context) {
                    try await InstrumentationContext.$current.withValue(span.context) {
                        try await RequestFacts.$current.withValue(facts) { try await next(request, context) }
                    }
                }
            }
            let status = Int(response.status.code)
            annotate(span, status: status, requestID: response.headers[.requestID], facts: facts.snapshot)
            observe(request, route: route, status: status, requestID: response.headers[.requestID], facts: facts.snapshot,
                    elapsed: ContinuousClock.now - started, replay: response.headers[.idempotentReplayed] == "true", traceID: traceID)
            return response
        } catch {
            annotate(span, status: 500, requestID: nil, facts: facts.snapshot)
            span.recordError(error)
            observe(request, route: route, status: 500, requestID: nil, facts: facts.snapshot, elapsed: ContinuousClock.now - started, traceID: traceID)
            throw error
        }
    }

    func annotate(_ span: any Span, status: Int, requestID: String?, facts: RequestFacts.Snapshot) {
        span.updateAttributes {
            $0["http.response.status_code"] = status
            $0["nzila.request_id"] = requestID
            $0["nzila.tenant"] = facts.tenant
            $0["nzila.role"] = facts.role
            $0["nzila.db_round_trips"] = facts.roundTrips
        }
        if status >= 500 { span.setStatus(SpanStatus(code: .error)) }
    }

    func observe(
        _ request: Request, route: String, status: Int, requestID: String?, facts: RequestFacts.Snapshot, elapsed: Duration, replay: Bool = false,
        traceID: String? = nil
    ) {
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
            "status": .stringConvertible(status), "duration_ms": .string(formatMilliseconds(seconds)),
            "db_round_trips": .stringConvertible(facts.roundTrips),
        ]
        if let tenant = facts.tenant { metadata["tenant"] = .string(tenant) }
        if let principal = facts.principal { metadata["principal"] = .string(principal) }
        if let role = facts.role { metadata["role"] = .string(role) }
        if replay { metadata["idempotent_replay"] = "true" }
        if let traceID { metadata["trace_id"] = .string(traceID) }
        logger.info("request", metadata: metadata)
    }
}

/// Seconds as milliseconds with two decimals ("12.34"), without Foundation's format parser.
func formatMilliseconds(_ seconds: Double) -> String {
    let hundredths = Int((seconds * 100_000).rounded())
    let fraction = hundredths % 100
    return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
}
