import ControlPlane
import NzilaCore
import Testing

@Suite("Tenant lifecycle")
struct TenantLifecycleTests {
    @Test("every action from every status: active ⇄ suspended; offboarded is final; a repeat is refused")
    func everyPair() {
        let expected: [TenantLifecycle.Action: [TenantStatus: TenantStatus?]] = [
            .suspend: [.active: .suspended, .suspended: nil, .offboarded: nil],
            .resume: [.active: nil, .suspended: .active, .offboarded: nil],
        ]
        for (action, row) in expected {
            for status in TenantStatus.allCases {
                let outcome: TenantStatus?
                do { outcome = try TenantLifecycle.apply(action, to: status) } catch {
                    #expect(error.kind == .conflict && error.code == "invalid-transition")
                    outcome = nil
                }
                #expect(outcome == row[status] ?? nil, "\(action) from \(status)")
            }
        }
    }
}
