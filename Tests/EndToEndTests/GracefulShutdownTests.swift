import AsyncHTTPClient
import Foundation
import NIOCore
import NzilaCore
import Synchronization
import Testing

/// The real thing: `nzila data-plane`, the binary `swift test` built beside the tests, run as its own
/// process against the test stack, and stopped with SIGTERM the way systemd and Kubernetes stop it.
/// (In-process, a signal would also stop every other test's live server: HummingbirdTesting traps it.)
@Suite("Graceful shutdown")
struct GracefulShutdownTests {
    final class Count: Sendable {
        let value = Mutex(0)
    }

    /// The `nzila` executable next to the test bundle (`swift test` builds every product).
    static var binary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("nzila")
    }

    static func freePort() throws -> Int {
        for _ in 0..<50 {
            let port = Int.random(in: 20_000..<60_000)
            let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(socket) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if bound == 0 { return port }
        }
        throw CancellationError()
    }

    /// A refused connection fails at once (async-http-client would otherwise retry it until the request's
    /// timeout, 90 s of a stopped server). Lives as long as the process, like `HTTPClient.shared`.
    static let http: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// Starts `nzila data-plane` on a free port with the harness's database and keys; returns once `/ready` answers.
    static func startDataPlane(_ harness: Harness, jwksPort: Int, log: URL) async throws -> (Process, Int) {
        let port = try freePort()
        let process = Process()
        process.executableURL = binary
        process.arguments = ["data-plane"]
        var environment = ProcessInfo.processInfo.environment
        environment["NZILA_DIRECT_URL"] = ProcessInfo.processInfo.environment["NZILA_TEST_DIRECT_URL"]
        environment["NZILA_PGBOUNCER_URL"] = ProcessInfo.processInfo.environment["NZILA_TEST_PGBOUNCER_URL"]
        environment["NZILA_POOL_GROUPS"] = "\(harness.poolGroups)"
        environment["NZILA_MASTER_KEY"] = harness.masterKeyHex
        environment["NZILA_HOME"] = harness.root.path
        environment["NZILA_DATA_PORT"] = "\(port)"
        environment["NZILA_JWKS_URL"] = "http://127.0.0.1:\(jwksPort)/.well-known/jwks.json"
        environment["NZILA_LOG_LEVEL"] = "warning"
        // The harness's safety-net deadline: a loaded machine makes requests slow, not 503.
        environment["NZILA_REQUEST_DEADLINE"] = "\(Int(Harness.requestDeadlineSeconds))"
        // Its workers would sweep every tenant of the shared test database and move other tests' orders.
        environment["NZILA_DATA_PLANE_WORKERS"] = "off"
        for name in ["TENANT", "CALLER"] {
            environment["NZILA_RATE_\(name)_PER_SECOND"] = "100000"
            environment["NZILA_RATE_\(name)_BURST"] = "100000"
        }
        process.environment = environment
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let output = try FileHandle(forWritingTo: log)
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let ready = try await eventually(within: 120) {
            guard process.isRunning else { return true }
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/ready")
            request.method = .GET
            return (try? await Self.http.execute(request, timeout: .seconds(30)))?.status == .ok
        }
        if ready && process.isRunning { return (process, port) }
        process.terminate()
        throw Failure(description: "nzila data-plane did not become ready: \(String(decoding: (try? Data(contentsOf: log)) ?? Data(), as: UTF8.self).suffix(2_000))")
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    @Test("SIGTERM to `nzila data-plane` in the middle of a burst of transfers: it exits 0, every request it took is answered 201, and money moved exactly once per 201")
    func sigtermMidLoad() async throws {
        let harness = try await Harness.get()
        #expect(FileManager.default.isExecutableFile(atPath: Self.binary.path), "swift test builds the nzila executable at \(Self.binary.path)")
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "sd")
            try await planes.deposit(f, member: 0, minor: 100_000)
            let log = FileManager.default.temporaryDirectory.appendingPathComponent("nzila-sigterm-\(UUID()).log")
            defer { try? FileManager.default.removeItem(at: log) }
            let (server, port) = try await Self.startDataPlane(harness, jwksPort: planes.cp.port!, log: log)
            defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }
            let base = "http://127.0.0.1:\(port)"
            // A request the server took is answered, however slow the machine: the timeout is a safety net.
            let http = Self.http
            enum Outcome: Sendable { case answered(Int), notAccepted }
            let answeredSoFar = Count()
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
                            let response = try await http.execute(request, timeout: .seconds(120))
                            _ = try await response.body.collect(upTo: 1 << 20)
                            answeredSoFar.value.withLock { $0 += 1 }
                            return .answered(Int(response.status.code))
                        } catch {
                            return .notAccepted  // the listener had closed (or the connection was refused): never handled
                        }
                    }
                    if index == 19 {
                        // The first twenty are being handled (one has come back) when SIGTERM arrives; the rest
                        // are sent while the server shuts down.
                        _ = try await eventually { answeredSoFar.value.withLock({ $0 }) > 0 }
                        server.terminate()
                    }
                }
                return try await tasks.reduce(into: []) { $0.append($1) }
            }
            _ = try await eventually { !server.isRunning }
            let output = String(decoding: (try? Data(contentsOf: log)) ?? Data(), as: UTF8.self)
            #expect(!server.isRunning, "the server stopped after SIGTERM")
            #expect(server.terminationReason == .exit && server.terminationStatus == 0, "a clean exit, not killed by the signal: \(output.suffix(2_000))")
            let answered = outcomes.compactMap { if case .answered(let status) = $0 { return status } else { return nil } }
            #expect(!answered.isEmpty && answered.allSatisfy { $0 == 201 }, "every request the server took was carried out: \(answered)")
            let moved = answered.count
            #expect(try await planes.balance(f, member: 0).ledger == 100_000 - 100 * moved)
            #expect(try await planes.balance(f, member: 1).ledger == 100 * moved)
            #expect(try await planes.ledgerFindings(f).isEmpty)
        }
    }
}
