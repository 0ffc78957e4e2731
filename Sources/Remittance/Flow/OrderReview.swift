import Ledger
import Compliance
import Foundation
import NzilaCore
import NzilaDatabase

/// What happens to an order around a compliance review: the case its hold opens, and the officer's
/// decision carried out in the decision's own transaction — released: the money is taken (the hold
/// captured) and the order goes on to conversion; rejected: everything is given back and the order
/// ends refunded. Cancellation by the member or staff lives here too, since it also refunds.
public enum OrderReview {
    /// One case per held order, listing every reason, so one decision settles the order.
    static func openCase(_ db: TenantDB, order: UUID, member: UUID, reasons: [String], screening: ScreeningRecord?, by principal: Principal?) async throws {
        let kind = reasons.contains { $0.hasPrefix("screening") } ? "screening" : "aml"
        let detail = String(
            decoding: try JSONSerialization.data(withJSONObject: ["remittance_id": order.lowercased, "reasons": reasons], options: [.sortedKeys]), as: UTF8.self)
        let caseID = try await CaseStore(db).open(
            kind: kind, memberID: member, screeningID: screening?.id.rawValue,
            summary: "Remittance \(order.lowercased) held: " + reasons.joined(separator: "; "), detail: detail, remittanceID: order, by: principal)
        try await RemittanceStore(db).attachCase(caseID, to: order)
    }

    /// The case hook the data plane gives `CaseRoutes`: a final decision on a case that holds an order.
    public static func caseDecided(_ db: TenantDB, record: CaseRecord, status: CaseStatus, by principal: Principal, now: Date) async throws {
        guard status.isFinal, let orderID = record.remittanceID?.rawValue,
            let stored = try await RemittanceStore(db).find(orderID, lock: true), stored.order.state == .held
        else { return }
        let actor = OrderActor(principal)
        if status == .released {
            try await resume(db, stored.order, by: actor, reason: "case \(record.id) released by compliance", now: now)
        } else {
            try await refund(db, stored.order, by: actor, through: .rejected, reason: "case \(record.id) rejected by compliance")
        }
    }

    /// Takes the reserved money and sends the order on; if the money is no longer there (the hold
    /// expired during a long review and was spent), the order is cancelled instead.
    static func resume(_ db: TenantDB, _ order: RemittanceOrder, by actor: OrderActor, reason: String, now: Date) async throws {
        let store = RemittanceStore(db)
        var changes = OrderChanges()
        if order.fundingJournalId == nil, let raw = order.sourceAccountId?.rawValue {
            let account = AccountID(raw)
            _ = try await LedgerStore(db).lock([account])  // expires the hold first if its time has passed
            let hold = try await order.holdId.map(\.rawValue).asyncMap { try await HoldStore(db).hold($0, visibleTo: nil) } ?? nil
            do {
                let journal = try await RemittanceLedger(db: db).fund(order, payer: account, releasingHold: hold?.status == .active ? hold : nil)
                changes.fundingJournal = journal.id.rawValue
            } catch let error as PostingError {
                try await refund(db, order, by: actor, through: nil, reason: "\(reason), but the money is no longer available: \(error.ruleError.detail)")
                return
            }
        }
        let id = order.id.rawValue
        try await store.transition(id, from: .held, to: .released, reason: reason, by: actor, changes: changes)
        var next = OrderChanges()
        next.nextStep = .at(now)
        try await store.transition(id, from: .released, to: .converting, reason: "released for payout", by: actor, changes: next)
    }

    /// Gives everything back and ends the order: held → rejected → refunded (`through: .rejected`),
    /// failed → refunded, or → cancelled.
    static func refund(_ db: TenantDB, _ order: RemittanceOrder, by actor: OrderActor, through: OrderState?, reason: String) async throws {
        let store = RemittanceStore(db)
        let id = order.id.rawValue
        let reversals = try await RemittanceLedger(db: db).refund(order, reason: reason)
        var done = OrderChanges()
        done.nextStep = .clear
        let refundNote = reversals.isEmpty ? "nothing had been taken; the reservation is released" : "reversed by journal(s) \(reversals.joined(separator: ", "))"
        switch (order.state, through) {
        case (.held, .rejected?):
            try await store.transition(id, from: .held, to: .rejected, reason: reason, by: actor)
            try await store.transition(id, from: .rejected, to: .refunded, reason: "refunded in full, fee included: \(refundNote)", by: actor, changes: done)
        case (.failed, _):
            try await store.transition(id, from: .failed, to: .refunded, reason: "refunded in full, fee included: \(refundNote)", by: actor, changes: done)
        default:
            try await store.transition(id, from: order.state, to: .cancelled, reason: "\(reason); \(refundNote)", by: actor, changes: done)
        }
    }

    /// `POST /v1/remittances/{id}/cancel`: only before the money moves, or from held (with a refund).
    public static func cancel(_ db: TenantDB, _ order: RemittanceOrder, by principal: Principal, reason: String) async throws {
        if case .failure(let refusal) = order.state.transition(to: .cancelled) { throw refusal }
        try await refund(db, order, by: OrderActor(principal), through: nil, reason: reason)
        if order.state == .held, let caseID = order.caseId?.rawValue {
            try await CaseStore(db).event(caseID, action: "commented", note: "the remittance was cancelled while under review", by: principal)
        }
    }
}
