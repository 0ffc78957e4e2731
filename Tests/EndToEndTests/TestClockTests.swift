import ControlPlane
import DataPlane
import Foundation
import HTTPTypes
import NzilaCore
import NzilaDatabase
import Remittance
import Testing

/// `nzila dev --test-clock` as a demo runs it: the control plane serves the test-clock routes and
/// stores the offset in `control.test_clock`; the data plane has its own clock and follows each move
/// through its change feed (NOTIFY), and its workers run what became due at once.
@Suite("Test clock", .serialized)
struct TestClockTests {
    @Test("the test-clock routes exist only when asked for")
    func absentByDefault() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let admin = try await planes.adminToken()
            #expect(try await planes.control(.get, "/v1/test-clock", token: admin).status == .notFound)
            #expect(try await planes.control(.post, "/v1/test-clock/advance", token: admin, json: ["seconds": 60]).status == .notFound)
        }
    }

    @Test("advancing the test clock moves the data plane within its feed's delay; expired holds are released and unfunded remittances cancelled without a request")
    func advance() async throws {
        let harness = try await Harness.get()
        // Both planes start where the stack's clock stands, each on its own clock, as in `nzila dev`.
        let start = Double(try await TestClockRegistry.offset(harness.owner, logger: harness.logger)) / 1_000_000
        let controlClock = MovableClock(offsetSeconds: start)
        let dataClock = MovableClock(offsetSeconds: start)
        let control = harness.controlPlane(clock: .movable(controlClock), testClock: true)
        try await harness.withPlanes(control: control, data: { $0.testClock = true }, clock: dataClock) { planes in
            let admin = try await planes.adminToken()
            let f = try await planes.provisionFixture(prefix: "clock")
            #expect(try await eventually { planes.data.directory.isFeedConnected })
            let before = try await planes.control(.get, "/v1/test-clock", token: admin)
            #expect(before.status == .ok && (before.json["offset_seconds"] as? Double ?? -1) >= start, "\(before.text)")
            #expect(try await planes.control(.get, "/v1/test-clock", token: f.staffToken).status == .forbidden)

            // A hold for an hour, and an order waiting for a funding webhook (an hour's window).
            try await planes.deposit(f, member: 0, minor: 50_000)
            let hold = try await planes.data(
                .post, "/v1/holds", token: f.members[0].token, tenant: f.slug,
                json: ["account_id": f.members[0].accountID, "amount": 4_000, "currency": "CAD", "expires_in_seconds": 3_600],
                headers: [.idempotencyKey: UUID().uuidString])
            let holdID = try #require(hold.json["id"] as? String, "\(hold.text)")
            let unfunded = try await planes.remit(f, funding: "webhook")
            let orderID = try #require(unfunded.json["id"] as? String, "\(unfunded.text)")
            #expect(try await planes.order(f, orderID)["state"] as? String == "awaiting_funding")

            // Bad moves are refused, and change nothing.
            for bad: Any in [0, -5, "soon", 400_000_000] {
                let refused = try await planes.control(.post, "/v1/test-clock/advance", token: admin, json: ["seconds": bad])
                #expect(refused.status == .unprocessableContent || refused.status == .badRequest, "\(bad): \(refused.text)")
                #expect(refused.headers[.contentType] == "application/problem+json")
            }
            #expect(try await planes.control(.post, "/v1/test-clock/advance", token: f.staffToken, json: ["seconds": 60]).status == .forbidden)

            // The data plane's workers, on its clock — limited to this test's tenant: other tests' tenants share
            // the database and must not see their holds and orders judged two hours ahead.
            let tenant = try await planes.tenantRef(f)
            let session: @Sendable (TenantRef) -> TenantSession = { _ in
                TenantSession(client: harness.groups[tenant.poolGroup % harness.groups.count], tenant: tenant, memberID: nil, clock: .movable(dataClock),
                              logger: harness.logger)
            }
            let holdExpiry = HoldExpiryWorker(
                tenants: { [tenant] }, session: session, clockMoves: dataClock.moves(), interval: .seconds(3_600), logger: harness.logger)
            let remittances = RemittanceWorker(
                step: PayoutStep(partners: planes.data.partners, keys: planes.data.dataKeys), tenants: { [tenant] }, session: session,
                clock: { dataClock.now() }, clockMoves: dataClock.moves(), sweepInterval: .seconds(3_600), logger: harness.logger)
            try await withThrowingTaskGroup(of: Void.self) { workers in
                workers.addTask { try await holdExpiry.run() }
                workers.addTask { try await remittances.run() }
                defer { workers.cancelAll() }

                let moved = try await planes.control(.post, "/v1/test-clock/advance", token: admin, json: ["seconds": 2 * 3_600])
                #expect(moved.status == .ok, "\(moved.text)")
                #expect(try #require(moved.json["offset_seconds"] as? Double) >= start + 7_200)
                let stored = try await TestClockRegistry.offset(harness.owner, logger: harness.logger)
                #expect(controlClock.offsetMicroseconds == stored)
                // The data plane's own clock follows through the feed (NOTIFY; the heartbeat re-reads it too).
                #expect(try await eventually { dataClock.offsetMicroseconds == stored }, "data plane at \(dataClock.offsetSeconds) s")

                // Two hours on, the tokens issued before the move have expired: both planes judge them by the moved clock.
                #expect(try await planes.data(.get, "/v1/holds/\(holdID)", token: f.members[0].token, tenant: f.slug).status == .unauthorized)
                let member = try await planes.login(planes.dp, email: "member0@\(f.slug).test", password: "member password 0!", tenant: f.slug)
                let staff = try await planes.login(planes.cp, email: "admin@\(f.slug).test", password: "staff password 123")
                // No request touches the account or the order: the workers do.
                let released = try await eventually {
                    try await planes.data(.get, "/v1/holds/\(holdID)", token: member, tenant: f.slug).json["status"] as? String == "expired"
                }
                #expect(released, "the hold expired on the platform clock and was released")
                #expect(try await planes.balance(f, member: 0, token: staff) == (ledger: 50_000, available: 50_000))
                let cancelled = try await eventually { try await planes.order(f, orderID, token: staff)["state"] as? String == "cancelled" }
                #expect(cancelled, "the unfunded order was cancelled once its window had passed")
            }
            #expect(try await planes.ledgerFindings(f).isEmpty)
        }
    }
}
