import AsyncHTTPClient
import DataPlane
import Foundation
import Logging
import NIOCore
import NzilaCore
import ServiceLifecycle
import Synchronization
import Testing

@Suite("Graceful shutdown")
struct GracefulShutdownTests {
    final class Port: Sendable {
        let value = Mutex<Int?>(nil)
    }

    @Test("a shutdown in the middle of a burst of transfers: every request that got in is answered, none with a 5xx, and money moved exactly once per 201")
    func shutdownMidLoad() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "sd")
            try await planes.deposit(f, member: 0, minor: 100_000)
            let plane = harness.dataPlane(jwksPort: planes.cp.port!)
            let port = Port()
            let app = buildDataPlaneApplication(plane) { channel in port.value.withLock { $0 = channel.localAddress?.port } }
            let group = ServiceGroup(configuration: .init(services: [app, plane.remittanceWorker], logger: harness.logger))
            let running = Task { try await group.run() }
            var bound: Int?
            for _ in 0..<200 where bound == nil {
                try await Task.sleep(for: .milliseconds(10))
                bound = port.value.withLock { $0 }
            }
            let base = "http://127.0.0.1:\(try #require(bound))"
            enum Outcome: Sendable { case answered(Int), notAccepted }
            let answeredSoFar = Port()
            answeredSoFar.value.withLock { $0 = 0 }
            let outcomes = try await withThrowingTaskGroup(of: Outcome.self) { tasks in
                for index in 0..<40 {
                    tasks.addTask {
                        var request = HTTPClientRequest(url: "\(base)/v1/transfers")
                        request.method = .POST
                        request.headers.add(name: "Authorization", value: "Bearer \(f.members[0].token)")
                        request.headers.add(name: "X-Tenant", value: f.slug)
                        request.headers.add(name: "Content-Type", value: "application/json")
                        request.headers.add(name: "Idempotency-Key", value: "sd-\(index)-\(UUID())")
                        // No idle keep-alive connection for the server to wait out when it stops.
                        request.headers.add(name: "Connection", value: "close")
                        request.body = .bytes(ByteBuffer(string: #"{"from_account_id":"\#(f.members[0].accountID)","to_account_id":"\#(f.members[1].accountID)","amount":100,"currency":"CAD"}"#))
                        do {
                            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                            _ = try await response.body.collect(upTo: 1 << 20)
                            answeredSoFar.value.withLock { $0 = ($0 ?? 0) + 1 }
                            return .answered(Int(response.status.code))
                        } catch {
                            return .notAccepted  // the listener had closed (or left it in its backlog until the timeout): never handled
                        }
                    }
                    if index == 19 {
                        // The first twenty are being handled (one has come back) when the shutdown starts; the
                        // rest are sent while it runs.
                        for _ in 0..<3_000 where (answeredSoFar.value.withLock({ $0 }) ?? 0) == 0 { try await Task.sleep(for: .milliseconds(5)) }
                        await group.triggerGracefulShutdown()
                    }
                }
                return try await tasks.reduce(into: []) { $0.append($1) }
            }
            try await running.value
            let answered = outcomes.compactMap { if case .answered(let status) = $0 { return status } else { return nil } }
            #expect(!answered.isEmpty && answered.allSatisfy { $0 == 201 }, "every request the server took was carried out: \(answered)")
            let moved = answered.filter { $0 == 201 }.count
            #expect(try await planes.balance(f, member: 0).ledger == 100_000 - 100 * moved)
            #expect(try await planes.balance(f, member: 1).ledger == 100 * moved)
            #expect(try await planes.ledgerFindings(f).isEmpty)
        }
    }
}
