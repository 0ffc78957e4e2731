import Compliance
import Foundation
import Ledger
import NzilaCore
import NzilaDatabase

/// Swaps, disputes and dissolution, in the caller's transaction, each under the circle's row lock.
enum CirclePeople {
    /// A member asks another to swap turns: both hold positions whose cycles are not yet paid.
    static func requestSwap(_ db: TenantDB, circle id: TontineID, requester: MemberID, with other: MemberID) async throws -> TontinePeopleStore.Swap {
        guard requester != other else { throw PeopleRefusal.swapWithSelf }
        let store = TontineStore(db)
        guard let circle = try await store.find(id, lock: true) else { throw TontineRoutes.notFound(id) }
        let members = try await store.members(id)
        guard members.contains(where: { $0.member == requester }) else { throw TontineRoutes.notFound(id) }
        guard circle.state == .active else { throw CircleState.Refusal.illegal(from: circle.state, to: .active) }
        guard members.contains(where: { $0.member == other }) else { throw PeopleRefusal.swapWithSelf }
        let (mine, theirs) = try await turns(store, circle: id, requester, other)
        let swap = TontinePeopleStore.Swap(
            id: TontineSwapID(UUID()), circle: id, requester: requester, counterparty: other, requesterCycle: mine, counterpartyCycle: theirs,
            status: .requested, requestedAt: db.now, decidedAt: nil)
        try await TontinePeopleStore(db: db).requestSwap(swap)
        return swap
    }

    /// The two members' unpaid turns (cycle numbers), or why not.
    static func turns(_ store: TontineStore, circle: TontineID, _ a: MemberID, _ b: MemberID) async throws -> (Int, Int) {
        let cycles = try await store.cycles(circle)
        guard let mine = cycles.first(where: { $0.recipient == a }), let theirs = cycles.first(where: { $0.recipient == b }) else {
            throw Problem.internalError
        }
        for turn in [mine, theirs] where !turn.status.takesContributions { throw PeopleRefusal.turnPaid(cycle: turn.cycle) }
        return (mine.cycle, theirs.cycle)
    }

    /// The member asked accepts (the turns exchange) or either member declines.
    static func decide(_ db: TenantDB, circle id: TontineID, swap swapID: TontineSwapID, by member: MemberID, accept: Bool) async throws {
        let store = TontineStore(db)
        guard let circle = try await store.find(id, lock: true) else { throw TontineRoutes.notFound(id) }
        let people = TontinePeopleStore(db: db)
        guard let swap = try await people.findSwap(swapID, circle: id), [swap.requester, swap.counterparty].contains(member) else {
            throw Problem(.notFound, "swap-not-found", "Swap not found", detail: "Swap \(swapID) was not found in this circle.")
        }
        if case .failure(let refusal) = swap.status.transition(to: accept ? .accepted : .declined) { throw refusal }
        if accept {
            guard member == swap.counterparty else { throw PeopleRefusal.notCounterparty }
            guard circle.state == .active else { throw CircleState.Refusal.illegal(from: circle.state, to: .active) }
            // The turns may have moved or been paid since the request: both must still be unpaid and theirs.
            let (mine, theirs) = try await turns(store, circle: id, swap.requester, swap.counterparty)
            guard mine == swap.requesterCycle, theirs == swap.counterpartyCycle else {
                throw RuleError(.conflict, "swap-stale", "Swap stale", detail: "The turns changed since the swap was asked for; ask again.")
            }
            guard try await people.accept(swap, by: member) else { throw SwapStatus.Refusal.illegal(from: .accepted, to: .accepted) }
        } else {
            guard try await people.decline(swap, by: member) else { throw SwapStatus.Refusal.illegal(from: .declined, to: .declined) }
        }
    }

    /// A member disputes a cycle of a circle they are in.
    static func openDispute(_ db: TenantDB, circle id: TontineID, member: MemberID, cycle: Int, reason: String) async throws -> TontinePeopleStore.Dispute {
        let store = TontineStore(db)
        guard try await store.find(id) != nil, try await store.members(id).contains(where: { $0.member == member }) else {
            throw TontineRoutes.notFound(id)
        }
        guard try await store.cycles(id).contains(where: { $0.cycle == cycle }) else { throw CircleRefusal.cycleNotFound(cycle) }
        let dispute = TontinePeopleStore.Dispute(
            id: TontineDisputeID(UUID()), circle: id, cycle: cycle, member: member, reason: reason, status: .open, action: nil, resolution: nil,
            resolvedByRole: nil, journal: nil, openedAt: db.now, resolvedAt: nil)
        try await TontinePeopleStore(db: db).open(dispute)
        return dispute
    }

    /// Staff uphold (with an optional refund or fee waiver through the ledger) or reject a dispute.
    static func resolve(
        _ db: TenantDB, circle id: TontineID, dispute disputeID: TontineDisputeID, outcome: DisputeStatus, action: DisputeAction?, reason: String,
        by actor: TontineActor
    ) async throws {
        let store = TontineStore(db)
        let people = TontinePeopleStore(db: db)
        // No circle lock: the dispute's row and (for a ledger action) its cycle's serialise it, in the
        // order contributions and the scheduler take them.
        guard let circle = try await store.find(id) else { throw TontineRoutes.notFound(id) }
        guard let dispute = try await people.findDispute(disputeID, circle: id) else {
            throw Problem(.notFound, "dispute-not-found", "Dispute not found", detail: "Dispute \(disputeID) was not found in this circle.")
        }
        if case .failure(let refusal) = dispute.status.transition(to: outcome) { throw refusal }
        var journal: JournalID?
        if let action {
            guard let cycle = try await store.lockCycle(id, dispute.cycle) else { throw CircleRefusal.cycleNotFound(dispute.cycle) }
            guard let (contribution, account, lateFee, waived) = try await people.contribution(id, cycle: dispute.cycle, member: dispute.member) else {
                throw PeopleRefusal.nothingToRefund(cycle: dispute.cycle)
            }
            let ledger = LedgerStore(db)
            switch action {
            case .refundContribution:
                guard cycle.status.takesContributions else { throw PeopleRefusal.cyclePaid(cycle: dispute.cycle) }
                let locked = try await ledger.lock([circle.pool, account])
                guard let pool = locked[circle.pool], let to = locked[account] else { throw Problem.internalError }
                let posted = try await ledger.post(
                    try Posting.transfer(
                        from: pool, to: to, amount: circle.contribution, kind: "tontine_refund",
                        memo: "Tontine \(circle.name): refund of cycle \(dispute.cycle) (dispute \(dispute.id))"))
                try await people.refunded(contribution, circle: id, cycle: dispute.cycle, member: dispute.member, amount: circle.contribution.minorUnits, journal: posted.id)
                journal = posted.id
            case .waiveLateFee:
                guard lateFee > 0, !waived else { throw PeopleRefusal.noLateFee(cycle: dispute.cycle) }
                let fee = try await ledger.systemAccount("fee_income", circle.currency)
                let locked = try await ledger.lock([fee, account])
                guard let from = locked[fee], let to = locked[account] else { throw Problem.internalError }
                let posted = try await ledger.post(
                    try Posting.transfer(
                        from: from, to: to, amount: Money(minorUnits: lateFee, currency: circle.currency), kind: "tontine_fee_waiver",
                        memo: "Tontine \(circle.name): late fee of cycle \(dispute.cycle) waived (dispute \(dispute.id))"))
                try await people.movement(id, cycle: dispute.cycle, member: dispute.member, kind: "fee_waived", amount: lateFee, journal: posted.id)
                journal = posted.id
            }
        }
        guard try await people.resolve(dispute, to: outcome, action: action, resolution: reason, journal: journal, by: actor) else {
            throw DisputeStatus.Refusal.illegal(from: outcome, to: outcome)
        }
    }

    /// Staff resolve a short cycle: what is missing is advanced by the guarantee (whatever the
    /// tenant's setting: it is this cycle's decision, audited as the staff member's write) and the
    /// recipient is paid.
    static func advanceShort(_ db: TenantDB, circle id: TontineID, cycle number: Int, reason: String) async throws {
        let store = TontineStore(db)
        // The cycle's lock first, as contributions and the scheduler take it.
        guard let cycle = try await store.lockCycle(id, number) else {
            throw try await store.find(id) == nil ? TontineRoutes.notFound(id) : CircleRefusal.cycleNotFound(number)
        }
        guard let circle = try await store.find(id) else { throw TontineRoutes.notFound(id) }
        if case .failure(let refusal) = cycle.status.transition(to: .paid) { throw refusal }
        guard cycle.status == .short else {
            throw RuleError(.conflict, "cycle-not-short", "Cycle not short", detail: "Cycle \(number) is \(cycle.status.rawValue); only a short cycle is advanced by staff.")
        }
        let members = try await store.members(id)
        let missing = members.map(\.member).filter { !cycle.contributed.contains($0) }
        try await CycleSettlement.load(db, circle: circle).advance(cycle, missing: missing, members: members, note: reason)
    }

    /// Staff dissolve a circle. A forming one simply ends. An active one settles every member's net
    /// position (paid in, counting what the guarantee advanced for them, less received) in one
    /// journal: the guarantee advances what members who received more than they paid owe (booked as
    /// their arrears), the pool refunds members who paid in more to their payout accounts, and the
    /// pool ends at exactly 0. Cycles not yet paid are cancelled.
    static func dissolve(_ db: TenantDB, circle id: TontineID, reason: String, by actor: TontineActor) async throws {
        let store = TontineStore(db)
        guard let seen = try await store.find(id) else { throw TontineRoutes.notFound(id) }
        if case .failure(let refusal) = seen.state.transition(to: .dissolved) { throw refusal }
        // Every cycle's lock, in order, before the circle's: the order contributions and the scheduler
        // take them in, so no step runs meanwhile and none waits on us in the other order.
        for cycle in try await store.cycles(id) { _ = try await store.lockCycle(id, cycle.cycle) }
        guard let circle = try await store.find(id, lock: true) else { throw TontineRoutes.notFound(id) }
        if case .failure(let refusal) = circle.state.transition(to: .dissolved) { throw refusal }
        if circle.state == .active { try await settle(db, circle: circle) }
        guard try await store.transition(id, from: circle.state, to: .dissolved, reason: reason, by: actor) else {
            throw CircleState.Refusal.illegal(from: circle.state, to: .dissolved)
        }
    }

    /// An active circle's settlement, in one journal: members who received more than they paid in
    /// owe the difference, advanced by the guarantee and booked as their arrears (a case opens for
    /// staff to collect it); members who paid in more are refunded from the pool, less what they
    /// still owe from earlier defaults in this circle (recovered to the guarantee and arrears
    /// accounts first). The pool ends at 0; cycles not yet paid are cancelled.
    static func settle(_ db: TenantDB, circle: TontineStore.Circle) async throws {
        let store = TontineStore(db)
        let people = TontinePeopleStore(db: db)
        let money = TontineMoneyStore(db: db)
        let ledger = LedgerStore(db)
        let members = try await store.members(circle.id)
        let owedBy = try await money.owed(circle.id, members: members.map(\.member))
        let system = try await ledger.systemAccounts([("tontine_guarantee", circle.currency), ("tontine_arrears", circle.currency)])
        guard let guarantee = system["tontine_guarantee/\(circle.currency.code)"], let arrears = system["tontine_arrears/\(circle.currency.code)"] else {
            throw Problem.internalError
        }
        let payoutAccounts = Dictionary(uniqueKeysWithValues: members.map { ($0.member, $0.payoutAccount) })
        let locked = try await ledger.lock([circle.pool, guarantee, arrears] + members.map(\.payoutAccount))
        guard let pool = locked[circle.pool] else { throw Problem.internalError }
        let settlement = try Dissolution.settle(try await people.positions(circle.id), poolMinor: pool.balanceMinor)
        let owed = settlement.arrears.values.reduce(0, +)
        var legs: [(AccountID, Int64)] = [(circle.pool, owed - settlement.refunds.values.reduce(0, +))]
        var advanceBack: Int64 = 0
        var penaltyBack: Int64 = 0
        var recovered: [(member: MemberID, advance: Int64, penalty: Int64, rows: [(Int64, Int64, Int64)])] = []
        for (member, refund) in settlement.refunds.sorted(by: { $0.key < $1.key }) {
            let rows = owedBy[member] ?? []
            let (advance, penalty) = TontineJournals.recovery(
                fromMinor: refund, advanceOwed: rows.reduce(0) { $0 + $1.advance }, penaltyOwed: rows.reduce(0) { $0 + $1.penalty })
            guard let account = payoutAccounts[member], let snapshot = locked[account] else { throw Problem.internalError }
            if refund - advance - penalty > 0 {
                guard snapshot.status == .open else { throw PostingError.accountFrozen(account, status: snapshot.status) }
                legs.append((account, refund - advance - penalty))
            }
            (advanceBack, penaltyBack) = (advanceBack + advance, penaltyBack + penalty)
            if advance + penalty > 0 { recovered.append((member, advance, penalty, TontineMoneyStore.allocate(rows, advance: advance, penalty: penalty))) }
        }
        legs += [(guarantee, advanceBack - owed), (arrears, penaltyBack)]
        let nonZero = legs.filter { $0.1 != 0 }
        if nonZero.count >= 2 {
            let posted = try await ledger.post(
                JournalPlan(
                    kind: "tontine_dissolution", memo: "Tontine \(circle.name) dissolved",
                    legs: nonZero.map { Leg(account: $0.0, amount: Money(minorUnits: $0.1, currency: circle.currency)) }))
            for (member, amount) in settlement.arrears.sorted(by: { $0.key < $1.key }) {
                try await money.recordArrears(circle: circle.id, cycle: nil, member: member, advanced: amount, penalty: 0, note: "circle dissolved")
                try await people.movement(circle.id, cycle: nil, member: member, kind: "advance", amount: amount, journal: posted.id)
                _ = try await CaseStore(db).open(
                    kind: "tontine", memberID: member.rawValue, screeningID: nil,
                    summary: "Tontine \(circle.name) dissolved: the member received \(amount) \(circle.currency.code) more than they paid in, now owed",
                    by: nil)
            }
            for (member, amount) in settlement.refunds.sorted(by: { $0.key < $1.key }) {
                try await people.movement(circle.id, cycle: nil, member: member, kind: "refund", amount: amount, journal: posted.id)
            }
            for entry in recovered {
                for (kind, amount) in [("advance_recovered", entry.advance), ("penalty_recovered", entry.penalty)] where amount > 0 {
                    try await people.movement(circle.id, cycle: nil, member: entry.member, kind: kind, amount: amount, journal: posted.id)
                }
                try await money.recover(entry.rows)
            }
        }
        try await people.cancelOpenCycles(circle.id)
    }

}
