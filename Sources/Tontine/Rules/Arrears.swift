import NzilaValues

/// Late contributions, arrears and what a member's payment settles first.
public enum Arrears {
    /// The tenant's late fee (`tontine.late_fee`): a fixed amount plus basis points of the
    /// contribution, in the circle's minor units. Rounding: the bps part is rounded **down** to the
    /// minor unit, so a member is never charged more than the published rate.
    public static func penalty(contributionMinor: Int64, fixedMinor: Int64, bps: Int) throws(RuleError) -> Int64 {
        guard contributionMinor > 0 else { throw RuleError.invalid(field: "contribution", "must be positive") }
        guard fixedMinor >= 0, (0...10_000).contains(bps) else { throw RuleError.invalid(field: "late_fee", "must be a fixed amount ≥ 0 and 0 to 10,000 bps") }
        let (product, overflow) = contributionMinor.multipliedReportingOverflow(by: Int64(bps))
        let (sum, overflowSum) = fixedMinor.addingReportingOverflow(product / 10_000)
        guard !overflow, !overflowSum else { throw RuleError.invalid(field: "late_fee", "is too large") }
        return sum
    }

    /// A contribution is late once its due day has passed (paid on the due day is on time).
    public static func isLate(paidOn day: Day, due: Day) -> Bool { day > due }

    /// How a member's payment of `paymentMinor` splits when they owe `arrearsMinor`: the arrears are
    /// recovered first, the rest is this cycle's contribution.
    public static func split(paymentMinor: Int64, arrearsMinor: Int64) -> (toArrears: Int64, toContribution: Int64) {
        let recovered = min(max(arrearsMinor, 0), max(paymentMinor, 0))
        return (recovered, max(paymentMinor, 0) - recovered)
    }

    /// What a member with arrears is paid out: the payout less the arrears it recovers (never below 0).
    public static func payout(grossMinor: Int64, arrearsMinor: Int64) -> (paid: Int64, recovered: Int64) {
        let (recovered, rest) = split(paymentMinor: grossMinor, arrearsMinor: arrearsMinor)
        return (rest, recovered)
    }
}

/// A member's standing in a circle: what they paid against what they owed, and whether they were
/// paid and then missed (delinquent: their standing says so, and a case opens for staff).
public struct Standing: Sendable, Equatable, Codable {
    public let paidMinor: Int64
    public let owedMinor: Int64
    public let received: Bool

    public init(paidMinor: Int64, owedMinor: Int64, received: Bool) {
        self.paidMinor = paidMinor
        self.owedMinor = owedMinor
        self.received = received
    }

    /// Paid less owed: negative when behind.
    public var balanceMinor: Int64 { paidMinor - owedMinor }
    public var inArrears: Bool { balanceMinor < 0 }
    public var isDelinquent: Bool { received && inArrears }
}

/// Dissolving a circle settles each member's net position through the ledger: who paid in more than
/// they received is refunded from the pool, who received more owes arrears, and the pool ends at 0.
public enum Dissolution {
    public struct Position: Sendable, Equatable {
        public let member: MemberID
        public let paidInMinor: Int64
        public let receivedMinor: Int64

        public init(member: MemberID, paidInMinor: Int64, receivedMinor: Int64) {
            self.member = member
            self.paidInMinor = paidInMinor
            self.receivedMinor = receivedMinor
        }
    }

    public struct Settlement: Sendable, Equatable {
        /// Refunds from the pool, by member.
        public let refunds: [MemberID: Int64]
        /// New arrears, by member.
        public let arrears: [MemberID: Int64]
    }

    /// The settlement, refused unless the refunds less the debts are exactly what the pool holds less
    /// `advancedMinor` — the pool must end at 0. A caller that counts the guarantee's advances in the
    /// defaulter's `paidInMinor` (as `CirclePeople.settle` does, recovering them from that member's
    /// refund) passes 0; one that leaves them out passes what the guarantee advanced.
    public static func settle(_ positions: [Position], poolMinor: Int64, advancedMinor: Int64 = 0) throws(RuleError) -> Settlement {
        var refunds: [MemberID: Int64] = [:]
        var arrears: [MemberID: Int64] = [:]
        for position in positions {
            let net = position.paidInMinor - position.receivedMinor
            if net > 0 { refunds[position.member] = net } else if net < 0 { arrears[position.member] = -net }
        }
        let refunded = refunds.values.reduce(0, +)
        let owed = arrears.values.reduce(0, +)
        guard refunded - owed == poolMinor - advancedMinor else {
            throw RuleError(
                .conflict, "pool-mismatch", "Pool does not balance",
                detail: "Members are owed \(refunded) and owe \(owed), but the pool holds \(poolMinor) with \(advancedMinor) advanced.")
        }
        return Settlement(refunds: refunds, arrears: arrears)
    }
}
