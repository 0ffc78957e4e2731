import Compliance
import NzilaCore
import Foundation
import Testing

@Suite("AML rules")
struct AMLRuleTests {
    static let hour: Int64 = 3_600_000
    static let now: Int64 = 1_800_000_000_000

    func transfer(_ id: String, minutesAgo: Int64 = 0, cad: Int64, device: String? = nil) -> TransferActivity {
        TransferActivity(id: id, at: Self.now - minutesAgo * 60_000, amountCADMinor: cad * 100, deviceID: device)
    }

    func rules(_ new: TransferActivity, _ history: [TransferActivity] = [], devices: Set<String> = ["phone-1"]) -> [String] {
        AMLRules.evaluate(new, history: history, knownDevices: devices).map(\.rule)
    }

    @Test("velocity: five transfers in an hour pass, the sixth is held; older ones do not count")
    func velocity() {
        let four = (1...4).map { transfer("t\($0)", minutesAgo: Int64($0) * 10, cad: 10) }
        #expect(rules(transfer("new", cad: 10), four) == [])
        let five = four + [transfer("t5", minutesAgo: 59, cad: 10)]
        #expect(rules(transfer("new", cad: 10), five) == ["velocity"])
        let oneOld = four + [transfer("t5", minutesAgo: 60, cad: 10)]
        #expect(rules(transfer("new", cad: 10), oneOld) == [])
    }

    @Test("large amount: 4,999.99 CAD passes, 5,000.00 is held")
    func large() {
        #expect(rules(TransferActivity(id: "a", at: Self.now, amountCADMinor: 499_999)) == [])
        #expect(rules(TransferActivity(id: "b", at: Self.now, amountCADMinor: 500_000)) == ["large-amount"])
    }

    @Test("new device: 999.99 CAD passes, 1,000.00 from an unknown device is held, from a known one not")
    func newDevice() {
        #expect(rules(TransferActivity(id: "a", at: Self.now, amountCADMinor: 99_999, deviceID: "tablet")) == [])
        #expect(rules(TransferActivity(id: "b", at: Self.now, amountCADMinor: 100_000, deviceID: "tablet")) == ["new-device"])
        #expect(rules(TransferActivity(id: "c", at: Self.now, amountCADMinor: 100_000, deviceID: "phone-1")) == [])
    }

    @Test("structuring: transfers under 10,000 within 24 h reaching it are held; 1 cent short, or spread over 24 h, are not")
    func structuring() throws {
        let earlier = [transfer("a", minutesAgo: 600, cad: 4_000), transfer("b", minutesAgo: 300, cad: 3_000)]
        #expect(rules(transfer("c", cad: 2_999), earlier) == [])
        let flags = AMLRules.evaluate(TransferActivity(id: "c", at: Self.now, amountCADMinor: 300_000), history: earlier, knownDevices: [])
        #expect(flags == [.structuring(ids: ["a", "b", "c"], totalMinor: 1_000_000)])
        let spread = [transfer("a", minutesAgo: 24 * 60, cad: 4_000), transfer("b", minutesAgo: 300, cad: 3_000)]
        #expect(rules(transfer("c", cad: 3_000), spread) == [])
        // A transfer at or over the threshold is not structuring (it is large and reported on its own).
        #expect(rules(transfer("d", cad: 10_000), earlier) == ["large-amount"])
        #expect(flags.first?.explanation == "3 transfers each under the reporting threshold, together 10000.00 CAD within 24 hours")
    }
}

@Suite("FINTRAC reporting rules")
struct FINTRACRuleTests {
    static let now: Int64 = 1_800_000_000_000

    func transfer(_ id: String, hoursAgo: Double = 0, minor: Int64, international: Bool = true) -> TransferActivity {
        TransferActivity(id: id, at: Self.now - Int64(hoursAgo * 3_600_000), amountCADMinor: minor, international: international)
    }

    @Test("a single international transfer of 10,000 CAD or more is reported; 9,999.99 is not; domestic never")
    func single() {
        #expect(EFTReporting.decide(transfer("a", minor: 1_000_000), history: [], reported: [])?.reason == .single)
        #expect(EFTReporting.decide(transfer("a", minor: 999_999), history: [], reported: []) == nil)
        #expect(EFTReporting.decide(transfer("a", minor: 5_000_000, international: false), history: [], reported: []) == nil)
    }

    @Test("the 24-hour rule: together reaching 10,000 within 24 consecutive hours is one report; outside the window or already reported does not count")
    func twentyFourHours() throws {
        let history = [transfer("a", hoursAgo: 23.9, minor: 400_000), transfer("b", hoursAgo: 2, minor: 300_000)]
        let decision = try #require(EFTReporting.decide(transfer("c", minor: 300_000), history: history, reported: []))
        #expect(decision.reason == .twentyFourHourRule && decision.transferIDs == ["a", "b", "c"] && decision.totalMinor == 1_000_000)
        #expect(EFTReporting.decide(transfer("c", minor: 299_999), history: history, reported: []) == nil)
        let late = [transfer("a", hoursAgo: 24, minor: 400_000), transfer("b", hoursAgo: 2, minor: 300_000)]
        #expect(EFTReporting.decide(transfer("c", minor: 300_000), history: late, reported: []) == nil)
        #expect(EFTReporting.decide(transfer("c", minor: 300_000), history: history, reported: ["a"]) == nil)
        #expect(EFTReporting.decide(transfer("c", minor: 300_000), history: history, reported: ["c"]) == nil)
    }

    @Test("an EFTR is due five working days after the day of the transfer")
    func deadline() {
        // Day 20_413 is Friday 2025-11-21: due Friday 2025-11-28 (20_420). Monday 2025-11-24 (20_416): due Monday 2025-12-01.
        #expect(EFTReporting.deadline(afterDay: 20_413) == 20_420)
        #expect(EFTReporting.deadline(afterDay: 20_416) == 20_423)
    }
}

@Suite("KYC limits")
struct KYCLimitTests {
    @Test("used and remaining over rolling 30 days and 24 hours; unlimited tiers have no remaining")
    func usage() {
        let day: Int64 = 86_400_000, now: Int64 = 100 * day
        let sends: [(at: Int64, amountMinor: Int64)] = [(now - 31 * day, 90_000), (now - 29 * day, 100_000), (now - 2 * day, 50_000), (now - 3_600_000, 20_000)]
        let usage = KYCLimitUsage(tier: 2, monthlyLimitMinor: 500_000, dailyLimitMinor: 300_000, sends: sends, now: now)
        #expect(usage.thirtyDays.usedMinor == 170_000 && usage.thirtyDays.remainingMinor == 330_000)
        #expect(usage.twentyFourHours.usedMinor == 20_000 && usage.twentyFourHours.remainingMinor == 280_000)
        #expect(usage.allows(280_000) && !usage.allows(280_001))
        let premium = KYCLimitUsage(tier: 4, monthlyLimitMinor: nil, dailyLimitMinor: nil, sends: sends, now: now)
        #expect(premium.thirtyDays.remainingMinor == nil && premium.allows(1_000_000_000))
    }
}

@Suite("Compliance settings")
struct ComplianceSettingsTests {
    @Test("the tenant's section sets thresholds in basis points; what it leaves out keeps the platform default")
    func parse() {
        let settings = ComplianceSettings(try? ComplianceSection.decode(Data(#"{"screening": {"review_bps": 7000, "block_bps": 9000}, "aml": {"max_transfers_per_hour": 3}}"#.utf8)))
        #expect(settings.screening.review == 0.7 && settings.screening.block == 0.9 && settings.screening.report == 0.7)
        #expect(settings.aml.maxTransfersPerHour == 3 && settings.aml.largeTransferMinor == 500_000)
        #expect(ComplianceSettings(nil) == ComplianceSettings())
        #expect(ComplianceSettings(try? ComplianceSection.decode(Data("not json".utf8))) == ComplianceSettings())
    }
}

@Suite("Send decisions")
struct SendDecisionTests {
    static let now: Int64 = 1_800_000_000_000
    static let clear = ScreeningResult(decision: .clear, score: 0, normalizedName: [], candidates: [], thresholds: .platformDefault, listVersions: [:])

    static func screened(_ decision: ScreeningOutcome, score: Double) -> ScreeningResult {
        let candidate = ScreeningCandidate(
            source: "ofac-sdn", sourceID: "6365", listVersion: "v", kind: .individual, matchedName: "Ayman al-Zawahiri", normalizedName: [],
            programmes: [], nameScore: score, score: score, reasons: [])
        return ScreeningResult(decision: decision, score: score, normalizedName: [], candidates: [candidate], thresholds: .platformDefault, listVersions: [:])
    }

    func input(cad: Int64, tier: Int = 2, history: [TransferActivity] = [], device: String? = "phone", sender: ScreeningResult = clear,
               recipient: ScreeningResult = clear) -> SendDecision.Input {
        SendDecision.Input(
            transfer: TransferActivity(id: "new", at: Self.now, amountCADMinor: cad * 100, deviceID: device), history: history, knownDevices: ["phone"],
            tier: tier, monthlyLimitMinor: 500_000, dailyLimitMinor: 300_000, aml: .platformDefault, sender: sender, recipient: recipient)
    }

    @Test("refusals: a blocked party, 1,000 CAD without a verified identity, a limit passed; each says why")
    func refusals() {
        #expect(SendDecision.decide(input(cad: 100, recipient: Self.screened(.block, score: 0.99)))
                == .refuse(code: "screening-blocked", reason: "The recipient matches ofac-sdn 6365 (score 0.99)."))
        #expect(SendDecision.decide(input(cad: 999, tier: 1)) == .allow)
        if case .refuse(let code, _) = SendDecision.decide(input(cad: 1_000, tier: 1)) { #expect(code == "kyc-tier-required") } else { Issue.record("not refused") }
        let spent = [TransferActivity(id: "a", at: Self.now - 3_600_000, amountCADMinor: 250_000)]
        #expect(SendDecision.decide(input(cad: 500, history: spent)) == .allow)
        #expect(SendDecision.decide(input(cad: 501, history: spent))
                == .refuse(code: "kyc-limit-exceeded", reason: "This would pass the tier 2 24-hour limit: 500.00 CAD remains."))
    }

    @Test("holds: a name to review and every AML rule that fires, each a reason; otherwise allowed")
    func holds() {
        #expect(SendDecision.decide(input(cad: 100)) == .allow)
        guard case .hold(let reasons) = SendDecision.decide(input(cad: 1_500, device: "tablet", sender: Self.screened(.review, score: 0.9))) else {
            Issue.record("not held")
            return
        }
        #expect(reasons == ["screening: the sender resembles ofac-sdn 6365 (score 0.9)", "new-device: 1500.00 CAD from a device not seen before (tablet)"])
    }
}
