/// Whether a member may send a remittance now, and why: the one decision the remittance flow asks of
/// compliance before any money moves. Pure: the caller brings the member's recent activity, tier and
/// limits, and the screenings of sender and recipient; every reason is kept so the decision can be
/// explained to the member, the officer and FINTRAC.
public enum SendDecision: Sendable, Equatable {
    /// Nothing stands in the way.
    case allow
    /// The money may be taken but the order waits for an officer (a case per reason).
    case hold([String])
    /// Not sent at all; `code` is the problem type the API answers with.
    case refuse(code: String, reason: String)

    public struct Input: Sendable {
        public var transfer: TransferActivity
        /// The sender's earlier non-failed, non-refunded remittances.
        public var history: [TransferActivity]
        public var knownDevices: Set<String>
        public var tier: Int
        public var monthlyLimitMinor: Int64?
        public var dailyLimitMinor: Int64?
        public var aml: AMLConfig
        public var sender: ScreeningResult
        public var recipient: ScreeningResult
        /// The sender's AML risk rating (`CustomerRisk`), and from what amount a high rating needs tier 4 (EDD).
        public var risk: CustomerRisk.Level
        public var eddFromMinor: Int64
        /// The fraud model's score of this transfer (nil: no model), and from what probability it holds (basis points).
        public var fraud: FraudModel.Score?
        public var fraudHoldBps: Int?

        public init(
            transfer: TransferActivity, history: [TransferActivity], knownDevices: Set<String>, tier: Int, monthlyLimitMinor: Int64?,
            dailyLimitMinor: Int64?, aml: AMLConfig, sender: ScreeningResult, recipient: ScreeningResult, risk: CustomerRisk.Level = .low,
            eddFromMinor: Int64 = CustomerRisk.Policy().eddFromMinor, fraud: FraudModel.Score? = nil, fraudHoldBps: Int? = nil
        ) {
            self.fraud = fraud
            self.fraudHoldBps = fraudHoldBps
            self.risk = risk
            self.eddFromMinor = eddFromMinor
            self.transfer = transfer
            self.history = history
            self.knownDevices = knownDevices
            self.tier = tier
            self.monthlyLimitMinor = monthlyLimitMinor
            self.dailyLimitMinor = dailyLimitMinor
            self.aml = aml
            self.sender = sender
            self.recipient = recipient
        }
    }

    /// DOMAIN.md: an electronic funds transfer of 1,000 CAD or more needs a verified identity (tier 2+).
    public static let verifiedIdentityFromMinor: Int64 = 100_000

    /// Refusals first (a blocked name, identity, limits), then holds (a name to review, AML rules).
    public static func decide(_ input: Input) -> SendDecision {
        for (party, result) in [("sender", input.sender), ("recipient", input.recipient)] where result.decision == .block {
            let entry = result.candidates.first.map { "\($0.source) \($0.sourceID)" } ?? "a listed party"
            return .refuse(code: "screening-blocked", reason: "The \(party) matches \(entry) (score \(result.score)).")
        }
        let amount = input.transfer.amountCADMinor
        if amount >= verifiedIdentityFromMinor && input.tier < 2 {
            return .refuse(code: "kyc-tier-required", reason: "Sending 1,000 CAD or more needs a verified identity (KYC tier 2); the member is at tier \(input.tier).")
        }
        if input.risk == .high && amount >= input.eddFromMinor && input.tier < 4 {
            return .refuse(
                code: "edd-required",
                reason: "The member is rated high risk: sending \(AMLFlag.cad(input.eddFromMinor)) CAD or more needs enhanced due diligence (KYC tier 4); the member is at tier \(input.tier).")
        }
        let usage = KYCLimitUsage(
            tier: input.tier, monthlyLimitMinor: input.monthlyLimitMinor, dailyLimitMinor: input.dailyLimitMinor,
            sends: input.history.map { (at: $0.at, amountMinor: $0.amountCADMinor) }, now: input.transfer.at)
        for (span, window) in [("24-hour", usage.twentyFourHours), ("30-day", usage.thirtyDays)] {
            if let remaining = window.remainingMinor, amount > remaining {
                return .refuse(
                    code: "kyc-limit-exceeded", reason: "This would pass the tier \(input.tier) \(span) limit: \(AMLFlag.cad(remaining)) CAD remains.")
            }
        }
        var reasons: [String] = []
        for (party, result) in [("sender", input.sender), ("recipient", input.recipient)] where result.decision == .review {
            let entry = result.candidates.first.map { "\($0.source) \($0.sourceID)" } ?? "a listed party"
            reasons.append("screening: the \(party) resembles \(entry) (score \(result.score))")
        }
        reasons += AMLRules.evaluate(input.transfer, history: input.history, knownDevices: input.knownDevices, config: input.aml)
            .map { "\($0.rule): \($0.explanation)" }
        if let fraud = input.fraud, let holdBps = input.fraudHoldBps, fraud.probability * 10_000 >= Double(holdBps) {
            let why = fraud.top.filter { $0.contribution > 0 }.map(\.feature).joined(separator: ", ")
            reasons.append("fraud-model: probability \(Int((fraud.probability * 100).rounded(.down)))% (at least \(holdBps / 100)% holds)\(why.isEmpty ? "" : "; mostly \(why)")")
        }
        return reasons.isEmpty ? .allow : .hold(reasons)
    }
}
