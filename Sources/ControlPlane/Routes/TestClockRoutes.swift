import Foundation
import Hummingbird
import NzilaCore
import NzilaDatabase

/// Stripe-style test clocks for `nzila dev --test-clock` (and the tests): the platform's clock runs at
/// the machine's pace from an offset that only moves forward. These routes exist only when the plane
/// was built with `Settings.testClock`; `nzila control-plane` never sets it.
extension ControlPlane {
    struct AdvanceBody: StrictBody {
        static let fields: Set<String> = ["seconds"]
        let seconds: Int
    }

    struct TestClockState: Codable, Sendable {
        let now: Date
        let offsetSeconds: Double
        let frozen: Bool
    }

    var testClockState: TestClockState {
        let movable = clock.movable
        return TestClockState(now: clock.now(), offsetSeconds: movable?.offsetSeconds ?? 0, frozen: movable?.isFrozen ?? false)
    }

    func addTestClockRoutes(_ routes: ControlRoutes) {
        guard settings.testClock, let movable = clock.movable else { return }
        routes.route(.get, "/v1/test-clock", "The platform's test clock: its time and how far it is ahead of the machine's", access: .staff(.moveTestClock), answer: TestClockState.self, use: { _, context in
            return try Response.json(self.testClockState)
        })
        routes.route(.post, "/v1/test-clock/advance", "Move the test clock forward; every plane and worker of the stack follows within a second", access: .staff(.moveTestClock), body: AdvanceBody.self, answer: TestClockState.self, use: { request, context in
                let body = try await request.decodeStrict(AdvanceBody.self)
                let maximum = Int(MovableClock.maximumAdvanceSeconds)
                guard (1...maximum).contains(body.seconds) else {
                    throw Problem.validation(field: "seconds", "must be a whole number of seconds from 1 to \(maximum) (the clock only moves forward)")
                }
                let offset = try await TestClockRegistry.advance(self.client, by: Int64(body.seconds) * 1_000_000, logger: self.logger)
                movable.adopt(offsetMicroseconds: offset)
                self.logger.notice("test clock advanced", metadata: ["seconds": "\(body.seconds)", "offset_us": "\(offset)"])
                return try Response.json(self.testClockState)
            })
    }
}
