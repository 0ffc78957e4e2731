import AsyncHTTPClient
import DataPlane
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NzilaCore
import NzilaTelemetry
import OTel
import ServiceLifecycle
import Remittance
import Synchronization
import Testing
import Tracing

/// Traces as an operator's collector receives them: swift-otel's real OTLP/HTTP exporter sends to a
/// stand-in collector on a socket, and a stand-in payout partner records the headers it is called with.
@Suite("Tracing end to end")
struct TracingEndToEndTests {
    /// A span as OTLP/JSON carries it, ids in hex.
    struct ExportedSpan: Sendable {
        let traceID: String
        let spanID: String
        let parentID: String?
        let name: String
        let kind: Int
        let attributes: [String: String]
    }

    final class Collected: Sendable {
        let spans = Mutex<[ExportedSpan]>([])
        let partnerHeaders = Mutex<[String]>([])
        var all: [ExportedSpan] { spans.withLock { $0 } }
    }

    /// OTLP/JSON ids are bytes, which swift-protobuf writes as base64 (the OTLP spec asks for hex).
    static func hex(_ value: Any?) -> String? {
        guard let text = value as? String, !text.isEmpty else { return nil }
        if text.count == 32 || text.count == 16, text.allSatisfy(\.isHexDigit) { return text.lowercased() }
        guard let data = Data(base64Encoded: text), data.contains(where: { $0 != 0 }) else { return nil }
        return data.map { String(format: "%02x", $0) }.joined()
    }

    static func collector(_ collected: Collected) -> some ApplicationProtocol {
        let router = Router()
        router.post("/v1/traces") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 16 << 20)
            let root = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any] ?? [:]
            var spans: [ExportedSpan] = []
            for resource in root["resourceSpans"] as? [[String: Any]] ?? [] {
                for scope in resource["scopeSpans"] as? [[String: Any]] ?? [] {
                    for span in scope["spans"] as? [[String: Any]] ?? [] {
                        var attributes: [String: String] = [:]
                        for attribute in span["attributes"] as? [[String: Any]] ?? [] {
                            guard let key = attribute["key"] as? String, let value = attribute["value"] as? [String: Any] else { continue }
                            attributes[key] = value.values.first.map { "\($0)" }
                        }
                        spans.append(ExportedSpan(
                            traceID: hex(span["traceId"]) ?? "", spanID: hex(span["spanId"]) ?? "", parentID: hex(span["parentSpanId"]),
                            name: span["name"] as? String ?? "", kind: span["kind"] as? Int ?? 0, attributes: attributes))
                    }
                }
            }
            collected.spans.withLock { $0.append(contentsOf: spans) }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}")))
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    static func partner(_ collected: Collected) -> some ApplicationProtocol {
        let router = Router()
        router.post("/v1/transfers") { request, _ -> Response in
            collected.partnerHeaders.withLock { $0.append(request.headers[HTTPField.Name("traceparent")!] ?? "") }
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"status":"paid","transaction_id":"traced-1"}"#)))
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    /// Waits until `ready` holds for the collected spans (the exporter sends in batches).
    static func await(_ collected: Collected, _ ready: ([ExportedSpan]) -> Bool) async throws -> [ExportedSpan] {
        _ = try await eventually { ready(collected.all) }
        return collected.all
    }

    @Test("a request joins the caller's trace; its transactions and statements are child spans; the payout worker and partner call continue it")
    func requestStatementAndPartnerSpans() async throws {
        let harness = try await Harness.get()
        let collected = Collected()
        try await Self.collector(collected).test(.live) { collector in
            try await Self.partner(collected).test(.live) { partnerAPI in
                let backend = try OTLPTracing.make(configuration: .testCollector(port: collector.port!, scheduleDelay: .milliseconds(100)))
                let tracer = backend.tracer
                var clientConfiguration = HTTPClient.Configuration()
                clientConfiguration.tracing.tracer = tracer
                let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
                let momo = HTTPPayoutPartner(
                    name: "sandbox-momo", methods: ["mobile_money"], baseURL: "http://127.0.0.1:\(partnerAPI.port!)", apiKey: "k", timeout: .seconds(15),
                    client: http)
                // The exporter stops through its service's graceful shutdown (never a cancel, never a deinit).
                let exporter = ServiceGroup(configuration: .init(services: [backend.service], logger: harness.logger))
                do {
                    try await withThrowingTaskGroup(of: Void.self) { tasks in
                        tasks.addTask { try await exporter.run() }
                        do {
                            try await harness.withPlanes(data: { $0.tracer = tracer }, partners: PayoutPartners([momo])) { planes in
                                try await Self.scenario(planes, collected: collected)
                            }
                        } catch {
                            await exporter.triggerGracefulShutdown()
                            throw error
                        }
                        await exporter.triggerGracefulShutdown()
                        try await tasks.waitForAll()
                    }
                } catch {
                    try await http.shutdown()
                    throw error
                }
                try await http.shutdown()
            }
        }
    }

    static func scenario(_ planes: Planes, collected: Collected) async throws {
        let f = try await planes.provisionFixture(prefix: "trc")
        try await planes.deposit(f, member: 0, minor: 50_000)
        let caller = (trace: (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined(), span: "00f067aa0ba902b7")
        let quote = try await planes.quoteID(f, member: 0, sendMinor: 10_000)
        let placed = try await planes.data(
            .post, "/v1/remittances", token: f.members[0].token, tenant: f.slug,
            json: ["quote_id": quote, "recipient": Planes.recipient("mobile_money", name: "Ada Bello"), "account_id": f.members[0].accountID],
            headers: [.idempotencyKey: UUID().uuidString, HTTPField.Name("traceparent")!: "00-\(caller.trace)-\(caller.span)-01"])
        #expect(placed.status == .created, "\(placed.text)")
        let id = try #require(placed.json["id"] as? String)
        try await planes.drain(f)
        #expect(try await planes.order(f, id)["state"] as? String == "delivered")

        let spans = try await Self.await(collected) { spans in
            spans.contains { $0.name == "remittance payout" } && spans.contains { $0.name == "POST /v1/remittances" }
        }
        let trace = spans.filter { $0.traceID == caller.trace }
        // The request's server span is the caller's child, named by its route template (no ids).
        let server = try #require(trace.first { $0.name == "POST /v1/remittances" }, "\(spans.map(\.name))")
        #expect(server.parentID == caller.span && server.kind == 2)
        #expect(server.attributes["http.route"] == "/v1/remittances" && server.attributes["http.response.status_code"] == "201")
        #expect(server.attributes["nzila.tenant"] == f.slug)
        // Its transactions are its children, and each statement a child of a transaction.
        let transactions = trace.filter { $0.name == "db transaction" && $0.parentID == server.spanID }
        #expect(!transactions.isEmpty)
        let statements = trace.filter { span in transactions.contains { $0.spanID == span.parentID } }
        #expect(statements.count >= 3, "set_config, the order's statements: \(statements.map(\.name))")
        #expect(statements.allSatisfy { $0.attributes["db.system.name"] == "postgresql" && $0.kind == 3 }, "\(statements.filter { $0.kind != 3 || $0.attributes["db.system.name"] != "postgresql" })")
        #expect(statements.contains { $0.name == "WITH" && ($0.attributes["db.query.text"] ?? "").contains("INSERT INTO remittances") })
        // Bind values never reach a span: the recipient's number and name are not in any attribute.
        let values = spans.flatMap { $0.attributes.values }
        #expect(!values.contains { $0.contains("8031234567") || $0.contains("Ada Bello") })

        // The worker's payout joins the same trace, and the partner was called with a traceparent of it
        // whose parent is the HTTP client's span under the payout span.
        let payout = try #require(trace.first { $0.name == "remittance payout" }, "\(spans.filter { $0.name == "remittance payout" })")
        #expect(payout.attributes["nzila.payout.partner"] == "sandbox-momo" && payout.attributes["nzila.payout.outcome"] == "paid")
        #expect(payout.attributes["nzila.remittance_id"] == id && payout.parentID == server.spanID)
        let sent = try #require(collected.partnerHeaders.withLock { $0.first })
        let parts = sent.split(separator: "-").map(String.init)
        #expect(parts.count == 4 && parts[1] == caller.trace, "traceparent sent to the partner: \(sent)")
        let clientSpan = try #require(trace.first { parts.count == 4 && $0.spanID == parts[2] }, "the partner call's span was exported")
        #expect(clientSpan.parentID == payout.spanID && clientSpan.kind == 3)
        #expect(trace.contains { $0.name == "db transaction" && $0.parentID == payout.spanID }, "the payout's record is under it")

        // A request without a traceparent starts its own trace.
        let read = try await planes.data(.get, "/v1/accounts/\(f.members[0].accountID)", token: f.members[0].token, tenant: f.slug)
        #expect(read.status == .ok)
        let fresh = try await Self.await(collected) { $0.contains { $0.name == "GET /v1/accounts/{id}" } }
        let get = try #require(fresh.first { $0.name == "GET /v1/accounts/{id}" })
        #expect(get.parentID == nil && get.traceID != caller.trace)
        #expect(fresh.contains { $0.traceID == get.traceID && $0.parentID == get.spanID && $0.attributes["db.system.name"] == "postgresql" })
    }
}
