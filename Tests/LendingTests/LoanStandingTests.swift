import Foundation
import Lending
import NzilaValues
import Testing

/// Where a loan stands on a day, by hand: 1,000.00 CAD at 12% over 12 months, disbursed 2027-01-15,
/// so the instalment is 88.85 (the textbook vector) and the first falls due 2027-02-15 with 10.00 of
/// interest and 78.85 of principal; the second's interest is 921.15 × 1% = 9.21.
@Suite("Loan standing: payoff, allocation, penalties, buckets, the next look")
struct LoanStandingTests {
    static let disbursed = Day(year: 2027, month: 1, day: 15)!
    static func day(_ month: Int, _ day: Int) -> Day { Day(year: 2027, month: month, day: day)! }

    static let product = LoanProductTerms(
        name: "Micro", currency: .cad, minPrincipalMinor: 10_000, maxPrincipalMinor: 500_000, minTerm: 3, maxTerm: 24, frequency: .monthly,
        annualRateBps: 1_200, method: .decliningBalance, feeFixedMinor: 0, feeBps: 0, penaltyFixedMinor: 500, penaltyBps: 500, penaltyGraceDays: 3)

    static func book() throws -> [BookedInstalment] {
        let quote = try LoanQuote.of(product, principalMinor: 100_000, term: 12, on: disbursed)
        return quote.schedule.map(BookedInstalment.init)
    }

    func standing(_ book: [BookedInstalment], _ today: Day, grace: Int = 3) -> LoanStanding {
        LoanStanding.of(book, disbursedOn: Self.disbursed, today: today, annualRateBps: 1_200, graceDays: grace)
    }

    @Test("the schedule starts one period after disbursement, at the textbook instalment")
    func schedule() throws {
        let book = try Self.book()
        #expect(book.count == 12 && book[0].dueDate == Self.day(2, 15) && book[11].dueDate == Day(year: 2028, month: 1, day: 15)!)
        #expect(book[0].interestMinor == 1_000 && book[0].principalMinor == 7_885 && book[1].interestMinor == 921)
        #expect(book.reduce(0) { $0 + $1.principalMinor } == 100_000)
    }

    @Test("payoff: principal plus interest accrued by actual days / 365, half-even, capped at the instalment's interest; later interest rebated")
    func payoff() throws {
        let book = try Self.book()
        let onDisbursement = standing(book, Self.disbursed)
        #expect(onDisbursement.quote == Payoff.Quote(principalMinor: 100_000, accruedInterestMinor: 0, dueChargesMinor: 0))
        // 17 days: 100,000 × 12% × 17 / 365 = 558.90… → 559.
        let midPeriod = standing(book, Self.day(2, 1))
        #expect(midPeriod.accruedMinor == 559 && midPeriod.quote.totalMinor == 100_559 && midPeriod.current == 1 && midPeriod.due.isEmpty)
        // 30 days: 986.30… → 986, below the instalment's 10.00 of interest.
        #expect(standing(book, Self.day(2, 14)).accruedMinor == 986)
        // Never more than the instalment's scheduled interest (here made smaller than the accrual).
        var smaller = book
        smaller[0].interestMinor = 900
        #expect(standing(smaller, Self.day(2, 14)).accruedMinor == 900)
        smaller[0].interestPaidMinor = 300
        #expect(standing(smaller, Self.day(2, 14)).accruedMinor == 600, "less what it has received")
        // Five days late, nothing paid: the first instalment's interest is due; 5 days accrue on the
        // whole principal: 164.38… → 164.
        let late = standing(book, Self.day(2, 20))
        #expect(late.due.map(\.number) == [1] && late.due[0].unpaid == Due(interestMinor: 1_000, principalMinor: 7_885))
        #expect(late.quote == Payoff.Quote(principalMinor: 100_000, accruedInterestMinor: 164, dueChargesMinor: 1_000))
        #expect(late.current == 2 && late.future.first?.number == 2 && late.future.reduce(0) { $0 + $1.principal } == 92_115)
    }

    @Test("a payment goes to what is due (penalty, fee, interest, principal), then the accrued interest, then future principal oldest first")
    func allocation() throws {
        var book = try Self.book()
        let late = standing(book, Self.day(2, 20))
        #expect(try late.allocate(9_000) == [RepaymentPart(number: 1, interestMinor: 1_000, principalMinor: 7_885), RepaymentPart(number: 2, interestMinor: 115)])
        // With a penalty charged, it is paid first.
        book[0].penaltyMinor = 944
        book[0].penaltyCharged = true
        let penalised = standing(book, Self.day(2, 20))
        #expect(try penalised.allocate(1_500) == [RepaymentPart(number: 1, penaltyMinor: 944, interestMinor: 556)])
        // The payoff pays everything: every principal part, the accrued interest, nothing of later interest.
        let parts = try penalised.allocate(penalised.quote.totalMinor)
        #expect(parts.reduce(0) { $0 + $1.principalMinor } == 100_000)
        #expect(parts.reduce(0) { $0 + $1.interestMinor } == 1_000 + 164)
        #expect(parts.reduce(0) { $0 + $1.totalMinor } == penalised.quote.totalMinor)
        #expect(throws: RuleError.self) { try penalised.allocate(penalised.quote.totalMinor + 1) }
        do {
            _ = try penalised.allocate(penalised.quote.totalMinor + 1)
        } catch {
            #expect(error.code == "overpayment")
        }
    }

    @Test("the penalty is charged once, on the first day past the grace days: fixed plus bps of the unpaid instalment, half-even")
    func penalties() throws {
        var book = try Self.book()
        #expect(LoanStanding.penalties(book, today: Self.day(2, 18), graceDays: 3, fixedMinor: 500, bps: 500).isEmpty)
        // 500 + 5% of 88.85 (444.25 → 444).
        let charged = LoanStanding.penalties(book, today: Self.day(2, 19), graceDays: 3, fixedMinor: 500, bps: 500)
        #expect(charged.map(\.number) == [1] && charged.map(\.penalty) == [944])
        book[0].penaltyCharged = true
        #expect(LoanStanding.penalties(book, today: Self.day(3, 1), graceDays: 3, fixedMinor: 500, bps: 500).isEmpty)
        // Paid before the end of grace: no penalty.
        var paid = try Self.book()
        paid[0].interestPaidMinor = 1_000
        paid[0].principalPaidMinor = 7_885
        #expect(LoanStanding.penalties(paid, today: Self.day(2, 25), graceDays: 3, fixedMinor: 500, bps: 500).isEmpty)
    }

    @Test("delinquency counts from the oldest unpaid instalment, less the grace days, into buckets that never overlap")
    func buckets() throws {
        let book = try Self.book()
        #expect(standing(book, Self.day(2, 18)).bucket == nil)
        #expect(standing(book, Self.day(2, 19)).bucket == .days1to30 && standing(book, Self.day(2, 19)).daysPastDue == 4)
        // February 2027 has 28 days: 03-20 is 33 days past due, 30 after grace; 03-21 is 31 after grace.
        #expect(standing(book, Self.day(3, 20)).bucket == .days1to30)
        #expect(standing(book, Self.day(3, 21)).bucket == .days31to60 && standing(book, Self.day(3, 21)).daysPastDue == 34)
        var partly = book
        partly[0].interestPaidMinor = 1_000
        partly[0].principalPaidMinor = 7_885
        // The first paid, the second (due 03-15) is the oldest unpaid now.
        #expect(standing(partly, Self.day(3, 22)).bucket == .days1to30 && standing(partly, Self.day(3, 22)).daysPastDue == 7)
    }

    @Test("the scheduler looks again on the day before a due date (its reminder), the due date, the end of grace, a bucket edge, or tomorrow while autopay is owed")
    func nextLook() throws {
        let book = try Self.book()
        #expect(LoanStanding.nextActionDay(book, today: Self.disbursed, graceDays: 3, autopay: true) == Self.day(2, 14))
        var reminded = book
        reminded[0].reminded = true
        #expect(LoanStanding.nextActionDay(reminded, today: Self.disbursed, graceDays: 3, autopay: true) == Self.day(2, 15))
        #expect(LoanStanding.nextActionDay(reminded, today: Self.day(2, 14), graceDays: 3, autopay: true) == Self.day(2, 15))
        #expect(LoanStanding.nextActionDay(book, today: Self.day(2, 15), graceDays: 3, autopay: false) == Self.day(2, 19))
        #expect(LoanStanding.nextActionDay(book, today: Self.day(2, 15), graceDays: 3, autopay: true) == Self.day(2, 16))
        var done = book
        for index in done.indices {
            done[index].interestPaidMinor = done[index].interestMinor
            done[index].principalPaidMinor = done[index].principalMinor
        }
        #expect(LoanStanding.nextActionDay(done, today: Self.day(2, 15), graceDays: 3, autopay: true) == nil)
    }

    @Test("reminders: an unpaid instalment due tomorrow, or today when the day before was missed; once; never when paid or past due")
    func reminders() throws {
        var book = try Self.book()
        #expect(LoanStanding.reminders(book, today: Self.day(2, 13)).isEmpty)
        #expect(LoanStanding.reminders(book, today: Self.day(2, 14)).map(\.number) == [1])
        #expect(LoanStanding.reminders(book, today: Self.day(2, 15)).map(\.number) == [1], "the due day still reminds")
        #expect(LoanStanding.reminders(book, today: Self.day(2, 16)).isEmpty, "past due: the overdue notice speaks")
        #expect(LoanStanding.reminders(book, today: Self.day(3, 14)).map(\.number) == [2])
        book[0].reminded = true
        #expect(LoanStanding.reminders(book, today: Self.day(2, 14)).isEmpty)
        book[1].interestPaidMinor = book[1].interestMinor
        book[1].principalPaidMinor = book[1].principalMinor
        #expect(LoanStanding.reminders(book, today: Self.day(3, 14)).isEmpty, "paid ahead: nothing to remind")
        // The first look at a fresh loan: the day before its first due date, or today when that has come.
        let schedule = try LoanQuote.of(Self.product, principalMinor: 100_000, term: 12, on: Self.disbursed).schedule
        #expect(LoanStanding.firstLook(schedule, today: Self.disbursed) == Self.day(2, 14))
        #expect(LoanStanding.firstLook(schedule, today: Self.day(2, 15)) == Self.day(2, 15))
    }

    @Test("a product names every bad field; its costliest corner is held to the cap, and the refusal names the APR and the corner")
    func products() throws {
        var fields = LoanProductTerms.Fields()
        fields.name = ""
        fields.currency = "ZZZ"
        fields.minPrincipalMinor = 0
        fields.maxPrincipalMinor = 10
        fields.minTerm = 0
        fields.maxTerm = 999
        fields.frequency = "daily"
        fields.annualRateBps = 20_000
        fields.method = "balloon"
        fields.penaltyGraceDays = 100
        do {
            _ = try LoanProductTerms.check(fields)
            Issue.record("accepted")
        } catch {
            #expect(Set(error.errors.map(\.field)) == [
                "name", "currency", "principal_range.min_minor", "term_range.min", "term_range.max", "frequency", "annual_rate_bps", "method",
                "late_penalty.grace_days",
            ])
        }
        // 30% interest and a 25.00 fixed fee: fine on 1,000.00 over 12 months (34.998% with 24.76 —
        // see LoanRuleTests), over the cap on the product's smallest, shortest loan.
        let costly = LoanProductTerms(
            name: "Costly", currency: .cad, minPrincipalMinor: 50_000, maxPrincipalMinor: 100_000, minTerm: 6, maxTerm: 12, frequency: .monthly,
            annualRateBps: 3_000, method: .decliningBalance, feeFixedMinor: 2_500)
        do {
            try costly.checkCap(capBps: 3_500, on: Self.disbursed)
            Issue.record("accepted")
        } catch {
            #expect(error.code == "rate-cap-exceeded")
            #expect(error.detail.contains("at 50000 minor units over 6 monthly instalments"), "\(error.detail)")
        }
        let fair = LoanProductTerms(
            name: "Fair", currency: .cad, minPrincipalMinor: 50_000, maxPrincipalMinor: 100_000, minTerm: 6, maxTerm: 12, frequency: .monthly,
            annualRateBps: 1_800, method: .decliningBalance, feeFixedMinor: 1_000)
        try fair.checkCap(capBps: 3_500, on: Self.disbursed)
        // A tenant's lower cap refuses what the law allows.
        #expect(throws: RuleError.self) { try fair.checkCap(capBps: 2_000, on: Self.disbursed) }
    }
}
