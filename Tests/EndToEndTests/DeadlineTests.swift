import Foundation
import Hummingbird
import HummingbirdTesting
import NzilaCore
import Synchronization
import Testing

@Suite("Request deadline")
struct DeadlineMiddlewareTests {
    @Test("a handler that outlives the deadline answers 503 deadline-exceeded as a problem, and is cancelled; a quick one is untouched")
    func deadline() async throws {
        // The stuck handler never finishes by itself: only the deadline can answer, so no timing bound is needed.
        let cancelled = Mutex(false)
        let routes = RouteTable()
        let router = Router()
        router.add(middleware: ProblemMiddleware(routes: routes))
        router.add(middleware: DeadlineMiddleware(seconds: 2))
        router.get("/stuck") { _, _ -> String in
            let (never, continuation) = AsyncStream.makeStream(of: Void.self)
            for await _ in never {}  // nothing is ever sent: ends only when the task is cancelled
            withExtendedLifetime(continuation) {}
            cancelled.withLock { $0 = true }
            return "never"
        }
        router.get("/quick") { _, _ in "ok" }
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/stuck", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(String(buffer: response.body).contains("deadline-exceeded"))
            }
            #expect(try await eventually { cancelled.withLock { $0 } }, "the stuck handler's task was cancelled at the deadline")
            try await client.execute(uri: "/quick", method: .get) { response in
                #expect(response.status == .ok && String(buffer: response.body) == "ok")
            }
        }
    }
}
