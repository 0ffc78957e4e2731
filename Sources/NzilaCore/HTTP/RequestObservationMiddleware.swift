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
    let plane: String
    let logger: Logger
    let tracer: (any Tracer)?

    public init(plane: String, logger: Logger, tracer: (any Tracer)? = nil) {
        self.plane = plane
        self.logger = logger
        self.tracer = tracer
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let facts = RequestFacts()
        // The span is named once the router has matched the route (it records the template in the context).
        let span = tracer.map { tracer -> any Span in
            var parent = InstrumentationContext.topLevel
            tracer.extract(request.headers, into: &parent, using: HTTPFieldsExtractor())
            let span = tracer.startSpan("\(request.method.rawValue)", context: parent, ofKind: .server)
            span.updateAttributes {
                $0["http.request.method"] = request.method.rawValue
                $0["nzila.plane"] = plane
            }
            return span
        }
        defer { span?.end() }
        let traceID = span.flatMap { span in tracer.flatMap { Traces.traceID(of: span.context, tracer: $0) } }
        let status: Int
        let requestID: String?
        let replay: Bool
        let response: Response
        do {
            response = try await RequestFacts.$current.withValue(facts) {
                guard let span, let tracer else { return try await next(request, context) }
                return try await Traces.$tracer.withValue(tracer) {
                    try await Traces.$request.withValue(span.context) {
                        try await InstrumentationContext.$current.withValue(span.context) { try await next(request, context) }
                    }
                }
            }
            (status, requestID, replay) = (Int(response.status.code), response.headers[.requestID], response.headers[.idempotentReplayed] == "true")
        } catch {
            span?.recordError(error)
            (status, requestID, replay) = (500, nil, false)
            finish(request, context: context, span: span, status: status, requestID: requestID, replay: replay, facts: facts.snapshot, started: started,
                   traceID: traceID)
            throw error
        }
        finish(request, context: context, span: span, status: status, requestID: requestID, replay: replay, facts: facts.snapshot, started: started,
               traceID: traceID)
        return response
    }

    /// The route's template as the router matched it (`/v1/accounts/{id}`), never the raw path, so label
    /// sets stay bounded and ids stay out; "unmatched" when no route served the request.
    static func route(_ context: Context) -> String {
        guard let path = context.endpointPath, path.hasPrefix("/") else { return "unmatched" }
        return path
    }

    func finish(
        _ request: Request, context: Context, span: (any Span)?, status: Int, requestID: String?, replay: Bool, facts: RequestFacts.Snapshot,
        started: ContinuousClock.Instant, traceID: String?
    ) {
        let route = Self.route(context)
        if let span { annotate(span, route: route, method: request.method.rawValue, status: status, requestID: requestID, facts: facts) }
        observe(request, route: route, status: status, requestID: requestID, facts: facts, elapsed: ContinuousClock.now - started, replay: replay,
                traceID: traceID)
    }

    func annotate(_ span: any Span, route: String, method: String, status: Int, requestID: String?, facts: RequestFacts.Snapshot) {
        span.operationName = "\(method) \(route)"
        span.updateAttributes {
            $0["http.route"] = route
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
