import Foundation
import Ledger
import NzilaCore
import NzilaDatabase

/// The money of a cycle, in the caller's transaction: contributions in (with late fees and arrears
/// recovered), the payout out as soon as the cycle is complete and due, and what the end of grace
/// does to a cycle still missing money (advance it or leave it short). The cycle's row lock
/// (`TontineStore.lockCycle`) serialises all of it, so two last contributions cannot both miss the
/// payout and a payout cannot happen twice.
struct CycleSettlement {
    let db: TenantDB
    let circle: TontineStore.Circle
    let config: TontineSection
    var store: TontineStore { TontineStore(db) }
    var money: TontineMoneyStore { TontineMoneyStore(db: db) }
    var ledger: LedgerStore { LedgerStore(db) }

    static func load(_ db: TenantDB, circle: TontineStore.Circle) async throws -> CycleSettlement {
        CycleSettlement(db: db, circle: circle, config: try await db.section(TontineSection.self) ?? .none)
    }

    func accounts() async throws -> TontineJournals.Accounts {
        let currency = circle.currency
        let found = try await ledger.systemAccounts(TontineJournals.Accounts.systemKinds.map { ($0, currency) })
        guard let fee = found["fee_income/\(currency.code)"], let guarantee = found["tontine_guarantee/\(currency.code)"],
            let arrears = found["tontine_arrears/\(currency.code)"]
        else { throw Problem.internalError }
        return TontineJournals.Accounts(pool: circle.pool, feeIncome: fee, guarantee: guarantee, arrears: arrears)
    }

    var seconds: Int64 { Int64(db.now.timeIntervalSince1970.rounded(.down)) }

    /// The late fee of a contribution to a cycle due on `due`, made at `at` (now unless the scheduler
    /// names the phase it is catching up on): 0 on or before the due day.
    func lateFee(due: Day, at: Int64? = nil) throws -> (late: Bool, fee: Int64) {
        guard CycleClock.isLate(at: at ?? seconds, due: due) else { return (false, 0) }
        let fee = try Arrears.penalty(
            contributionMinor: circle.contribution.minorUnits, fixedMinor: config.fixedLateFeeMinor(circle.currency), bps: config.lateFeeBps)
        return (true, fee)
    }

    /// A member's contribution to `cycle` (locked by the caller) from `account`, their own open
    /// account in the circle's currency: the contribution, any late fee, and every arrears they owe
    /// in this circle, in one journal. Then the cycle is paid if that made it complete and it is due.
    @discardableResult
    func contribute(_ cycle: TontineStore.Cycle, member: MemberID, account: AccountID, source: ContributionSource, members: [TontineStore.Member])
        async throws -> TontineContributionReceived
    {
        guard cycle.status.takesContributions else { throw CircleRefusal.cycleClosed(cycle.cycle, cycle.status) }
        guard !cycle.contributed.contains(member) else { throw CircleRefusal.alreadyContributed(cycle.cycle) }
        let (late, fee) = try lateFee(due: cycle.due)
        let completes = cycle.contributed.count + 1 >= members.count && CycleClock.isDue(at: seconds, due: cycle.due)
        let owedBy = try await money.owed(circle.id, members: completes ? [member, cycle.recipient] : [member])
        let owed = owedBy[member] ?? []
        let advanceOwed = owed.reduce(0) { $0 + $1.advance }
        let penaltyOwed = owed.reduce(0) { $0 + $1.penalty }
        let accounts = try await accounts()
        let locked = try await ledger.lock(
            lockSet([account], fee: fee, owed: owedBy, accounts: accounts, payoutOf: completes ? cycle : nil, members: members))
        guard let from = locked[account], from.memberID == member else {
            throw CircleRefusal.accountUnfit(field: "account_id", "must be an account of the member's")
        }
        let payment = TontineJournals.Payment(
            contributionMinor: circle.contribution.minorUnits, lateFeeMinor: fee, advanceRecoveredMinor: advanceOwed, penaltyRecoveredMinor: penaltyOwed)
        let plan = try TontineJournals.contribution(
            from: from, payment: payment, currency: circle.currency, accounts: accounts, memo: "Tontine \(circle.name): cycle \(cycle.cycle)")
        let journal = try await ledger.post(plan)
        let event = TontineContributionReceived(
            tontineId: circle.id, cycle: cycle.cycle, memberId: member, source: source, amount: circle.contribution,
            lateFee: Money(minorUnits: fee, currency: circle.currency), arrearsRecovered: Money(minorUnits: advanceOwed + penaltyOwed, currency: circle.currency),
            late: late, journalId: journal.id)
        try await money.recordContribution(
            circle: circle.id, cycle: cycle.cycle, member: member, source: source, account: account, amount: circle.contribution.minorUnits,
            lateFee: fee, late: late, journal: journal.id,
            movements: Self.movements([
                ("contribution", member, circle.contribution.minorUnits), ("late_fee", member, fee), ("advance_recovered", member, advanceOwed),
                ("penalty_recovered", member, penaltyOwed),
            ]),
            recoveries: TontineMoneyStore.allocate(owed, advance: advanceOwed, penalty: penaltyOwed), events: [event])
        if completes { try await payKeepingContributions(cycle, members: members) }
        return event
    }

    /// Every account a contribution (or a batch of them) locks, at once, so they are taken in id order
    /// with everything else: the payers' accounts and the pool; fee income and arrears when a fee or a
    /// penalty moves; the guarantee when an advance is recovered; and, when the money completes a due
    /// cycle (`payoutOf`), the recipient's payout account and what recovering their own arrears needs.
    /// The credit union's shared accounts only when they move: every circle would otherwise queue on
    /// their row locks.
    func lockSet(
        _ payers: [AccountID], fee: Int64, owed: [MemberID: [TontineMoneyStore.Owed]], accounts: TontineJournals.Accounts, payoutOf cycle: TontineStore.Cycle?,
        members: [TontineStore.Member]
    ) -> [AccountID] {
        var lock = payers + [accounts.pool]
        let rows = owed.values.joined()
        if fee > 0 || rows.contains(where: { $0.penalty > 0 }) { lock += [accounts.feeIncome, accounts.arrears] }
        if rows.contains(where: { $0.advance > 0 }) { lock.append(accounts.guarantee) }
        if let cycle, let payout = members.first(where: { $0.member == cycle.recipient })?.payoutAccount { lock.append(payout) }
        return lock
    }

    /// Pays a cycle a contribution just completed, without letting a refused payout (the recipient's
    /// account frozen or closed, the pool short of an out-of-turn pricing share) undo the
    /// contributions: the payout runs under a savepoint, and a refusal leaves the cycle complete and
    /// unpaid for the scheduler's next phase (or staff) to pay.
    func payKeepingContributions(_ cycle: TontineStore.Cycle, members: [TontineStore.Member]) async throws {
        try await db.query("SAVEPOINT tontine_payout")
        do {
            try await pay(cycle, from: cycle.status, memberCount: members.count, members: members)
            try await db.query("RELEASE SAVEPOINT tontine_payout")
        } catch {
            // A refusal by a rule or by the database (the pool's floor); a lost connection fails here too.
            try await db.query("ROLLBACK TO SAVEPOINT tontine_payout")
            db.logger.warning("tontine payout refused; the cycle stays complete and unpaid", metadata: [
                "tontine": "\(circle.id)", "cycle": "\(cycle.cycle)", "error": "\(String(reflecting: error))",
            ])
        }
    }

    /// The scheduler's autopay: every autopay member of `members` who has not paid into `cycle`
    /// (locked by the caller) pays from their autopay account, all at once — one read of what they
    /// owe, one lock of every account in id order, one statement for the journals and one for the
    /// records — so a cycle of ten costs a few round trips, not ten times a contribution's. A member
    /// whose account refuses (funds, frozen, another currency) is skipped and returned with why; the
    /// others pay. The cycle is paid if that completed it and it is due.
    @discardableResult
    func autopay(_ cycle: TontineStore.Cycle, members: [TontineStore.Member], at phase: Int64) async throws -> [(MemberID, RuleError)] {
        guard cycle.status.takesContributions else { return [] }
        let due = members.filter { $0.autopayAccount != nil && !cycle.contributed.contains($0.member) }
        guard !due.isEmpty else { return [] }
        // Judged at the phase's time (the due day), not when a late sweep runs it.
        let (late, fee) = try lateFee(due: cycle.due, at: phase)
        let completes = cycle.contributed.count + due.count >= members.count && CycleClock.isDue(at: seconds, due: cycle.due)
        let owedBy = try await money.owed(circle.id, members: due.map(\.member) + (completes ? [cycle.recipient] : []))
        let accounts = try await accounts()
        let locked = try await ledger.lock(
            lockSet(due.compactMap(\.autopayAccount), fee: fee, owed: owedBy, accounts: accounts, payoutOf: completes ? cycle : nil, members: members))
        var plans: [JournalPlan] = []
        var payments: [(member: MemberID, account: AccountID, payment: TontineJournals.Payment, owed: [TontineMoneyStore.Owed])] = []
        var refused: [(MemberID, RuleError)] = []
        for member in due {
            guard let account = member.autopayAccount, let from = locked[account], from.memberID == member.member else {
                refused.append((member.member, CircleRefusal.accountUnfit(field: "autopay_account_id", "must be an account of the member's").ruleError))
                continue
            }
            let owed = owedBy[member.member] ?? []
            let payment = TontineJournals.Payment(
                contributionMinor: circle.contribution.minorUnits, lateFeeMinor: fee, advanceRecoveredMinor: owed.reduce(0) { $0 + $1.advance },
                penaltyRecoveredMinor: owed.reduce(0) { $0 + $1.penalty })
            do {
                plans.append(
                    try TontineJournals.contribution(
                        from: from, payment: payment, currency: circle.currency, accounts: accounts, memo: "Tontine \(circle.name): cycle \(cycle.cycle) (autopay)"))
                payments.append((member.member, account, payment, owed))
            } catch {
                refused.append((member.member, error.ruleError))
            }
        }
        guard !plans.isEmpty else { return refused }
        let journals = try await ledger.post(plans)
        var paid: [TontineMoneyStore.Paid] = []
        var movements: [TontineMoneyStore.Movement] = []
        var recoveries: [(Int64, Int64, Int64)] = []
        var events: [any OutboxEvent] = []
        for (entry, journal) in zip(payments, journals) {
            let p = entry.payment
            paid.append(.init(member: entry.member, source: .autopay, account: entry.account, amount: p.contributionMinor, lateFee: p.lateFeeMinor, late: late, journal: journal.id))
            movements += Self.movements([
                ("contribution", entry.member, p.contributionMinor), ("late_fee", entry.member, p.lateFeeMinor),
                ("advance_recovered", entry.member, p.advanceRecoveredMinor), ("penalty_recovered", entry.member, p.penaltyRecoveredMinor),
            ]).map { var m = $0; m.journal = journal.id; return m }
            recoveries += TontineMoneyStore.allocate(entry.owed, advance: p.advanceRecoveredMinor, penalty: p.penaltyRecoveredMinor)
            events.append(
                TontineContributionReceived(
                    tontineId: circle.id, cycle: cycle.cycle, memberId: entry.member, source: .autopay, amount: circle.contribution,
                    lateFee: Money(minorUnits: p.lateFeeMinor, currency: circle.currency),
                    arrearsRecovered: Money(minorUnits: p.advanceRecoveredMinor + p.penaltyRecoveredMinor, currency: circle.currency), late: late,
                    journalId: journal.id))
        }
        try await money.recordContributions(circle: circle.id, cycle: cycle.cycle, paid, movements: movements, recoveries: recoveries, events: events)
        if cycle.contributed.count + paid.count >= members.count, CycleClock.isDue(at: seconds, due: cycle.due) {
            try await payKeepingContributions(cycle, members: members)
        }
        return refused
    }

    static func movements(_ raw: [(String, MemberID, Int64)]) -> [TontineMoneyStore.Movement] {
        raw.filter { $0.2 > 0 }.map { TontineMoneyStore.Movement(kind: $0.0, member: $0.1, amount: $0.2) }
    }

    /// Pays the cycle's recipient everything its contributions brought in (with the position pricing
    /// adjustment of the circle, if any), less what it recovers of the recipient's own arrears. When
    /// no other cycle is left unpaid, the circle completes (payouts may come out of turn: a complete
    /// cycle is paid on its due day while an earlier one still waits for its grace or its money).
    func pay(_ cycle: TontineStore.Cycle, from status: CycleStatus, memberCount: Int, members known: [TontineStore.Member]? = nil) async throws {
        let adjustments = try PositionPricing.adjustments(
            positions: memberCount, payoutMinor: circle.contribution.minorUnits * Int64(memberCount), feeBps: circle.earlyFeeBps)
        let gross = circle.contribution.minorUnits * Int64(memberCount) + adjustments[cycle.cycle - 1]
        var members = known ?? []
        if known == nil { members = try await store.members(circle.id) }
        guard let payout = members.first(where: { $0.member == cycle.recipient })?.payoutAccount else {
            throw Problem.internalError
        }
        let owed = try await money.owed(circle.id, member: cycle.recipient)
        let (advance, penalty) = TontineJournals.recovery(
            fromMinor: gross, advanceOwed: owed.reduce(0) { $0 + $1.advance }, penaltyOwed: owed.reduce(0) { $0 + $1.penalty })
        let accounts = try await accounts()
        var lock = [payout, accounts.pool]
        if advance > 0 { lock.append(accounts.guarantee) }
        if penalty > 0 { lock.append(accounts.arrears) }
        let locked = try await ledger.lock(lock)
        guard let to = locked[payout] else { throw Problem.internalError }
        let plan = try TontineJournals.payout(
            to: to, grossMinor: gross, advanceRecoveredMinor: advance, penaltyRecoveredMinor: penalty, currency: circle.currency, accounts: accounts,
            memo: "Tontine \(circle.name): payout of cycle \(cycle.cycle)")
        let journal = try await ledger.post(plan)
        let unpaid = try await money.recordPayout(
            circle: circle.id, cycle: cycle.cycle, from: status, gross: gross, recovered: advance + penalty, journal: journal.id,
            movements: Self.movements([
                ("payout", cycle.recipient, gross), ("advance_recovered", cycle.recipient, advance), ("penalty_recovered", cycle.recipient, penalty),
            ]),
            recoveries: TontineMoneyStore.allocate(owed, advance: advance, penalty: penalty),
            event: TontineCyclePaid(
                tontineId: circle.id, cycle: cycle.cycle, recipientId: cycle.recipient,
                paid: Money(minorUnits: gross - advance - penalty, currency: circle.currency),
                arrearsRecovered: Money(minorUnits: advance + penalty, currency: circle.currency), journalId: journal.id))
        guard let unpaid else { throw CircleRefusal.cycleClosed(cycle.cycle, .paid) }
        if unpaid == 0 {
            try await store.transition(circle.id, from: .active, to: .completed, reason: "every cycle paid", by: .system)
        }
    }

    /// The end of grace for a cycle still missing money: with the tenant's guarantee, each missing
    /// contribution is advanced and booked as the member's arrears (plus the late fee as penalty),
    /// then the cycle is paid; without it the cycle goes short. Either way a missing member who has
    /// already received their payout is delinquent.
    func endGrace(_ cycle: TontineStore.Cycle, members: [TontineStore.Member]) async throws {
        let missing = members.map(\.member).filter { !cycle.contributed.contains($0) }
        guard !missing.isEmpty else {
            try await pay(cycle, from: cycle.status, memberCount: members.count, members: members)
            return
        }
        let received = Set(try await store.cycles(circle.id).filter { $0.status == .paid }.map(\.recipient))
        for member in missing where received.contains(member) {
            try await money.markDelinquent(circle: circle.id, cycle: cycle.cycle, member: member, circleName: circle.name)
        }
        guard config.guarantees else {
            if cycle.status == .open { try await money.markShort(circle: circle.id, cycle: cycle.cycle, missing: missing) }
            return
        }
        try await advance(cycle, missing: missing, members: members)
    }

    /// The guarantee advances each missing contribution (the member owes it plus the late fee as
    /// arrears), then the cycle is paid: at the end of grace with the tenant's guarantee on, or when
    /// staff resolve a short cycle (`POST …/cycles/{cycle}/advance`).
    func advance(_ cycle: TontineStore.Cycle, missing: [MemberID], members: [TontineStore.Member], note: String? = nil) async throws {
        let penalty = try Arrears.penalty(
            contributionMinor: circle.contribution.minorUnits, fixedMinor: config.fixedLateFeeMinor(circle.currency), bps: config.lateFeeBps)
        let accounts = try await accounts()
        // With the recipient's payout account, so the payout below takes no lock out of id order.
        let payout = members.first(where: { $0.member == cycle.recipient })?.payoutAccount
        _ = try await ledger.lock([accounts.pool, accounts.guarantee, accounts.arrears, accounts.feeIncome] + (payout.map { [$0] } ?? []))
        for member in missing {
            let journal = try await ledger.post(
                TontineJournals.advance(
                    amountMinor: circle.contribution.minorUnits, penaltyMinor: penalty, currency: circle.currency, accounts: accounts,
                    memo: "Tontine \(circle.name): advance of cycle \(cycle.cycle)"))
            try await money.recordArrears(
                circle: circle.id, cycle: cycle.cycle, member: member, advanced: circle.contribution.minorUnits, penalty: penalty, note: note)
            try await money.recordContribution(
                circle: circle.id, cycle: cycle.cycle, member: member, source: .guarantee, account: nil, amount: circle.contribution.minorUnits,
                lateFee: 0, late: true, journal: journal.id,
                movements: Self.movements([("advance", member, circle.contribution.minorUnits), ("penalty_booked", member, penalty)]),
                recoveries: [],
                events: [
                    TontineAdvanceMade(
                        tontineId: circle.id, cycle: cycle.cycle, memberId: member, advanced: circle.contribution,
                        penalty: Money(minorUnits: penalty, currency: circle.currency), journalId: journal.id)
                ])
        }
        try await pay(cycle, from: cycle.status, memberCount: members.count, members: members)
    }
}
