import Ledger
import Compliance
import Foundation
import NzilaCore
import NzilaDatabase
import Tracing

/// One order moved forward by the worker, in short transactions around the partner call (never a
/// transaction held open across the network):
/// 1. under the order's lock: an unfunded order past its window is cancelled; a converting order has
///    its conversion posted, a partner chosen and an attempt recorded (pending); a disbursing order
///    re-asks its pending attempt's partner (after a crash or an unknown outcome);
/// 2. the partner is asked, with the order id as reference (it de-duplicates, so asking again never
///    pays twice);
/// 3. under the lock again: paid → delivery journal, delivered (and an EFT report when one is due);
///    pending or unknown → look again later; declined → the next partner, or failed → refunded.
public struct PayoutStep: Sendable {
    let partners: PayoutPartners
    /// Spans for partner calls (nil: tracing off).
    let tracer: (any Tracer)?
    let keys: TenantDataKeys
    /// Called after the partner answered and before the answer is recorded: a test throws here to
    /// play a crash between the two.
    let afterPartnerCall: @Sendable (UUID) throws -> Void
    /// A path at a tenant's address as partners reach it (`/v1/webhooks/payouts/{partner}`, where a partner posts its
    /// status callbacks); nil: the data plane has no address partners can reach, and they are polled only.
    let callbackURL: @Sendable (TenantRef, String) -> String?

    func fundingCallbackURL(_ tenant: TenantRef, _ connection: String) -> String? {
        callbackURL(tenant, "/v1/webhooks/funding-providers/\(connection)")
    }

    public init(
        partners: PayoutPartners, keys: TenantDataKeys, tracer: (any Tracer)? = nil,
        callbackURL: @escaping @Sendable (TenantRef, String) -> String? = { _, _ in nil },
        afterPartnerCall: @escaping @Sendable (UUID) throws -> Void = { _ in }
    ) {
        self.callbackURL = callbackURL
        self.partners = partners
        self.tracer = tracer
        self.keys = keys
        self.afterPartnerCall = afterPartnerCall
    }

    /// The most partners one order is offered to before it is refunded.
    static let maxAttempts = 5

    struct Call: Sendable {
        let partner: String
        let attempt: Int
        let work: Work
        /// The trace the order was placed in, which the payout joins.
        let traceParent: String?

        enum Work: Sendable {
            /// Pay the recipient.
            case payout(PayoutInstruction)
            /// Ask the funding provider for the member's payment request.
            case funding(FundingRequest)
        }
    }

    /// Runs the order as far as it can go now. Returns its state afterwards (nil: not found or locked by another worker).
    @discardableResult
    public func run(_ id: UUID, session: TenantSession, now: @Sendable () -> Date) async throws -> OrderState? {
        var rounds = 0
        while rounds < Self.maxAttempts + 1 {
            rounds += 1
            guard let (state, call) = try await session.run({ try await prepare(id, db: $0, now: now()) }) else { return nil }
            guard let call else { return state }
            let instruction: PayoutInstruction
            switch call.work {
            case .funding(let request): return try await requestFunding(request, through: call.partner, order: id, session: session, now: now)
            case .payout(let payout): instruction = payout
            }
            guard let partner = partners.partner(named: call.partner) else { return state }
            let (after, again) = try await traced(call, order: id, tenant: session.tenant) { span in
                let outcome: PayoutOutcome?
                do {
                    outcome = try await partner.disburse(instruction)
                } catch {
                    outcome = nil
                }
                span?.updateAttributes { $0["nzila.payout.outcome"] = outcome.map(\.label) ?? "unknown" }
                // Only a decline or no answer counts against the partner's breaker.
                switch outcome {
                case .paid?, .pending?: partners.record(call.partner, failure: false)
                case .declined?, nil: partners.record(call.partner, failure: true)
                }
                try afterPartnerCall(id)
                return try await session.run { try await record(outcome, partner: call.partner, attempt: call.attempt, order: id, db: $0, now: now()) }
            }
            guard again else { return after }
        }
        return nil
    }

    /// Asks the funding provider for the member's payment request (outside any transaction), then records it; when the
    /// provider cannot be reached or refuses, the order looks again in 30 s, until its funding window closes and it is
    /// cancelled. The order id is the provider's idempotency key: asking again never makes a second request.
    func requestFunding(
        _ request: FundingRequest, through connection: String, order id: UUID, session: TenantSession, now: @Sendable () -> Date
    ) async throws -> OrderState? {
        var answer: FundingAnswer?
        var failure = "not configured on this data plane (its credential missing?)"  // another plane may have it
        if !partners.tenants.allows(connection, tenant: session.tenant.slug.value) {
            failure = "the connection is not available to this tenant"
        } else if let provider = partners.fundingProvider(named: connection) {
            do {
                answer = try await provider.request(request)
            } catch {
                failure = "\(error)"
            }
        }
        return try await session.run { [answer, failure] db in
            let store = RemittanceStore(db)
            if let answer {
                try await store.recordFundingRequest(id, answer, keys: keys)
            } else {
                db.logger.warning(
                    "funding provider did not make the request, asked again in 30 s",
                    metadata: ["partner": "\(connection)", "remittance_id": "\(id.lowercased)", "error": "\(failure)"])
                try await store.retryFundingRequest(id, at: db.now.addingTimeInterval(30))
            }
            return .awaitingFunding
        }
    }

    /// The partner call and its record, as a span in the trace the order was placed in (when tracing
    /// is on): the HTTP client's span and `traceparent` header, and the record's statements, go under it.
    func traced<Result>(_ call: Call, order: UUID, tenant: TenantRef, _ body: ((any Span)?) async throws -> Result) async throws -> Result {
        guard let tracer else { return try await body(nil) }
        return try await Traces.$tracer.withValue(tracer) {
            let span = tracer.startSpan("remittance payout", context: Traces.context(parent: call.traceParent), ofKind: .internal)
            span.updateAttributes {
                $0["nzila.tenant"] = tenant.slug.value
                $0["nzila.remittance_id"] = order.lowercased
                $0["nzila.payout.partner"] = call.partner
                $0["nzila.payout.attempt"] = call.attempt
            }
            defer { span.end() }
            return try await InstrumentationContext.$current.withValue(span.context) { try await body(span) }
        }
    }

    /// Step 1. Returns the order's state and the call to make, if any.
    func prepare(_ id: UUID, db: TenantDB, now: Date) async throws -> (OrderState, Call?)? {
        let store = RemittanceStore(db)
        guard let stored = try await store.find(id, lock: true, skipLocked: true) else { return nil }
        let order = stored.order
        switch order.state {
        case .awaitingFunding:
            if let expires = order.fundingExpiresAt, expires <= now {
                try await OrderReview.refund(db, order, by: .worker, through: nil, reason: "the funding did not arrive within its window")
                return (.cancelled, nil)
            }
            if let connection = stored.fundingConnection, stored.fundingReference == nil, let expires = order.fundingExpiresAt {
                guard let payer = try await db.query("SELECT full_name, email FROM members WHERE id = \(order.memberId.rawValue)").first((String, String).self)
                else { throw Problem.internalError }
                let request = FundingRequest(
                    reference: order.id.description, amount: order.totalDebit, payerName: payer.0, payerEmail: payer.1, expiresAt: expires,
                    callbackURL: fundingCallbackURL(db.tenant, connection))
                return (order.state, Call(partner: connection, attempt: 0, work: .funding(request), traceParent: stored.traceParent))
            }
            return (order.state, nil)
        case .converting:
            let journal = try await RemittanceLedger(db: db).convert(order)
            var changes = OrderChanges()
            changes.conversionJournal = journal.id.rawValue
            guard let partner = try await nextPartner(order, db: db) else {
                try await store.transition(id, from: .converting, to: .failed, reason: "no payout partner is available for \(order.corridor) by \(order.method)", by: .worker, changes: changes)
                return (try await failAndRefund(id, db: db), nil)
            }
            let attempt = plannedAttempt(order, partner: partner, changes: &changes, now: now)
            changes.attempt = .start(number: attempt, partner: partner)
            try await store.transition(id, from: .converting, to: .disbursing, reason: "converted; paying out through \(partner)", by: .worker, changes: changes)
            return (.disbursing, try await call(stored, partner: partner, attempt: attempt, db: db))
        case .disbursing:
            if let (partner, attempt) = try await db.query(
                "SELECT partner, attempt FROM partner_attempts WHERE remittance_id = \(id) AND status = 'pending' ORDER BY attempt DESC LIMIT 1"
            ).first((String, Int).self) {
                return (.disbursing, try await call(stored, partner: partner, attempt: attempt, db: db))
            }
            return try await failOver(stored, db: db, reason: "no attempt in flight", now: now)
        default:
            var changes = OrderChanges()
            changes.nextStep = .clear
            try await store.update(id, changes: changes)
            return (order.state, nil)
        }
    }

    /// A partner's verified status callback about an order (`PayoutCallbackRoutes`), applied as the worker applies the
    /// partner's answer to its own call: to the attempt that partner has in flight for the order, read under the
    /// order's lock (taken first, so the worker cannot settle the attempt in between). Returns the order's state
    /// afterwards (nil: that partner has no attempt in flight, e.g. the callback came after the worker settled it) and
    /// whether the worker must call a partner now (after a decline, the next).
    public func applyCallback(_ outcome: PayoutOutcome, partner: String, order id: UUID, db: TenantDB, now: Date) async throws -> (OrderState, Bool)? {
        guard let attempt = try await db.query(
            """
            SELECT a.attempt FROM remittances r JOIN partner_attempts a ON a.remittance_id = r.id
            WHERE r.id = \(id) AND a.partner = \(partner) AND a.status = 'pending' ORDER BY a.attempt DESC LIMIT 1
            FOR UPDATE OF r
            """
        ).first(Int.self) else { return nil }
        if outcome == .pending { return (.disbursing, false) }
        let (state, again) = try await record(outcome, partner: partner, attempt: attempt, order: id, db: db, now: now)
        partners.record(partner, failure: { if case .declined = outcome { true } else { false } }())
        if again {
            // The next partner's attempt is recorded; the worker calls it at its next look, due now.
            var changes = OrderChanges()
            changes.nextStep = .at(now)
            try await RemittanceStore(db).update(id, changes: changes)
        }
        return (state, again)
    }

    /// Step 3.
    func record(_ outcome: PayoutOutcome?, partner: String, attempt: Int, order id: UUID, db: TenantDB, now: Date) async throws -> (OrderState, Bool) {
        let store = RemittanceStore(db)
        guard let stored = try await store.find(id, lock: true) else { return (.disbursing, false) }
        guard stored.order.state == .disbursing else { return (stored.order.state, false) }
        switch outcome {
        case .paid(let transaction):
            // Under the order's lock, still disbursing: no other worker has settled it (they lock it too). The
            // attempt is settled in the transition's statement.
            let journal = try await RemittanceLedger(db: db).deliver(stored.order)
            var changes = OrderChanges()
            changes.deliveryJournal = journal.id.rawValue
            changes.partnerReference = transaction
            changes.nextStep = .clear
            changes.attempt = .paid(number: attempt, transaction: transaction)
            try await store.transition(id, from: .disbursing, to: .delivered, reason: "\(partner) paid the recipient (\(transaction))", by: .worker, changes: changes)
            try await TransferReporting.afterDelivery(db, order: stored.order, now: now)
            return (.delivered, false)
        case .declined(let reason):
            guard try await finishAttempt(id, attempt: attempt, status: "failed", transaction: nil, error: reason, db: db) else { return (.disbursing, false) }
            let (state, next) = try await failOver(stored, db: db, reason: reason, now: now) ?? (.disbursing, nil)
            return (state, next != nil)
        case .pending, nil:
            var changes = OrderChanges()
            let wait = min(300.0, 2.0 * Double(1 << min(stored.order.attempts, 7)))
            changes.nextStep = .at(now.addingTimeInterval(wait))
            try await store.update(id, changes: changes)
            return (.disbursing, false)
        }
    }

    /// After a declined attempt: the next partner (a new pending attempt), or failed → refunded.
    func failOver(_ stored: RemittanceStore.Stored, db: TenantDB, reason: String, now: Date) async throws -> (OrderState, Call?)? {
        let id = stored.order.id.rawValue
        guard stored.order.attempts < Self.maxAttempts, let partner = try await nextPartner(stored.order, db: db) else {
            try await RemittanceStore(db).transition(id, from: .disbursing, to: .failed, reason: "every payout partner declined (last: \(reason))", by: .worker)
            return (try await failAndRefund(id, db: db), nil)
        }
        var changes = OrderChanges()
        let attempt = try await startAttempt(stored.order, partner: partner, db: db, changes: &changes, now: now)
        try await RemittanceStore(db).update(id, changes: changes)
        return (.disbursing, try await call(stored, partner: partner, attempt: attempt, db: db))
    }

    func failAndRefund(_ id: UUID, db: TenantDB) async throws -> OrderState {
        guard let failed = try await RemittanceStore(db).find(id) else { throw Problem.internalError }
        try await OrderReview.refund(db, failed.order, by: .worker, through: nil, reason: "the payout failed")
        return .refunded
    }

    /// The next partner to try: the tenant's own list for the order's corridor and method (its `payouts` section), else
    /// the corridor's list in the platform's reference data; skipping those already tried for this order, those that do
    /// not pay by its method and those whose circuit breaker is open. One statement in the caller's transaction (read
    /// each time, so a tenant's new list applies to the next order at once).
    func nextPartner(_ order: RemittanceOrder, db: TenantDB) async throws -> String? {
        let row = try await db.query(
            """
            SELECT (SELECT partners FROM reference.corridors WHERE code = \(order.corridor)),
                   (SELECT value::text FROM tenant_config WHERE key = \(PayoutsSection.key)),
                   ARRAY(SELECT partner FROM partner_attempts WHERE remittance_id = \(order.id))
            """
        ).first(([String]?, String?, [String]).self)
        let chosen = db.read(PayoutsSection.self, from: row?.1)?.partners(corridor: order.corridor, method: order.method)
        return partners.next(corridorPartners: chosen ?? row?.0 ?? [], method: order.method, tried: Set(row?.2 ?? []), tenant: db.tenant.slug.value)?.name
    }

    /// The next attempt's number, with what the order records about it.
    func plannedAttempt(_ order: RemittanceOrder, partner: String, changes: inout OrderChanges, now: Date) -> Int {
        let attempt = order.attempts + 1
        changes.partner = partner
        changes.attempts = attempt
        // If this worker dies mid-call, another look after this long re-asks the partner.
        changes.nextStep = .at(now.addingTimeInterval(30))
        return attempt
    }

    /// A new pending attempt after a declined one (no state change to ride on).
    func startAttempt(_ order: RemittanceOrder, partner: String, db: TenantDB, changes: inout OrderChanges, now: Date) async throws -> Int {
        let attempt = plannedAttempt(order, partner: partner, changes: &changes, now: now)
        try await db.query(
            """
            INSERT INTO partner_attempts (remittance_id, attempt, partner, reference)
            VALUES (\(order.id), \(attempt), \(partner), \(order.id.description))
            """)
        return attempt
    }

    /// Settles a pending attempt; false when it was no longer pending.
    func finishAttempt(_ id: UUID, attempt: Int, status: String, transaction: String?, error: String?, db: TenantDB) async throws -> Bool {
        try await db.query(
            """
            UPDATE partner_attempts SET status = \(status), partner_transaction = \(transaction), error = \(error.map { String($0.prefix(1000)) }),
                finished_at = clock_timestamp()
            WHERE remittance_id = \(id) AND attempt = \(attempt) AND status = 'pending' RETURNING 1
            """
        ).first(Int.self) != nil
    }

    func call(_ stored: RemittanceStore.Stored, partner: String, attempt: Int, db: TenantDB) async throws -> Call {
        guard let box = stored.sealed, let keyID = stored.keyID else { throw Problem.internalError }
        let recipient = try await RecipientSeal.open(box, keyID: keyID, order: stored.order.id.rawValue, db: db, keys: keys)
        // The sender as partners are told (the travel rule): the member's name; members live in Canada.
        let sender = try await db.query("SELECT full_name FROM members WHERE id = \(stored.order.memberId.rawValue)").first(String.self)
        return Call(partner: partner, attempt: attempt, work: .payout(PayoutInstruction(
            reference: stored.order.id.description, corridor: stored.order.corridor, amount: stored.order.receive, recipient: recipient,
            sender: sender.map { PayoutSender(name: $0, country: "CA") }, callbackURL: callbackURL(db.tenant, "/v1/webhooks/payouts/\(partner)"))),
            traceParent: stored.traceParent)
    }
}
