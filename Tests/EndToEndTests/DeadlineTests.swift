import Foundation
import Hummingbird
import HummingbirdTesting
import NzilaCore
import Testing

@Suite("Request deadline")
struct DeadlineMiddlewareTests {
    @Test("a handler that outlives the deadline answers 503 deadline-exceeded as a problem, soon after the deadline; a quick one is untouched")
    func deadline() async throws {
        let routes = RouteTable()
        let router = Router()
        router.add(middleware: ProblemMiddleware(routes: routes))
        router.add(middleware: DeadlineMiddleware(seconds: 0.3))
        router.get("/stuck") { _, _ -> String in
            try await Task.sleep(for: .seconds(30))
            return "never"
        }
        router.get("/quick") { _, _ in "ok" }
        try await Application(router: router).test(.router) { client in
            let started = ContinuousClock.now
            try await client.execute(uri: "/stuck", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(String(buffer: response.body).contains("deadline-exceeded"))
            }
            #expect(ContinuousClock.now - started < .seconds(3))
            try await client.execute(uri: "/quick", method: .get) { response in
                #expect(response.status == .ok && String(buffer: response.body) == "ok")
            }
        }
    }
}
