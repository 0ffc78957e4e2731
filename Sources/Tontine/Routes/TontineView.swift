import Foundation
import NzilaCore
import NzilaDatabase

/// A circle as `viewer` may see it (nil: staff, everything). A member sees a circle they hold a
/// position in, or one still forming (open to join); any other looks missing. Account ids are
/// shown for the viewer's own position only (staff: all); the seed from the start.
struct TontineView {
    let db: TenantDB

    func record(_ id: TontineID, viewer: MemberID?) async throws -> TontineRecord {
        let store = TontineStore(db)
        let people = TontinePeopleStore(db: db)
        guard let circle = try await store.find(id) else { throw TontineRoutes.notFound(id) }
        let members = try await store.members(id)
        if let viewer, circle.state != .forming, !members.contains(where: { $0.member == viewer }) { throw TontineRoutes.notFound(id) }
        let cycles = try await store.cycles(id)
        let today = CycleClock.day(at: Int64(db.now.timeIntervalSince1970.rounded(.down)))!
        let standings = try await store.standings(circle, today: today)
        let zero = Money(minorUnits: 0, currency: circle.currency)
        // The same adjustments the payouts use (CycleSettlement.pay); none before the start.
        let adjustments = cycles.count >= 2
            ? try PositionPricing.adjustments(
                positions: cycles.count, payoutMinor: circle.contribution.minorUnits * Int64(cycles.count), feeBps: circle.earlyFeeBps)
            : []
        let empty = TontineRecord.Standing(paid: zero, owed: zero, balance: zero, arrears: zero, received: false, delinquent: false)
        return TontineRecord(
            id: circle.id, name: circle.name, contribution: circle.contribution, frequency: circle.frequency, maxMembers: circle.maxMembers,
            order: circle.order, graceDays: circle.graceDays, firstDueDate: circle.firstDueDate, earlyFeeBps: circle.earlyFeeBps, state: circle.state,
            organizerId: circle.organizer, poolAccountId: circle.pool, poolBalance: Money(minorUnits: circle.poolBalanceMinor, currency: circle.currency),
            seedCommitment: circle.seedCommitment, seed: circle.state == .forming ? nil : circle.seed,
            members: members.map { m in
                let mine = viewer == nil || viewer == m.member
                return TontineRecord.MemberView(
                    memberId: m.member, position: m.position, joinedAt: m.joinedAt, payoutAccountId: mine ? m.payoutAccount : nil,
                    autopayAccountId: mine ? m.autopayAccount : nil, standing: standings[m.member] ?? empty)
            },
            cycles: cycles.map { c in
                let adjustment = c.cycle <= adjustments.count ? adjustments[c.cycle - 1] : 0
                return TontineRecord.CycleView(
                    cycle: c.cycle, dueDate: c.due, recipientId: c.recipient, status: c.status, contributed: c.contributed,
                    missing: members.map(\.member).filter { !c.contributed.contains($0) },
                    payout: Money(minorUnits: circle.contribution.minorUnits * Int64(cycles.count) + adjustment, currency: circle.currency),
                    adjustment: Money(minorUnits: adjustment, currency: circle.currency),
                    annualisedRateBps: PositionPricing.annualisedReturnBps(
                        positions: cycles.count, position: c.cycle, contributionMinor: circle.contribution.minorUnits, adjustmentMinor: adjustment,
                        frequency: circle.frequency),
                    paid: c.paidMinor.map { Money(minorUnits: $0, currency: circle.currency) }, paidAt: c.paidAt)
            },
            swaps: try await people.swaps(id).map {
                TontineRecord.SwapView(
                    id: $0.id, requesterId: $0.requester, counterpartyId: $0.counterparty, requesterCycle: $0.requesterCycle,
                    counterpartyCycle: $0.counterpartyCycle, status: $0.status, requestedAt: $0.requestedAt, decidedAt: $0.decidedAt)
            },
            disputes: try await people.disputes(id, member: viewer).map(Self.view),
            createdAt: circle.createdAt, startedAt: circle.startedAt, endedAt: circle.endedAt)
    }

    static func view(_ d: TontinePeopleStore.Dispute) -> TontineRecord.DisputeView {
        TontineRecord.DisputeView(
            id: d.id, cycle: d.cycle, memberId: d.member, reason: d.reason, status: d.status, action: d.action, resolution: d.resolution,
            resolvedByRole: d.resolvedByRole, journalId: d.journal, openedAt: d.openedAt, resolvedAt: d.resolvedAt)
    }
}
