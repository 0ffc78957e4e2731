import Foundation
import Lending
import NzilaValues
import Testing

/// Schedules pinned against vectors computed independently with Python's `decimal` module
/// (50 digits, ROUND_HALF_EVEN), by this script:
///
///     from decimal import Decimal as D, getcontext, ROUND_HALF_EVEN; getcontext().prec = 50
///     he = lambda x: int(D(x).quantize(D(1), rounding=ROUND_HALF_EVEN))
///     def declining(P, bps, n, ppy, k=0):
///         r = D(bps) / 10000 / ppy; bal = P; out = [(0, he(bal * r), bal) for _ in range(k)]
///         g = (1 + r) ** (n - k); A = he(bal * r * g / (g - 1))
///         for i in range(k + 1, n + 1):
///             it = he(bal * r); pr = bal if i == n else min(bal, max(0, A - it)); bal -= pr; out.append((pr, it, bal))
///         return A, out
///     def flat(P, bps, n, ppy, k=0):
///         I = he(D(P) * bps * n / (10000 * ppy)); ie, pe, bal, out = I // n, P // (n - k), P, []
///         for i in range(1, n + 1):
///             it = I - ie * (n - 1) if i == n else ie; pr = 0 if i <= k else (bal if i == n else pe); bal -= pr; out.append((pr, it, bal))
///         return I, out
///
/// The first vector is also the textbook one: 1,000.00 at 12% over 12 months is 88.85 a month.
@Suite("Loan schedules, rate cap, allocation, payoff and delinquency")
struct LoanRuleTests {
    static let first = Day(year: 2027, month: 1, day: 31)!

    func terms(_ principal: Int64, _ currency: String, bps: Int, n: Int, _ frequency: Frequency, _ method: LoanMethod, grace: Int = 0) -> LoanTerms {
        LoanTerms(
            principalMinor: principal, currency: Currency(code: currency)!, annualRateBps: bps, instalments: n, frequency: frequency, method: method,
            graceInstalments: grace, firstDue: Self.first)
    }

    @Test("declining balance, CAD monthly: 1,000.00 at 12% over 12 is 88.85 a month; the last absorbs the rounding")
    func cadMonthly() throws {
        let schedule = try Amortization.schedule(terms(100_000, "CAD", bps: 1_200, n: 12, .monthly, .decliningBalance))
        #expect(Amortization.annuity(principalMinor: 100_000, rate: Decimal(1_200) / 10_000 / 12, periods: 12) == 8_885)
        #expect(schedule.map(\.principalMinor) == [7885, 7964, 8043, 8124, 8205, 8287, 8370, 8454, 8538, 8624, 8710, 8796])
        #expect(schedule.map(\.interestMinor) == [1000, 921, 842, 761, 680, 598, 515, 431, 347, 261, 175, 88])
        #expect(schedule.dropLast().allSatisfy { $0.totalMinor == 8_885 } && schedule.last?.totalMinor == 8_884)
        #expect(schedule.map(\.principalMinor).reduce(0, +) == 100_000 && schedule.last?.balanceAfterMinor == 0)
        // Monthly keeps the day, clamped to the month's end.
        #expect(schedule.prefix(3).map(\.dueDate.description) == ["2027-01-31", "2027-02-28", "2027-03-31"])
    }

    @Test("declining balance, XOF (no minor unit) weekly over 26")
    func xofWeekly() throws {
        let schedule = try Amortization.schedule(terms(250_000, "XOF", bps: 1_800, n: 26, .weekly, .decliningBalance))
        #expect(schedule.map(\.principalMinor) == [
            9206, 9237, 9269, 9302, 9334, 9366, 9398, 9431, 9464, 9496, 9529, 9562, 9595, 9629, 9662, 9695, 9729, 9763, 9796, 9830, 9864, 9898, 9933, 9967,
            10002, 10043,
        ])
        #expect(schedule.map(\.interestMinor) == [
            865, 834, 802, 769, 737, 705, 673, 640, 607, 575, 542, 509, 476, 442, 409, 376, 342, 308, 275, 241, 207, 173, 138, 104, 69, 35,
        ])
        #expect(schedule.map(\.principalMinor).reduce(0, +) == 250_000)
    }

    @Test("principal grace: the first 3 pay interest only, the annuity spreads over the other 9")
    func grace() throws {
        let schedule = try Amortization.schedule(terms(500_000, "CAD", bps: 999, n: 12, .monthly, .decliningBalance, grace: 3))
        #expect(schedule.map(\.principalMinor) == [0, 0, 0, 53732, 54179, 54630, 55085, 55543, 56006, 56472, 56942, 57411])
        #expect(schedule.map(\.interestMinor) == [4162, 4162, 4162, 4162, 3715, 3264, 2809, 2351, 1888, 1422, 952, 478])
        #expect(schedule.map(\.principalMinor).reduce(0, +) == 500_000)
    }

    @Test("flat: interest on the whole principal for the term, split evenly, the last takes both residues")
    func flat() throws {
        let plain = try Amortization.schedule(terms(100_000, "CAD", bps: 1_500, n: 10, .monthly, .flat))
        #expect(plain.map(\.principalMinor) == Array(repeating: 10_000, count: 10) && plain.map(\.interestMinor) == Array(repeating: 1_250, count: 10))
        let graced = try Amortization.schedule(terms(100_001, "CAD", bps: 1_234, n: 7, .biweekly, .flat, grace: 2))
        #expect(graced.map(\.principalMinor) == [0, 0, 20000, 20000, 20000, 20000, 20001])
        #expect(graced.map(\.interestMinor) == [474, 474, 474, 474, 474, 474, 478])
    }

    @Test("half-even ties go to the even minor unit, in integers and in decimals, negative too")
    func halfEven() {
        #expect([5, 15, 25, 35].map { LoanRounding.halfEven($0, over: 10) } == [0, 2, 2, 4])
        #expect(LoanRounding.halfEven(-25, over: 10) == -2 && LoanRounding.halfEven(26, over: 10) == 3 && LoanRounding.halfEven(24, over: 10) == 2)
        #expect([Decimal(string: "0.5")!, Decimal(string: "1.5")!, Decimal(string: "2.5")!, Decimal(string: "2.5000001")!].map(LoanRounding.halfEven) == [0, 2, 2, 3])
        #expect(RateCap.originationFee(principalMinor: 12_345, fixedMinor: 100, bps: 100) == 100 + 123)
        #expect(RateCap.originationFee(principalMinor: 12_350, fixedMinor: 0, bps: 100) == 124)  // 123.5 → 124 (even)
    }

    @Test("the APR's Newton iteration finds the same root as plain bisection, for every method, frequency, grace and currency")
    func aprMatchesBisection() throws {
        func bisected(_ disbursed: Int64, _ schedule: [Instalment], _ frequency: Frequency) -> Decimal {
            let payments = schedule.map { Decimal($0.totalMinor) }
            func excess(_ r: Decimal) -> Decimal {
                var factor = Decimal(1), total = Decimal(0)
                for payment in payments {
                    factor /= 1 + r
                    total += payment * factor
                }
                return total - Decimal(disbursed)
            }
            var low = Decimal(0), high = Decimal(10)
            for _ in 0..<90 {
                let mid = (low + high) / 2
                if excess(mid) > 0 { low = mid } else { high = mid }
            }
            return (low + high) / 2 * Decimal(frequency.periodsPerYear)
        }
        let cases: [(LoanTerms, Int64)] = [
            (terms(100_000, "CAD", bps: 3_000, n: 12, .monthly, .decliningBalance), 2_476),
            (terms(50_000, "CAD", bps: 1_800, n: 26, .weekly, .flat), 1_000),
            (terms(250_000, "CAD", bps: 900, n: 24, .biweekly, .decliningBalance, grace: 3), 0),
            (terms(1_000_000, "XOF", bps: 2_400, n: 6, .monthly, .flat, grace: 1), 15_000),
            (terms(10_000, "CAD", bps: 0, n: 3, .monthly, .decliningBalance), 100),
        ]
        for (loanTerms, fee) in cases {
            let schedule = try Amortization.schedule(loanTerms)
            let apr = try #require(RateCap.apr(disbursedMinor: loanTerms.principalMinor - fee, instalments: schedule, frequency: loanTerms.frequency))
            let reference = bisected(loanTerms.principalMinor - fee, schedule, loanTerms.frequency)
            #expect(abs(apr - reference) < Decimal(string: "1e-15")!, "\(loanTerms.method) \(loanTerms.frequency): \(apr) vs \(reference)")
        }
    }

    @Test("the APR from the cash flows: a 2,476 fee on 1,000.00 at 30% over 12 months is just under 35%, 2,477 is over and refused")
    func rateCap() throws {
        let schedule = try Amortization.schedule(terms(100_000, "CAD", bps: 3_000, n: 12, .monthly, .decliningBalance))
        let noFee = try #require(RateCap.apr(disbursedMinor: 100_000, instalments: schedule, frequency: .monthly))
        #expect(abs(noFee - Decimal(string: "0.3")!) < Decimal(string: "0.00001")!, "the rounding of the instalments moves it a hair")
        let under = try #require(RateCap.apr(disbursedMinor: 100_000 - 2_476, instalments: schedule, frequency: .monthly))
        let over = try #require(RateCap.apr(disbursedMinor: 100_000 - 2_477, instalments: schedule, frequency: .monthly))
        #expect(under < Decimal(string: "0.35")! && over > Decimal(string: "0.35")!)
        #expect(abs(under - Decimal(string: "0.3499848665354779702")!) < Decimal(string: "1e-15")!, "the Python reference")
        #expect(throws: Never.self) { try RateCap.check(apr: under, capBps: RateCap.criminalRateBps) }
        do {
            try RateCap.check(apr: over, capBps: RateCap.criminalRateBps)
            Issue.record("35.0005% passed a 35% cap")
        } catch {
            #expect(error.code == "rate-cap-exceeded" && error.detail.contains("35.00%"), "\(error.detail)")
        }
        // A tenant's lower cap refuses what the platform's allows.
        #expect(throws: RuleError.self) { try RateCap.check(apr: noFee, capBps: 2_500) }
        #expect(RateCap.percent(Decimal(string: "0.361249")!) == "36.12%" && RateCap.percent(Decimal(string: "0.35")!) == "35.00%")
    }

    @Test("allocation: per instalment, oldest first, penalties → fees → interest → principal; the rest to future principal; overpayment refused")
    func allocation() throws {
        let due = [Due(penaltyMinor: 100, feeMinor: 50, interestMinor: 300, principalMinor: 1_000), Due(penaltyMinor: 10, interestMinor: 200, principalMinor: 900)]
        let partial = try Allocation.apply(500, due: due, futurePrincipalMinor: 5_000)
        #expect(partial.applied == [Due(penaltyMinor: 100, feeMinor: 50, interestMinor: 300, principalMinor: 50), Due()])
        let catchUp = try Allocation.apply(2_700, due: due, futurePrincipalMinor: 5_000)
        #expect(catchUp.applied == due && catchUp.futurePrincipalMinor == 140 && catchUp.totalMinor == 2_700)
        #expect(throws: RuleError.self) { try Allocation.apply(7_561, due: due, futurePrincipalMinor: 5_000) }
        #expect(try Allocation.apply(7_560, due: due, futurePrincipalMinor: 5_000).totalMinor == 7_560)
    }

    @Test("payoff: principal + interest accrued since the last due date (actual days / 365, half-even) + charges due; penalties after grace")
    func payoff() {
        let last = Day(year: 2027, month: 3, day: 31)!
        let quote = Payoff.quote(
            principalOutstandingMinor: 73_000, dueChargesMinor: 250, annualRateBps: 1_200, lastDue: last, asOf: Day(year: 2027, month: 4, day: 15)!)
        // 73,000 × 12% × 15 / 365 = 360 exactly.
        #expect(quote.accruedInterestMinor == 360 && quote.totalMinor == 73_000 + 360 + 250)
        // 10,000 × 12% × 1 / 365 = 3.287… → 3.
        #expect(Payoff.quote(principalOutstandingMinor: 10_000, dueChargesMinor: 0, annualRateBps: 1_200, lastDue: last, asOf: last.adding(days: 1)!)
            .accruedInterestMinor == 3)
        #expect(Payoff.quote(principalOutstandingMinor: 10_000, dueChargesMinor: 0, annualRateBps: 1_200, lastDue: last, asOf: last).accruedInterestMinor == 0)
        #expect(Payoff.penalty(overdueMinor: 8_885, daysPastDue: 5, graceDays: 5, fixedMinor: 500, bps: 200) == 0)
        #expect(Payoff.penalty(overdueMinor: 8_885, daysPastDue: 6, graceDays: 5, fixedMinor: 500, bps: 200) == 500 + 178)  // 177.7 → 178
    }

    @Test("delinquency buckets at their edges, less grace days; none when nothing is past due")
    func buckets() {
        let due = Day(year: 2027, month: 1, day: 1)!
        func bucket(_ days: Int, grace: Int = 0) -> DelinquencyBucket? { DelinquencyBucket.of(oldestUnpaid: due, today: due.adding(days: days)!, graceDays: grace) }
        #expect(bucket(0) == nil && bucket(1) == .days1to30 && bucket(30) == .days1to30 && bucket(31) == .days31to60)
        #expect(bucket(60) == .days31to60 && bucket(61) == .days61to90 && bucket(90) == .days61to90 && bucket(91) == .days91plus && bucket(400) == .days91plus)
        #expect(bucket(5, grace: 5) == nil && bucket(6, grace: 5) == .days1to30 && bucket(35, grace: 5) == .days1to30)
        #expect(DelinquencyBucket.of(oldestUnpaid: nil, today: due, graceDays: 0) == nil)
    }

    @Test("bad terms are refused naming the field")
    func badTerms() {
        #expect(throws: RuleError.self) { try Amortization.schedule(terms(0, "CAD", bps: 1_200, n: 12, .monthly, .decliningBalance)) }
        #expect(throws: RuleError.self) { try Amortization.schedule(terms(1_000, "CAD", bps: 1_200, n: 12, .monthly, .decliningBalance, grace: 12)) }
        #expect(throws: RuleError.self) { try Amortization.schedule(terms(1_000, "CAD", bps: 10_001, n: 12, .monthly, .flat)) }
        // A 0% loan divides the principal evenly; the last takes the residue.
        let free = try? Amortization.schedule(terms(1_000, "CAD", bps: 0, n: 3, .monthly, .decliningBalance))
        #expect(free?.map(\.principalMinor) == [333, 333, 334] && free?.allSatisfy { $0.interestMinor == 0 } == true)
    }
}
