@testable import DataPlane
import Foundation
@testable import NzilaDatabase
import NzilaCore
import NzilaTestSupport
import Synchronization
import Testing

/// The relay's pure parts: publishing runs per tenant after wake-ups, and the audience an event
/// carries into the outbox.
@Suite("Event relay, pure")
struct EventRelayUnitTests {
    static func tenant(_ name: String) -> TenantRef {
        TenantRef(id: TenantID(UUID()), slug: try! TenantSlug(name), status: .active, poolGroup: 0, schemaVersion: 1, enabledDomains: [])
    }

    /// A publish that waits until the test lets it finish, recording each start.
    final class Gate: Sendable {
        struct State {
            var started: [String] = []
            var released: Set<Int> = []
            var waiting: [Int: CheckedContinuation<Void, Never>] = [:]
        }

        let state = Mutex(State())

        func publish(_ tenant: TenantRef) async {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let go = state.withLock { state -> Bool in
                    state.started.append(tenant.slug.value)
                    let index = state.started.count - 1
                    if state.released.contains(index) { return true }
                    state.waiting[index] = continuation
                    return false
                }
                if go { continuation.resume() }
            }
        }

        func release(_ index: Int) {
            let waiting = state.withLock { state in
                state.released.insert(index)
                return state.waiting.removeValue(forKey: index)
            }
            waiting?.resume()
        }

        var starts: [String] { state.withLock { $0.started } }
    }

    @Test("retention purges: a tenant's first sweep purges, then at most once an hour of the platform clock; a clock stepped back purges again")
    func purgesHourly() {
        let purges = RetentionPurges()
        let (a, b) = (TenantID(UUID()), TenantID(UUID()))
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(purges.due(a, now: start) && purges.due(b, now: start))
        #expect(!purges.due(a, now: start.addingTimeInterval(10)) && !purges.due(a, now: start.addingTimeInterval(3_599)))
        #expect(purges.due(a, now: start.addingTimeInterval(3_600)))
        #expect(!purges.due(a, now: start.addingTimeInterval(3_610)))
        #expect(purges.due(a, now: start.addingTimeInterval(-86_400)), "a clock stepped back")
        #expect(!purges.due(b, now: start.addingTimeInterval(60)))
    }

    @Test("one run per tenant at a time; a wake-up during a run makes it go round once more; past the limit tenants queue")
    func pumps() async throws {
        let pumps = PublishPumps(concurrency: 2)
        let gate = Gate()
        let (a, b, c) = (Self.tenant("alpha"), Self.tenant("bravo"), Self.tenant("charlie"))
        pumps.wake(a, gate.publish)
        pumps.wake(a, gate.publish)
        pumps.wake(a, gate.publish)
        pumps.wake(b, gate.publish)
        pumps.wake(c, gate.publish)
        #expect(try await eventually { gate.starts.count == 2 })
        #expect(Set(gate.starts) == ["alpha", "bravo"], "charlie waits for a free slot")
        gate.release(0)
        gate.release(1)
        // alpha was woken twice during its run: one more round, folded; then charlie.
        #expect(try await eventually { gate.starts.count == 4 })
        #expect(gate.starts.filter { $0 == "alpha" }.count == 2 && gate.starts.contains("charlie"), "\(gate.starts)")
        gate.release(2)
        gate.release(3)
        #expect(try await eventually { pumps.state.withLock { $0.running.isEmpty && $0.queued.isEmpty } })
        #expect(gate.starts.count == 4)
    }

    @Test("an event's audience rides in its payload's _audience member; none leaves the payload as it was")
    func audience() {
        let member = UUID()
        let payload = Data(#"{"loan_id":"x"}"#.utf8)
        #expect(Outbox.Batch.carrying([member], in: payload) == #"{"_audience":[""# + member.uuidString.lowercased() + #""],"loan_id":"x"}"#)
        #expect(Outbox.Batch.carrying([], in: payload) == #"{"loan_id":"x"}"#)
        #expect(Outbox.Batch.carrying([member], in: Data("{}".utf8)) == #"{"_audience":[""# + member.uuidString.lowercased() + #""]}"#)
    }
}
