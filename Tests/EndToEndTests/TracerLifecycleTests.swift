import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOPosix
import NzilaTelemetry
import OTel
import ServiceLifecycle
import Synchronization
import Testing
import Tracing

/// swift-otel 1.6.0's OTLP/HTTP exporter shuts its HTTP client down synchronously in `deinit`, which
/// traps on a NIO event-loop thread (issue 16: the suite's process died with signal 4 when a test's
/// tracer was released there). These rounds build the real exporter, use it, shut it down through its
/// service's graceful shutdown, and drop it, half of them on an event loop.
@Suite("Tracer lifecycle")
struct TracerLifecycleTests {
    /// One owner of a backend, so the last reference can be dropped on a chosen thread.
    final class Holder: Sendable {
        let tracing: Mutex<OTLPTracing?>
        init(_ tracing: OTLPTracing) { self.tracing = Mutex(tracing) }
    }

    static func spanCount(_ body: ByteBuffer) -> Int {
        let root = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
        var count = 0
        for resource in root["resourceSpans"] as? [[String: Any]] ?? [] {
            for scope in resource["scopeSpans"] as? [[String: Any]] ?? [] { count += (scope["spans"] as? [Any])?.count ?? 0 }
        }
        return count
    }

    @Test("a tracer with the real OTLP/HTTP exporter is built, used, shut down and dropped 24 times, on and off event loops; its spans leave at shutdown")
    func buildUseDrop() async throws {
        let received = Mutex(0)
        let router = Router()
        router.post("/v1/traces") { request, _ -> Response in
            let spans = Self.spanCount(try await request.body.collect(upTo: 16 << 20))
            received.withLock { $0 += spans }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}")))
        }
        let collector = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        let logger = { () -> Logger in
            var logger = Logger(label: "nzila.tests.tracer")
            logger.logLevel = .error
            return logger
        }()
        try await collector.test(.live) { client in
            let before = OTLPTracing.keptCount
            let rounds = 24
            for round in 0..<rounds {
                // Spans leave only through the flush that graceful shutdown does.
                let settings = OTel.Configuration.testCollector(port: client.port!, scheduleDelay: .seconds(3_600))
                let onLoop = round % 2 == 1
                let loop = MultiThreadedEventLoopGroup.singleton.any()
                let holder = onLoop
                    ? try await loop.submit { Holder(try OTLPTracing.make(configuration: settings)) }.get()
                    : Holder(try OTLPTracing.make(configuration: settings))
                try await Self.use(holder, loop: loop, round: round, logger: logger)
                // The last reference goes here: on the event loop every other round.
                if onLoop {
                    try await loop.submit { holder.tracing.withLock { $0 = nil } }.get()
                } else {
                    holder.tracing.withLock { $0 = nil }
                }
            }
            #expect(received.withLock { $0 } == rounds * 2, "every span was exported by the shutdown flush")
            #expect(OTLPTracing.keptCount - before == rounds)
        }
    }

    /// Runs the backend's service in a group, ends one span here and one on an event loop, then shuts
    /// the group down gracefully and waits for it (the flush and the client's shutdown).
    static func use(_ holder: Holder, loop: any EventLoop, round: Int, logger: Logger) async throws {
        guard let tracing = holder.tracing.withLock({ $0 }) else { return }
        let group = ServiceGroup(configuration: .init(services: [tracing.service], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            tracing.tracer.startSpan("round \(round)").end()
            let span = tracing.tracer.startSpan("round \(round) on a loop")
            try await loop.submit { span.end() }.get()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}

extension OTel.Configuration {
    /// OTLP/JSON to a stand-in collector on this machine, errors only in the exporter's own log.
    static func testCollector(port: Int, scheduleDelay: Duration) -> OTel.Configuration {
        var configuration = OTel.Configuration.default
        configuration.serviceName = "nzila-tests"
        configuration.diagnosticLogLevel = .error
        configuration.traces.otlpExporter.protocol = .httpJSON
        configuration.traces.otlpExporter.endpoint = "http://127.0.0.1:\(port)/v1/traces"
        configuration.traces.batchSpanProcessor.scheduleDelay = scheduleDelay
        return configuration
    }
}
