import Compliance
import Foundation
import NzilaValues
import Testing

/// Issue 26: the customer risk rating's factors, each scored and explained; the send decision's EDD gate.
@Suite("Customer risk rating")
struct CustomerRiskTests {
    let policy = CustomerRisk.Policy()

    func rate(_ factors: CustomerRisk.Factors) -> CustomerRisk.Rating { CustomerRisk.rate(factors, policy: policy) }

    @Test("a member with everything on file and nothing risky is low; each factor adds its documented points")
    func factors() {
        let plain = CustomerRisk.Factors(residenceCountry: "CA", occupation: "nurse", expectedMonthlyMinor: 50_000, sentLast30DaysMinor: 40_000, recipientCountries: ["SN", "SN"])
        #expect(rate(plain) == CustomerRisk.Rating(level: .low, score: 0, reasons: []))
        var f = plain
        f.occupation = nil
        #expect(rate(f).score == 10 && rate(f).reasons.map(\.factor) == ["occupation"])
        f = plain
        f.occupation = "casino"
        #expect(rate(f).score == 20)
        f = plain
        f.residenceCountry = "IR"
        #expect(rate(f) .score == 40 && rate(f).level == .medium)
        f = plain
        f.recipientCountries = ["SN", "SN", "SN", "KP"]
        #expect(rate(f).score == 20, "some to a high-risk country")
        f.recipientCountries = ["SN", "KP"]
        #expect(rate(f).score == 35, "half or more")
        f = plain
        f.sentLast30DaysMinor = 100_001
        #expect(rate(f).score == 25, "over twice")
        f.sentLast30DaysMinor = 100_000
        #expect(rate(f).score == 0, "exactly twice is not over")
        f.sentLast30DaysMinor = 250_001
        #expect(rate(f).score == 40, "over five times")
        f = plain
        f.expectedMonthlyMinor = nil
        f.sentLast30DaysMinor = 300_001
        #expect(rate(f).score == 10)
        f = plain
        f.screeningReviews = 1
        #expect(rate(f).score == 15)
        f.screeningReviews = 5
        #expect(rate(f).score == 30, "at most 30")
    }

    @Test("a foreign PEP or their associate is high whatever else; a domestic PEP, an international organisation's head or a list match adds 40")
    func pep() {
        let foreign = rate(.init(pep: .foreign, residenceCountry: "CA", occupation: "diplomat", expectedMonthlyMinor: 1))
        #expect(foreign.level == .high && foreign.reasons.first?.factor == "pep")
        let associate = rate(.init(pep: .foreign, pepAssociate: true, residenceCountry: "CA", occupation: "nurse"))
        #expect(associate.level == .high && associate.reasons[0].explanation.contains("close associate of a foreign PEP"))
        for kind in [CustomerRisk.PEP.domestic, .internationalOrg] {
            let rated = rate(.init(pep: kind, residenceCountry: "CA", occupation: "nurse"))
            #expect(rated.level == .medium && rated.score == 40)
        }
        #expect(rate(.init(pepListMatch: true, residenceCountry: "CA", occupation: "nurse")).score == 40)
        // Two medium factors make a high rating.
        let both = rate(.init(pep: .domestic, residenceCountry: "MM", occupation: "nurse"))
        #expect(both.level == .high && both.score == 80 && both.reasons.map(\.factor) == ["pep", "residence"])
    }

    @Test("a tenant's lists add to the platform's, never remove from them; its EDD threshold can only be lower")
    func policyLists() throws {
        let section = try ComplianceSection.decode(#"{"risk": {"high_risk_countries": ["NG"], "high_risk_occupations": ["jeweller"], "edd_from_minor": 50000}}"#)
        let settings = ComplianceSettings(section)
        #expect(settings.risk.highRiskCountries == CustomerRisk.Policy.defaultCountries.union(["NG"]) && settings.risk.eddFromMinor == 50_000)
        let rated = CustomerRisk.rate(.init(residenceCountry: "NG", occupation: "jeweller"), policy: settings.risk)
        #expect(rated.score == 60 && rated.level == .high)
        #expect(CustomerRisk.rate(.init(residenceCountry: "IR", occupation: "casino"), policy: settings.risk).score == 60, "the platform's lists stay")
    }

    @Test("a high-risk member sends a large amount only at tier 4; below the threshold, or rated lower, as before")
    func eddGate() {
        func decide(cad: Int64, tier: Int, risk: CustomerRisk.Level) -> SendDecision {
            SendDecision.decide(SendDecision.Input(
                transfer: TransferActivity(id: "new", at: 1_800_000_000_000, amountCADMinor: cad * 100, deviceID: "phone"), history: [],
                knownDevices: ["phone"], tier: tier, monthlyLimitMinor: nil, dailyLimitMinor: nil, aml: .platformDefault,
                sender: SendDecisionTests.clear, recipient: SendDecisionTests.clear, risk: risk, eddFromMinor: 100_000))
        }
        if case .refuse(let code, let reason) = decide(cad: 1_000, tier: 3, risk: .high) {
            #expect(code == "edd-required" && reason.contains("tier 4"))
        } else {
            Issue.record("not refused")
        }
        #expect(decide(cad: 999, tier: 3, risk: .high) == .allow)
        #expect(decide(cad: 1_000, tier: 4, risk: .high) == .allow)
        #expect(decide(cad: 1_000, tier: 3, risk: .medium) == .allow)
    }
}
