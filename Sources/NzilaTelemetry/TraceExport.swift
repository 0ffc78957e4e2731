import Logging
import NzilaCore
import OTel
import ServiceLifecycle
import Tracing

/// Traces exported over OTLP/HTTP (swift-otel) when an endpoint is configured with the standard
/// `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`; off otherwise, and then
/// nothing is built and requests pay nothing for it. The other standard variables apply as well
/// (`OTEL_SERVICE_NAME`, `OTEL_EXPORTER_OTLP_PROTOCOL` = http/protobuf or http/json,
/// `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_TRACES_SAMPLER`, `OTEL_BSP_*`). Only traces: logs and
/// metrics have their own outputs (JSON lines, `/metrics`).
public struct TraceExport: Sendable {
    public let tracer: any Tracer
    /// The exporter's batch processor: run it first in the service group so it shuts down last and
    /// flushes the spans of the last requests.
    public let service: any Service

    public static func configured(serviceName: String, environment: Env = Env(), logger: Logger) throws -> TraceExport? {
        guard isConfigured(environment) else { return nil }
        var configuration = OTel.Configuration.default
        configuration.serviceName = serviceName
        configuration.diagnosticLogger = .custom(logger)
        configuration.diagnosticLogLevel = .warning
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        let backend = try OTLPTracing.make(configuration: configuration)
        // Libraries that trace through the global system (async-http-client's partner calls) use it too.
        InstrumentationSystem.bootstrap(backend.tracer)
        logger.info("exporting traces over OTLP", metadata: ["service": "\(environment["OTEL_SERVICE_NAME"] ?? serviceName)"])
        return TraceExport(tracer: backend.tracer, service: backend.service)
    }

    public static func isConfigured(_ environment: Env) -> Bool {
        ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"].contains { environment[$0]?.isEmpty == false }
            && environment["OTEL_SDK_DISABLED"] != "true" && environment["OTEL_TRACES_EXPORTER"] != "none"
    }
}
