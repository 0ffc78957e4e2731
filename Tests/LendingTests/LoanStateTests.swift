import Foundation
import Lending
import NzilaValues
import Testing

@Suite("Loan states")
struct LoanStateTests {
    static let legal: Set<String> = [
        "submitted>approved", "submitted>referred", "submitted>declined", "referred>approved", "referred>declined", "approved>disbursed",
        "disbursed>closed", "disbursed>written_off",
    ]

    @Test("every pair of states: exactly the issue's transitions are legal; the refusal names the current state", arguments: LoanState.allCases)
    func everyPair(from: LoanState) {
        for to in LoanState.allCases {
            let pair = "\(from.rawValue)>\(to.rawValue)"
            switch from.transition(to: to) {
            case .success(let state): #expect(Self.legal.contains(pair) && state == to, "\(pair)")
            case .failure(let refusal):
                #expect(!Self.legal.contains(pair), "\(pair)")
                #expect(refusal.ruleError.code == "invalid-transition" && refusal.ruleError.detail.contains(from.rawValue))
            }
        }
    }

    @Test("declined, closed and written off are final; events are loan.<state>.v1")
    func finals() {
        #expect(LoanState.allCases.filter(\.isFinal) == [.declined, .closed, .writtenOff])
        #expect(LoanState.writtenOff.event == "loan.written_off.v1")
        #expect(LoanState.allCases.allSatisfy { $0.event.range(of: #"^[a-z_]+\.[a-z_]+\.v[0-9]+$"#, options: .regularExpression) != nil })
    }
}
