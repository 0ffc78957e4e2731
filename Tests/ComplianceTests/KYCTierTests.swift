import Foundation
import Compliance
import NzilaCore
import Testing

@Suite("KYC tiers")
struct KYCTierTests {
    @Test("each tier needs its evidence on top of the one below; down needs nothing; tier 4 only by a senior role")
    func rules() {
        let id: Set<KYCEvidence> = [.passport, .selfieMatch]
        #expect(KYCTiers.refusal(from: 1, to: 2, evidence: id, role: .teller) == nil)
        #expect(KYCTiers.refusal(from: 1, to: 2, evidence: [.passport], role: .teller) == .missingEvidence([.selfieMatch]))
        #expect(KYCTiers.refusal(from: 1, to: 2, evidence: [.driversLicence, .selfieMatch], role: .teller) == nil)
        #expect(KYCTiers.refusal(from: 1, to: 3, evidence: id.union([.proofOfAddress]), role: .teller) == .missingEvidence([.sourceOfFunds]))
        #expect(KYCTiers.refusal(from: 2, to: 3, evidence: id.union([.proofOfAddress, .sourceOfFunds]), role: .teller) == nil)
        let all = Set(KYCEvidence.allCases)
        #expect(KYCTiers.refusal(from: 3, to: 4, evidence: all, role: .teller) == .seniorOnly)
        #expect(KYCTiers.refusal(from: 3, to: 4, evidence: all, role: .complianceOfficer) == nil)
        #expect(KYCTiers.refusal(from: 3, to: 4, evidence: all.subtracting([.eddInterview]), role: .tenantAdmin) == .missingEvidence([.eddInterview]))
        #expect(KYCTiers.refusal(from: 3, to: 1, evidence: [], role: .teller) == nil)
        #expect(KYCTiers.refusal(from: 2, to: 2, evidence: all, role: .tenantAdmin) == .sameTier)
        #expect(KYCTiers.refusal(from: 1, to: 2, evidence: [], role: .teller) == .missingEvidence([.passport, .selfieMatch]))
    }

    @Test("case decisions: escalated cases are the senior's, decisions are final")
    func cases() {
        #expect(CaseRules.decide(.escalate, status: .open, role: .complianceOfficer) == .success(.escalated))
        #expect(CaseRules.decide(.escalate, status: .escalated, role: .tenantAdmin) == .failure(.alreadyEscalated))
        #expect(CaseRules.decide(.release, status: .escalated, role: .complianceOfficer) == .failure(.seniorOnly))
        #expect(CaseRules.decide(.reject, status: .escalated, role: .tenantAdmin) == .success(.rejected))
        #expect(CaseRules.decide(.release, status: .open, role: .complianceOfficer) == .success(.released))
        for final in [CaseStatus.released, .rejected] {
            for decision in CaseDecision.allCases { #expect(CaseRules.decide(decision, status: final, role: .tenantAdmin) == .failure(.decided(final))) }
        }
    }
}

@Suite("KYC limits")
struct KYCLimitConfigTests {
    @Test("the tenant's limits within the platform maxima; missing lines fall back to the maxima; a looser value is clamped")
    func limits() {
        let json = Data(#"{"currency":"CAD","tiers":{"1":{"monthly_send_minor":30000,"daily_send_minor":10000},"2":{"monthly_send_minor":9000000,"daily_send_minor":null},"4":{"monthly_send_minor":null,"daily_send_minor":null}}}"#.utf8)
        #expect(KYCLimits.from(try? KYCLimitsSection.decode(json), tier: 1) == KYCLimits(monthlyMinor: 30_000, dailyMinor: 10_000))
        #expect(KYCLimits.from(try? KYCLimitsSection.decode(json), tier: 2) == KYCLimits(monthlyMinor: 500_000, dailyMinor: nil), "never above the platform's 5,000 CAD")
        #expect(KYCLimits.from(try? KYCLimitsSection.decode(json), tier: 3) == KYCLimits.platformMaximum(tier: 3))
        #expect(KYCLimits.from(try? KYCLimitsSection.decode(json), tier: 4) == KYCLimits(monthlyMinor: nil, dailyMinor: nil))
        #expect(KYCLimits.from(nil, tier: 1) == KYCLimits(monthlyMinor: 50_000, dailyMinor: nil))
        #expect(KYCLimits.from(try? KYCLimitsSection.decode(Data("not json".utf8)), tier: 2).monthlyMinor == 500_000)
    }
}
