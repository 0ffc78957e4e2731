import HTTPTypes
import Tracing

/// Distributed tracing, off unless an OTLP endpoint is configured (`nzila` then builds an OTel tracer).
/// The tracer travels as a task-local, bound by the request middleware and by the remittance worker,
/// so code deep in a request (a database statement) starts child spans without being passed it, and
/// code outside one pays a single task-local read when tracing is off.
public enum Traces {
    @TaskLocal public static var tracer: (any Tracer)?
    /// The request's own span, for work the request leaves behind to continue (see `currentParent`).
    @TaskLocal public static var request: InstrumentationContext?

    /// Runs `body` in a child span of the current one when tracing is on; else just runs it.
    public static func span<Result>(
        _ name: String, kind: SpanKind = .internal, attributes: (inout SpanAttributes) -> Void = { _ in },
        _ body: () async throws -> Result
    ) async rethrows -> Result {
        guard let tracer else { return try await body() }
        let span = tracer.startSpan(name, context: InstrumentationContext.current ?? .topLevel, ofKind: kind)
        span.updateAttributes(attributes)
        defer { span.end() }
        do {
            return try await InstrumentationContext.$current.withValue(span.context) { try await body() }
        } catch {
            span.recordError(error)
            span.setStatus(SpanStatus(code: .error))
            throw error
        }
    }

    /// A database statement's span: its SQL text with placeholders only (bind values, which may be
    /// personal data, are never recorded).
    public static func statement<Result>(_ sql: String, _ body: () async throws -> Result) async rethrows -> Result {
        guard tracer != nil else { return try await body() }
        return try await span(Self.operation(sql), kind: .client, attributes: {
            $0["db.system.name"] = "postgresql"
            $0["db.query.text"] = String(sql.prefix(2_000))
        }, body)
    }

    /// The span name for a statement: its first keyword (`SELECT`, `WITH`, `UPDATE`, …), per the
    /// database semantic conventions' low-cardinality summary.
    static func operation(_ sql: String) -> String {
        let keyword = sql.drop(while: { $0.isWhitespace }).prefix(while: { $0.isLetter })
        return keyword.isEmpty ? "SQL" : keyword.uppercased()
    }

    /// The W3C `traceparent` of the request's span (else the current one), to store with work that
    /// continues later (an order the payout worker picks up) so that work joins the same trace as the
    /// request's child rather than the statement's that stored it; nil when tracing is off.
    public static var currentParent: String? {
        guard let tracer, let context = request ?? InstrumentationContext.current else { return nil }
        var carrier: [String: String] = [:]
        tracer.inject(context, into: &carrier, using: DictionaryCarrier())
        return carrier["traceparent"]
    }

    /// The context a stored `traceparent` describes, to start the later work's span under.
    public static func context(parent: String?) -> InstrumentationContext {
        var context = InstrumentationContext.topLevel
        guard let tracer, let parent else { return context }
        tracer.extract(["traceparent": parent], into: &context, using: DictionaryCarrier())
        return context
    }

    /// The trace id of a context (from its `traceparent`), for a log line to point at its trace.
    public static func traceID(of context: InstrumentationContext, tracer: any Tracer) -> String? {
        var carrier: [String: String] = [:]
        tracer.inject(context, into: &carrier, using: DictionaryCarrier())
        guard let parent = carrier["traceparent"] else { return nil }
        let parts = parent.split(separator: "-")
        return parts.count == 4 ? String(parts[1]) : nil
    }
}

/// Reads and writes trace headers in a `[String: String]`.
public struct DictionaryCarrier: Extractor, Injector {
    public init() {}
    public func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
    public func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
}

/// Reads trace headers (`traceparent`, `tracestate`) from a request's fields.
public struct HTTPFieldsExtractor: Extractor {
    public init() {}
    public func extract(key: String, from fields: HTTPFields) -> String? {
        HTTPField.Name(key).flatMap { fields[$0] }
    }
}
