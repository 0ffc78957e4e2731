import Foundation
import Ledger
import NzilaValues
import Testing
import Tontine

@Suite("Tontine cycles, clock, journals and circle plans")
struct TontineFlowRuleTests {
    // MARK: Cycle status

    @Test("every pair of cycle states: open → paid, short or cancelled; short → paid or cancelled; paid and cancelled are final")
    func everyCycleTransition() {
        let legal: Set<String> = ["open>paid", "open>short", "open>cancelled", "short>paid", "short>cancelled"]
        for from in CycleStatus.allCases {
            for to in CycleStatus.allCases {
                let pair = "\(from.rawValue)>\(to.rawValue)"
                switch from.transition(to: to) {
                case .success(let status):
                    #expect(legal.contains(pair) && status == to, "\(pair)")
                case .failure(let refusal):
                    #expect(!legal.contains(pair), "\(pair)")
                    #expect(refusal == .illegal(from: from, to: to))
                    #expect(refusal.ruleError.code == "invalid-transition" && refusal.ruleError.kind == .conflict)
                    #expect(refusal.ruleError.detail.contains(from.rawValue), "the refusal names the current state")
                }
            }
        }
        #expect(CycleStatus.paid.next.isEmpty && CycleStatus.cancelled.next.isEmpty)
        #expect(CycleStatus.allCases.filter(\.takesContributions) == [.open, .short])
    }

    // MARK: Cycle clock

    @Test("a cycle's phases: the start of its due day, the 23:00 retry, and the start of the day after due + grace")
    func phaseTimes() throws {
        let due = try #require(Day(year: 2027, month: 3, day: 1))
        let start = CycleClock.startOfDay(due)
        #expect(start == Int64(due.ordinal) * 86_400 && start == 1_803_859_200)

        let noGrace = CycleClock.times(due: due, graceDays: 0)
        #expect(noGrace.map { $0.phase } == [.dueDay, .autopayRetry, .endOfGrace])
        #expect(noGrace.map { $0.at } == [start, start + 23 * 3_600, start + 86_400])
        let nextDay = try #require(Day(year: 2027, month: 3, day: 2))
        #expect(noGrace[2].at == CycleClock.startOfDay(nextDay), "grace 0 ends as the next day starts")

        let twoDays = CycleClock.times(due: due, graceDays: 2)
        #expect(twoDays.map { $0.phase } == [.dueDay, .autopayRetry, .endOfGrace])
        #expect(twoDays.map { $0.at } == [start, start + 82_800, start + 3 * 86_400])
        let threeLater = try #require(Day(year: 2027, month: 3, day: 4))
        #expect(twoDays[2].at == CycleClock.startOfDay(threeLater), "grace 2 ends as due + 3 days starts")
        #expect(twoDays[1].at < CycleClock.startOfDay(nextDay), "the retry is still on the due day")
    }

    @Test("a cycle's reminder: the start of the day before, still on the due day, never after; looked at before the due day until sent")
    func reminder() throws {
        let due = try #require(Day(year: 2027, month: 3, day: 1))
        let start = CycleClock.startOfDay(due)
        #expect(CycleClock.reminderAt(due: due) == start - 86_400)
        #expect(!CycleClock.reminds(at: start - 86_401, due: due) && CycleClock.reminds(at: start - 86_400, due: due))
        #expect(CycleClock.reminds(at: start + 86_399, due: due) && !CycleClock.reminds(at: start + 86_400, due: due))
        #expect(CycleClock.nextLook(afterPhases: 0, reminded: false, due: due, graceDays: 2) == start - 86_400)
        #expect(CycleClock.nextLook(afterPhases: 0, reminded: true, due: due, graceDays: 2) == start)
        #expect(CycleClock.nextLook(afterPhases: 2, reminded: false, due: due, graceDays: 2) == start - 86_400, "an unsent reminder is looked at first")
        #expect(CycleClock.nextLook(afterPhases: 3, reminded: false, due: due, graceDays: 2) == nil)
    }

    @Test("the phases come one after another, then none after the third")
    func nextPhase() throws {
        let due = try #require(Day(year: 2028, month: 2, day: 28))
        let all = CycleClock.times(due: due, graceDays: 2)
        for done in 0..<3 {
            let step = try #require(CycleClock.next(afterPhases: done, due: due, graceDays: 2))
            #expect(step.phase == all[done].phase && step.at == all[done].at, "after \(done)")
        }
        #expect(CycleClock.next(afterPhases: 3, due: due, graceDays: 2)?.at == nil)
        #expect(CycleClock.next(afterPhases: 4, due: due, graceDays: 2)?.at == nil)
        // Across the leap day: grace 2 from 28 February 2028 ends as 2 March starts.
        let march2 = try #require(Day(year: 2028, month: 3, day: 2))
        #expect(all[2].at == CycleClock.startOfDay(march2))
    }

    @Test("paid any time on the due day is on time, from 00:00 to 23:59:59; the next day's 00:00 is late; the due day starts it")
    func lateAndDue() throws {
        let due = try #require(Day(year: 2027, month: 3, day: 1))
        let start = CycleClock.startOfDay(due)
        #expect(!CycleClock.isLate(at: start - 1, due: due), "early is not late")
        #expect(!CycleClock.isLate(at: start, due: due))
        #expect(!CycleClock.isLate(at: start + 86_399, due: due))
        #expect(CycleClock.isLate(at: start + 86_400, due: due))
        #expect(CycleClock.isLate(at: start + 30 * 86_400, due: due))

        #expect(!CycleClock.isDue(at: start - 1, due: due))
        #expect(CycleClock.isDue(at: start, due: due))
        #expect(CycleClock.isDue(at: start + 86_400, due: due))
    }

    @Test("a time's business day round trips with the day's start, before 1970 too")
    func dayAtTime() throws {
        let before = try #require(Day(year: 1969, month: 12, day: 31))
        #expect(CycleClock.startOfDay(before) == -86_400)
        #expect(CycleClock.day(at: -1) == before)
        #expect(CycleClock.day(at: -86_400) == before)
        #expect(CycleClock.day(at: -86_401) == Day(year: 1969, month: 12, day: 30))
        #expect(CycleClock.day(at: 0) == Day(year: 1970, month: 1, day: 1))

        let old = try #require(Day(year: 1950, month: 6, day: 15))
        #expect(CycleClock.startOfDay(old) == -616_896_000)
        #expect(CycleClock.day(at: CycleClock.startOfDay(old) + 12 * 3_600) == old)

        let first = try #require(Day(year: 1968, month: 1, day: 1))
        let last = try #require(Day(year: 1972, month: 12, day: 31))
        for ordinal in first.ordinal...last.ordinal {
            let day = try #require(Day(ordinal: ordinal))
            let start = CycleClock.startOfDay(day)
            #expect(CycleClock.day(at: start) == day && CycleClock.day(at: start + 86_399) == day, "\(day)")
            #expect(CycleClock.day(at: start - 1) == day.adding(days: -1), "\(day)")
        }
    }

    // MARK: Journals

    static let accounts = TontineJournals.Accounts(
        pool: AccountID(UUID()), feeIncome: AccountID(UUID()), guarantee: AccountID(UUID()), arrears: AccountID(UUID()))

    static func member(balance: Int64, status: AccountStatus = .open, currency: Currency = .cad) -> AccountSnapshot {
        AccountSnapshot(id: AccountID(UUID()), memberID: MemberID(UUID()), currency: currency, status: status, balanceMinor: balance, floorMinor: 0)
    }

    static func sum(_ plan: JournalPlan) -> Int64 { plan.legs.reduce(0) { $0 + $1.amount.minorUnits } }

    static func amount(_ plan: JournalPlan, on account: AccountID) -> Int64? { plan.legs.first { $0.account == account }?.amount.minorUnits }

    static func cents(_ minor: Int64) -> Money { Money(minorUnits: minor, currency: .cad) }

    @Test("a contribution takes the whole payment from the member in one balanced journal: pool, late fee, advance and penalty recovered")
    func contribution() throws {
        let accounts = Self.accounts
        let from = Self.member(balance: 50_000)
        let payment = TontineJournals.Payment(contributionMinor: 10_000, lateFeeMinor: 750, advanceRecoveredMinor: 10_000, penaltyRecoveredMinor: 750)
        #expect(payment.totalMinor == 21_500)
        let plan = try TontineJournals.contribution(from: from, payment: payment, currency: .cad, accounts: accounts, memo: "cycle 2")
        #expect(plan.kind == "tontine_contribution" && plan.memo == "cycle 2")
        #expect(plan.legs.count == 5 && Self.sum(plan) == 0)
        #expect(plan.legs.allSatisfy { $0.amount.currency == .cad })
        #expect(Self.amount(plan, on: from.id) == -21_500)
        #expect(Self.amount(plan, on: accounts.pool) == 10_000)
        #expect(Self.amount(plan, on: accounts.feeIncome) == 750)
        #expect(Self.amount(plan, on: accounts.guarantee) == 10_000)
        #expect(Self.amount(plan, on: accounts.arrears) == 750)
    }

    @Test("an on-time contribution with nothing owed is two legs: no zero entries")
    func contributionWithoutExtras() throws {
        let accounts = Self.accounts
        let from = Self.member(balance: 10_000)
        let payment = TontineJournals.Payment(contributionMinor: 10_000, lateFeeMinor: 0, advanceRecoveredMinor: 0, penaltyRecoveredMinor: 0)
        let plan = try TontineJournals.contribution(from: from, payment: payment, currency: .cad, accounts: accounts, memo: "cycle 1")
        #expect(plan.legs.count == 2 && Self.sum(plan) == 0)
        #expect(plan.legs.allSatisfy { $0.amount.minorUnits != 0 })
        #expect(Self.amount(plan, on: from.id) == -10_000 && Self.amount(plan, on: accounts.pool) == 10_000)

        // A late fee alone adds one leg, still balanced.
        let late = TontineJournals.Payment(contributionMinor: 10_000, lateFeeMinor: 500, advanceRecoveredMinor: 0, penaltyRecoveredMinor: 0)
        let latePlan = try TontineJournals.contribution(from: Self.member(balance: 20_000), payment: late, currency: .cad, accounts: accounts, memo: "late")
        #expect(latePlan.legs.count == 3 && Self.sum(latePlan) == 0 && Self.amount(latePlan, on: accounts.feeIncome) == 500)
    }

    @Test("a contribution is refused whole when the member's floor cannot give all of it, when the account is not open, or in another currency")
    func contributionRefused() {
        let accounts = Self.accounts
        let payment = TontineJournals.Payment(contributionMinor: 10_000, lateFeeMinor: 750, advanceRecoveredMinor: 0, penaltyRecoveredMinor: 0)

        let poor = Self.member(balance: 10_500)
        #expect(throws: PostingError.insufficientFunds(account: poor.id, available: Self.cents(10_500), needed: Self.cents(10_750))) {
            try TontineJournals.contribution(from: poor, payment: payment, currency: .cad, accounts: accounts, memo: "late")
        }
        let empty = Self.member(balance: 0)
        #expect(throws: PostingError.insufficientFunds(account: empty.id, available: Self.cents(0), needed: Self.cents(10_750))) {
            try TontineJournals.contribution(from: empty, payment: payment, currency: .cad, accounts: accounts, memo: "late")
        }
        let exact = Self.member(balance: 10_750)
        #expect(throws: Never.self) { try TontineJournals.contribution(from: exact, payment: payment, currency: .cad, accounts: accounts, memo: "late") }

        let frozen = Self.member(balance: 50_000, status: .frozen)
        #expect(throws: PostingError.accountFrozen(frozen.id, status: .frozen)) {
            try TontineJournals.contribution(from: frozen, payment: payment, currency: .cad, accounts: accounts, memo: "late")
        }
        let xof = Currency(code: "XOF")!
        let foreign = Self.member(balance: 50_000, currency: xof)
        #expect(throws: PostingError.currencyMismatch(account: foreign.id, accountCurrency: xof, requested: .cad)) {
            try TontineJournals.contribution(from: foreign, payment: payment, currency: .cad, accounts: accounts, memo: "late")
        }
    }

    @Test("an advance moves the guarantee into the pool, and books a penalty as arrears against fee income only when there is one")
    func advance() {
        let accounts = Self.accounts
        let plain = TontineJournals.advance(amountMinor: 10_000, penaltyMinor: 0, currency: .cad, accounts: accounts, memo: "advance")
        #expect(plain.kind == "tontine_advance")
        #expect(plain.legs.count == 2 && Self.sum(plain) == 0)
        #expect(Self.amount(plain, on: accounts.guarantee) == -10_000 && Self.amount(plain, on: accounts.pool) == 10_000)

        let penalized = TontineJournals.advance(amountMinor: 10_000, penaltyMinor: 750, currency: .cad, accounts: accounts, memo: "advance")
        #expect(penalized.legs.count == 4 && Self.sum(penalized) == 0)
        #expect(Self.amount(penalized, on: accounts.guarantee) == -10_000 && Self.amount(penalized, on: accounts.pool) == 10_000)
        #expect(Self.amount(penalized, on: accounts.arrears) == -750 && Self.amount(penalized, on: accounts.feeIncome) == 750)
        #expect(penalized.legs.allSatisfy { $0.amount.currency == .cad })
    }

    @Test("a payout to a member in arrears pays the gross less what it recovers, which goes back to the guarantee and arrears accounts")
    func payout() throws {
        let accounts = Self.accounts
        let to = Self.member(balance: 0)
        let (advance, penalty) = TontineJournals.recovery(fromMinor: 50_000, advanceOwed: 10_000, penaltyOwed: 750)
        let plan = try TontineJournals.payout(
            to: to, grossMinor: 50_000, advanceRecoveredMinor: advance, penaltyRecoveredMinor: penalty, currency: .cad, accounts: accounts, memo: "cycle 3")
        #expect(plan.kind == "tontine_payout")
        #expect(plan.legs.count == 4 && Self.sum(plan) == 0)
        #expect(Self.amount(plan, on: accounts.pool) == -50_000)
        #expect(Self.amount(plan, on: to.id) == 39_250)
        #expect(Self.amount(plan, on: accounts.guarantee) == 10_000 && Self.amount(plan, on: accounts.arrears) == 750)

        let clean = try TontineJournals.payout(
            to: to, grossMinor: 50_000, advanceRecoveredMinor: 0, penaltyRecoveredMinor: 0, currency: .cad, accounts: accounts, memo: "cycle 1")
        #expect(clean.legs.count == 2 && Self.sum(clean) == 0 && Self.amount(clean, on: to.id) == 50_000)

        let frozen = Self.member(balance: 0, status: .frozen)
        #expect(throws: PostingError.accountFrozen(frozen.id, status: .frozen)) {
            try TontineJournals.payout(
                to: frozen, grossMinor: 50_000, advanceRecoveredMinor: 0, penaltyRecoveredMinor: 0, currency: .cad, accounts: accounts, memo: "cycle 1")
        }
        let xof = Currency(code: "XOF")!
        let foreign = Self.member(balance: 0, currency: xof)
        #expect(throws: PostingError.currencyMismatch(account: foreign.id, accountCurrency: xof, requested: .cad)) {
            try TontineJournals.payout(
                to: foreign, grossMinor: 50_000, advanceRecoveredMinor: 0, penaltyRecoveredMinor: 0, currency: .cad, accounts: accounts, memo: "cycle 1")
        }
    }

    @Test("recovery takes the advance first, then the penalty, never more than is available or owed")
    func recovery() {
        #expect(TontineJournals.recovery(fromMinor: 50_000, advanceOwed: 10_000, penaltyOwed: 750) == (10_000, 750))
        #expect(TontineJournals.recovery(fromMinor: 10_500, advanceOwed: 10_000, penaltyOwed: 750) == (10_000, 500))
        #expect(TontineJournals.recovery(fromMinor: 6_000, advanceOwed: 10_000, penaltyOwed: 750) == (6_000, 0))
        #expect(TontineJournals.recovery(fromMinor: 1_000, advanceOwed: 0, penaltyOwed: 750) == (0, 750))
        #expect(TontineJournals.recovery(fromMinor: 0, advanceOwed: 10_000, penaltyOwed: 750) == (0, 0))
        #expect(TontineJournals.recovery(fromMinor: 5_000, advanceOwed: 0, penaltyOwed: 0) == (0, 0))
        for available: Int64 in [0, 1, 749, 750, 9_999, 10_000, 10_001, 10_749, 10_750, 10_751, 50_000] {
            let (advance, penalty) = TontineJournals.recovery(fromMinor: available, advanceOwed: 10_000, penaltyOwed: 750)
            #expect(advance >= 0 && penalty >= 0 && advance + penalty <= available, "\(available)")
            #expect(advance <= 10_000 && penalty <= 750, "\(available)")
            #expect(advance + penalty == min(available, 10_750), "\(available)")
            if penalty > 0 { #expect(advance == 10_000, "the penalty waits for the advance: \(available)") }
        }
    }

    // MARK: Circle plan

    static let today = Day(year: 2027, month: 3, day: 15)!

    static func plan(
        name: String? = "Cercle Umoja", amountMinor: Int64? = 10_000, currency: String? = "CAD", frequency: String? = "monthly", maxMembers: Int? = 10,
        order: String? = "join", graceDays: Int? = 3, firstDueDate: String? = "2027-04-01", earlyFeeBps: Int? = 0
    ) -> Result<CirclePlan, RuleError> {
        do throws(RuleError) {
            return .success(
                try CirclePlan.check(
                    name: name, amountMinor: amountMinor, currency: currency, frequency: frequency, maxMembers: maxMembers, order: order,
                    graceDays: graceDays, firstDueDate: firstDueDate, earlyFeeBps: earlyFeeBps, today: today))
        } catch {
            return .failure(error)
        }
    }

    /// The fields a refusal names; empty when the plan was accepted.
    static func refused(_ result: Result<CirclePlan, RuleError>) -> Set<String> {
        switch result {
        case .success: return []
        case .failure(let error): return Set(error.errors.map(\.field))
        }
    }

    @Test("a valid circle plan is accepted, its name trimmed; order, grace and early fee default to join, 0 and 0")
    func validPlan() throws {
        let plan = try Self.plan(name: "  Cercle Umoja  ").get()
        #expect(plan.name == "Cercle Umoja")
        #expect(plan.contribution == Money(minorUnits: 10_000, currency: .cad))
        #expect(plan.frequency == .monthly && plan.maxMembers == 10 && plan.order == .join && plan.graceDays == 3 && plan.earlyFeeBps == 0)
        #expect(plan.firstDueDate == Day(year: 2027, month: 4, day: 1))

        let defaults = try Self.plan(order: nil, graceDays: nil, earlyFeeBps: nil).get()
        #expect(defaults.order == .join && defaults.graceDays == 0 && defaults.earlyFeeBps == 0)

        let edges = try Self.plan(frequency: "weekly", maxMembers: 50, order: "random", graceDays: 14, firstDueDate: "2027-03-15", earlyFeeBps: 1_000).get()
        #expect(edges.order == .random && edges.maxMembers == 50 && edges.graceDays == 14 && edges.earlyFeeBps == 1_000)
        #expect(edges.firstDueDate == Self.today, "the first due date may be today")
        #expect(Self.refused(Self.plan(maxMembers: 2, graceDays: 0)).isEmpty)
    }

    @Test("every bad field of a circle plan is named at once")
    func everyBadField() {
        let result = Self.plan(
            name: "   ", amountMinor: 0, currency: "ZZZ", frequency: "daily", maxMembers: 1, order: "alphabetical", graceDays: 15, firstDueDate: "2027-3-1",
            earlyFeeBps: 1_001)
        #expect(Self.refused(result) == [
            "name", "contribution.amount", "contribution.currency", "frequency", "max_members", "order", "grace_days", "first_due_date", "early_fee_bps",
        ])
        if case .failure(let error) = result {
            #expect(error.kind == .invalid && error.code == "validation-failed" && error.errors.count == 9)
        } else {
            Issue.record("a plan with every field bad was accepted")
        }

        #expect(Self.refused(Self.plan(maxMembers: 51)) == ["max_members"])
        #expect(Self.refused(Self.plan(order: "")) == ["order"])
        #expect(Self.refused(Self.plan(graceDays: -1)) == ["grace_days"])
        #expect(Self.refused(Self.plan(earlyFeeBps: -1)) == ["early_fee_bps"])
        #expect(Self.refused(Self.plan(amountMinor: -5)) == ["contribution.amount"])
        #expect(Self.refused(Self.plan(currency: "cad")) == ["contribution.currency"], "codes are upper case")
        #expect(Self.refused(Self.plan(firstDueDate: "2027-02-30")) == ["first_due_date"], "not a real date")
        #expect(Self.refused(Self.plan(firstDueDate: "2027-03-14")) == ["first_due_date"], "before today")
        #expect(Self.refused(Self.plan(name: String(repeating: "a", count: 101))) == ["name"])
        #expect(Self.refused(Self.plan(
            name: nil, amountMinor: nil, currency: nil, frequency: nil, maxMembers: nil, order: nil, graceDays: nil, firstDueDate: nil, earlyFeeBps: nil))
            == ["name", "contribution.amount", "contribution.currency", "frequency", "max_members", "first_due_date"])
    }

    @Test("the largest contribution is a million major units: 1,000,000 XOF, 100,000,000 CAD cents")
    func maxContribution() throws {
        let xof = try #require(Currency(code: "XOF"))
        #expect(xof.exponent == 0)
        #expect(CirclePlan.maxContributionMinor(xof) == 1_000_000)
        #expect(CirclePlan.maxContributionMinor(.cad) == 100_000_000)

        let most = try Self.plan(amountMinor: 1_000_000, currency: "XOF").get()
        #expect(most.contribution == Money(minorUnits: 1_000_000, currency: xof))
        #expect(Self.refused(Self.plan(amountMinor: 1_000_001, currency: "XOF")) == ["contribution.amount"])
        #expect(Self.refused(Self.plan(amountMinor: 100_000_000, currency: "CAD")).isEmpty)
        #expect(Self.refused(Self.plan(amountMinor: 100_000_001, currency: "CAD")) == ["contribution.amount"])
    }
}
