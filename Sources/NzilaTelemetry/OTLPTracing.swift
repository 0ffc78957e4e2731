import OTel
import ServiceLifecycle
import Synchronization
import Tracing

/// A tracer exporting over OTLP/HTTP (swift-otel), and the service that must run for it to export.
///
/// Shut it down through that service's graceful shutdown (run it in a `ServiceGroup` and trigger the
/// group's graceful shutdown, as `nzila` does on SIGTERM): the batch processor then flushes its last
/// spans and shuts the exporter's HTTP client down asynchronously.
///
/// Every backend built here is also kept for the life of the process, so none is ever deinitialised.
/// swift-otel 1.6.0's `OTLPHTTPExporter.deinit` calls `HTTPClient.syncShutdown()` as a backstop, and
/// async-http-client 1.37 traps (`BUG DETECTED: syncShutdown() must not be called when on an
/// EventLoop`) whenever that runs on a NIO thread — even for a client already shut down. Spans end on
/// NIO threads and hold the tracer, so the last reference can drop anywhere; keeping it is the only
/// placement of that deinit we control. The cost is one shut-down client per backend built: one per
/// process in the servers, a few in the tests.
public struct OTLPTracing: Sendable {
    public let tracer: any Tracer
    /// The exporter, batch processor and tracer as one nested service group (swift-otel orders their
    /// shutdown); run it before the services that make spans, so it stops after them.
    public let service: any Service

    /// Builds the backend from `configuration` (the standard `OTEL_*` variables override it).
    public static func make(configuration: OTel.Configuration) throws -> OTLPTracing {
        let backend = try OTel.makeTracingBackend(configuration: configuration)
        let tracing = OTLPTracing(tracer: backend.factory, service: backend.service)
        kept.withLock { $0.append(tracing) }
        return tracing
    }

    /// How many backends this process has built (and keeps).
    public static var keptCount: Int { kept.withLock { $0.count } }

    private static let kept = Mutex<[OTLPTracing]>([])
}
