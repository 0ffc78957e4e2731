import Compliance
import Foundation
import NzilaCore
import NzilaDatabase
import PostgresNIO

/// Orders in the tenant's schema (Migrations/tenant/0010). Every state change writes its status-log
/// row and its outbox event in the same statement as the change itself, so none can exist without
/// the others; an UPDATE that finds the order no longer in the expected state changes nothing.
public struct RemittanceStore {
    let db: TenantDB

    public init(_ db: TenantDB) { self.db = db }

    /// A new order as `OrderPlacement` decided it, written at the last state of `path` (created first).
    public struct NewOrder: Sendable {
        public let id: UUID
        public let memberID: UUID
        public let quote: QuoteRecord
        public let recipient: Recipient
        public let sealed: (keyID: Int, box: Data)?
        public let funding: String
        public let sourceAccount: UUID?
        public let changes: OrderChanges
        public let holdReasons: [String]
        /// The fraud model's score of the order, kept with the decision (nil: no model).
        public var fraud: FraudAssessment? = nil
        public let deviceID: String?
        public let fundingExpiresAt: Date?
        /// The registry connection an Interac or card order is funded through.
        public var fundingConnection: String? = nil
        /// Each step with its reason; the first starts from nothing.
        public let path: [(state: OrderState, reason: String)]
        /// The placing request's trace, for the payout worker to continue (nil: tracing off).
        public let traceParent: String?
    }

    public func insert(_ order: NewOrder, by actor: OrderActor) async throws {
        precondition(order.path.first?.state == .created, "an order starts created")
        let states = order.path.map(\.state)
        for (from, to) in zip(states, states.dropFirst()) { precondition(from.next.contains(to), "illegal path \(from) → \(to)") }
        // Each step's from-state; the first step starts from nothing ('' becomes NULL in SQL).
        let froms = [""] + states.dropLast().map(\.rawValue)
        let quote = order.quote.quote
        let view = String(decoding: try JSONEncoder.api.encode(RemittanceOrder.RecipientView(order.recipient)), as: UTF8.self)
        var decided: [String: Any] = ["hold_reasons": order.holdReasons]
        if let fraud = order.fraud { decided["fraud"] = fraud.json }
        let decision = String(decoding: try JSONSerialization.data(withJSONObject: decided, options: [.sortedKeys]), as: UTF8.self)
        let c = order.changes
        let next = c.nextStep.binds.date
        let events = try Outbox.Batch(zip([nil] + states.dropLast().map(Optional.some), order.path).map { from, step in
            RemittanceStateChanged(remittance: order.id, from: from, state: step.state, reason: step.reason, actorRole: actor.role)
                .to([order.memberID])
        })
        do {
            try await db.query(
                """
                WITH o AS (
                    INSERT INTO remittances (id, member_id, quote_id, corridor, method, send_minor, fee_minor, total_debit_minor, receive_currency,
                        receive_minor, mid_rate, customer_rate, spread_minor, recipient, recipient_sealed, key_id, state, funding, source_account_id,
                        hold_id, funding_journal_id, decision, device_id, next_step_at, funding_expires_at, created_by, trace_parent, created_at,
                        funding_connection)
                    VALUES (\(order.id), \(order.memberID), \(order.quote.id), \(quote.corridor), \(quote.method), \(quote.send.minorUnits),
                        \(quote.fee.minorUnits), \(quote.totalDebit.minorUnits), \(quote.receive.currency.code), \(quote.receive.minorUnits),
                        \(quote.midRate)::numeric, \(quote.customerRate)::numeric, \(quote.spread.minorUnits), \(view)::jsonb, \(order.sealed?.box),
                        \(order.sealed?.keyID), \(order.path.last!.state.rawValue), \(order.funding), \(order.sourceAccount), \(c.holdID),
                        \(c.fundingJournal), \(decision)::jsonb, \(order.deviceID), \(next), \(order.fundingExpiresAt), \(actor.id),
                        \(order.traceParent), \(db.now), \(order.fundingConnection))
                    RETURNING id),
                steps AS (SELECT * FROM unnest(\(froms)::text[], \(states.map(\.rawValue))::text[],
                                               \(order.path.map(\.reason))::text[]) WITH ORDINALITY AS s(f, t, r, n)),
                logged AS (
                    INSERT INTO remittance_status_log (remittance_id, from_state, to_state, actor, actor_role, reason)
                    SELECT o.id, nullif(f, ''), t, \(actor.id), \(actor.role), r FROM o, steps ORDER BY n)
                INSERT INTO outbox_events (topic, aggregate_id, payload)
                SELECT e.t, e.a, e.p::jsonb FROM o,
                    unnest(\(events.types)::text[], \(events.aggregates)::uuid[], \(events.payloads)::text[]) WITH ORDINALITY AS e(t, a, p, n)
                ORDER BY e.n
                """)
        } catch where DatabaseErrors.sqlState(error) == "23505" {
            // Another order took this quote between our read of it and this insert (its member's lock
            // serialises them, but the quote was read before the lock): nothing of this one is kept.
            throw Problem(.conflict, "quote-used", "Quote used", detail: "Quote \(order.quote.id) already has an order.")
        }
        Observability.count("nzila_remittance_transitions_total", [("state", order.path.last!.state.rawValue)])
    }

    /// Moves an order from `from` to `to` if it is still in `from`; false when it no longer is (someone
    /// else moved it first). The caller has checked the edge with `OrderState.transition`.
    @discardableResult
    public func transition(_ id: UUID, from: OrderState, to: OrderState, reason: String, by actor: OrderActor, changes c: OrderChanges = OrderChanges())
        async throws -> Bool
    {
        precondition(from.next.contains(to), "illegal transition \(from) → \(to)")
        let (keepNext, next) = c.nextStep.binds
        let started: (number: Int, partner: String)? = { if case .start(let number, let partner) = c.attempt { return (number, partner) } else { return nil } }()
        let paid: (number: Int, transaction: String)? = { if case .paid(let number, let transaction) = c.attempt { return (number, transaction) } else { return nil } }()
        let event = try Outbox.Batch([RemittanceStateChanged(remittance: id, from: from, state: to, reason: reason, actorRole: actor.role)])
        let moved = try await db.query(
            """
            WITH moved AS (
                UPDATE remittances SET state = \(to.rawValue), hold_id = coalesce(\(c.holdID), hold_id),
                    funding_journal_id = coalesce(\(c.fundingJournal), funding_journal_id),
                    conversion_journal_id = coalesce(\(c.conversionJournal), conversion_journal_id),
                    delivery_journal_id = coalesce(\(c.deliveryJournal), delivery_journal_id),
                    partner = coalesce(\(c.partner), partner), partner_reference = coalesce(\(c.partnerReference), partner_reference),
                    attempts = coalesce(\(c.attempts), attempts),
                    next_step_at = CASE WHEN \(keepNext) THEN next_step_at ELSE \(next)::timestamptz END
                WHERE id = \(id) AND state = \(from.rawValue) RETURNING id, member_id),
            logged AS (
                INSERT INTO remittance_status_log (remittance_id, from_state, to_state, actor, actor_role, reason)
                SELECT id, \(from.rawValue), \(to.rawValue), \(actor.id), \(actor.role), \(String(reason.prefix(2000))) FROM moved),
            attempted AS (
                INSERT INTO partner_attempts (remittance_id, attempt, partner, reference)
                SELECT id, \(started?.number ?? 0), \(started?.partner ?? ""), id::text FROM moved WHERE \(started != nil)),
            settled AS (
                UPDATE partner_attempts SET status = 'succeeded', partner_transaction = \(paid?.transaction), finished_at = clock_timestamp()
                WHERE \(paid != nil) AND remittance_id = \(id) AND attempt = \(paid?.number ?? 0) AND status = 'pending'
                  AND EXISTS (SELECT 1 FROM moved))
            INSERT INTO outbox_events (topic, aggregate_id, payload, audience)
            SELECT e.t, e.a, e.p::jsonb, ARRAY[moved.member_id]
            FROM moved, unnest(\(event.types)::text[], \(event.aggregates)::uuid[], \(event.payloads)::text[]) AS e(t, a, p)
            RETURNING 1
            """
        ).first(Int.self)
        if moved != nil { Observability.count("nzila_remittance_transitions_total", [("state", to.rawValue)]) }
        return moved != nil
    }

    /// Names the compliance case holding the order (opened after the order, which it references).
    public func attachCase(_ caseID: UUID, to order: UUID) async throws {
        try await db.query("UPDATE remittances SET case_id = \(caseID) WHERE id = \(order)")
    }

    /// Changes what the worker knows without a state change (an attempt, the next look).
    public func update(_ id: UUID, changes c: OrderChanges) async throws {
        let (keepNext, next) = c.nextStep.binds
        try await db.query(
            """
            UPDATE remittances SET partner = coalesce(\(c.partner), partner), partner_reference = coalesce(\(c.partnerReference), partner_reference),
                attempts = coalesce(\(c.attempts), attempts), next_step_at = CASE WHEN \(keepNext) THEN next_step_at ELSE \(next)::timestamptz END
            WHERE id = \(id)
            """)
    }

    /// Every column an order is read with: the status log when asked for (else NULL), and the list
    /// cursor's position (microseconds of created_at).
    static func columns(log: Bool) -> String {
        """
        id, member_id, quote_id, corridor, method, send_minor, fee_minor, receive_currency::text, receive_minor, mid_rate::text, customer_rate::text,
        spread_minor, recipient::text, state, funding, source_account_id, hold_id, funding_journal_id, conversion_journal_id, delivery_journal_id,
        case_id, coalesce(decision->'hold_reasons', '[]')::text, partner, attempts, funding_expires_at, created_at, updated_at, key_id, recipient_sealed,
        \(log ? logColumn : "NULL::text"), (extract(epoch FROM created_at) * 1000000)::int8, trace_parent, funding_connection, funding_reference
        """
    }
    typealias Row = (
        UUID, UUID, UUID, String, String, Int64, Int64, String, Int64, String, String, Int64, String, String, String, UUID?, UUID?, UUID?, UUID?, UUID?,
        UUID?, String, String?, Int, Date?, Date, Date, Int?, Data?, String?, Int64, String?, String?, String?
    )

    /// An order as stored, with its sealed recipient for the worker.
    public struct Stored: Sendable {
        public var order: RemittanceOrder
        public let keyID: Int?
        public let sealed: Data?
        /// The placing request's `traceparent` (nil: it was not traced).
        public let traceParent: String?
        /// The registry connection an Interac or card order is funded through, and the provider's request for it (nil:
        /// not asked for yet).
        public var fundingConnection: String? = nil
        public var fundingReference: String? = nil
    }

    static func stored(_ row: Row) throws -> Stored {
        guard let receive = Currency(code: row.7), let state = OrderState(rawValue: row.13) else { throw Problem.internalError }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let recipient = try decoder.decode(RemittanceOrder.RecipientView.self, from: Data(row.12.utf8))
        let reasons = (try? JSONDecoder().decode([String].self, from: Data(row.21.utf8))) ?? []
        let order = RemittanceOrder(
            id: RemittanceID(row.0), memberId: MemberID(row.1), quoteId: QuoteID(row.2), corridor: row.3, method: row.4,
            send: Money(minorUnits: row.5, currency: .cad), fee: Money(minorUnits: row.6, currency: .cad),
            totalDebit: Money(minorUnits: row.5 + row.6, currency: .cad), receive: Money(minorUnits: row.8, currency: receive), midRate: row.9,
            customerRate: row.10, spread: Money(minorUnits: row.11, currency: receive), recipient: recipient, state: state, funding: row.14,
            sourceAccountId: row.15.map { AccountID($0) }, holdId: row.16.map { HoldID($0) }, fundingJournalId: row.17.map { JournalID($0) },
            conversionJournalId: row.18.map { JournalID($0) }, deliveryJournalId: row.19.map { JournalID($0) }, caseId: row.20.map { CaseID($0) }, holdReasons: reasons,
            partner: row.22, attempts: row.23, fundingExpiresAt: row.24, createdAt: row.25, updatedAt: row.26, statusLog: nil)
        var stored = Stored(order: order, keyID: row.27, sealed: row.28, traceParent: row.31, fundingConnection: row.32, fundingReference: row.33)
        if let log = row.29 {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            decoder.dateDecodingStrategy = .millisecondsSince1970
            stored.order.statusLog = try decoder.decode([RemittanceOrder.LogEntry].self, from: Data(log.utf8))
        }
        return stored
    }

    /// A funding provider's request for an order awaiting its money, recorded once: the member reads it (the link or
    /// client secret) from `GET /v1/remittances/{id}/funding`; the order next looks when its window closes.
    public func recordFundingRequest(_ id: UUID, _ answer: FundingAnswer, keys: TenantDataKeys) async throws {
        let sealed = try await answer.clientSecret.asyncMap {
            try await RecipientSeal.seal(Data($0.utf8), order: id, purpose: Self.clientSecretPurpose, db: db, keys: keys)
        }
        try await db.query(
            """
            UPDATE remittances SET funding_reference = \(answer.reference), funding_url = \(answer.url),
                funding_secret_sealed = \(sealed?.box), funding_secret_key = \(sealed?.keyID), next_step_at = funding_expires_at, updated_at = \(db.now)
            WHERE id = \(id) AND state = 'awaiting_funding' AND funding_reference IS NULL
            """)
    }

    static let clientSecretPurpose = "remittance-funding-secret"

    /// The provider could not make the request: look again at `at` (never past the funding window).
    public func retryFundingRequest(_ id: UUID, at: Date) async throws {
        try await db.query(
            """
            UPDATE remittances SET next_step_at = least(\(at), funding_expires_at)
            WHERE id = \(id) AND state = 'awaiting_funding' AND funding_reference IS NULL
            """)
    }

    /// What a member needs to pay an order funded through a provider: the connection, the provider's reference, and
    /// the payment link or client secret (nil: not an order funded so, or not the member's).
    /// `openSecret`: unseal the client secret (for the order's member only).
    public func fundingRequest(_ id: UUID, member: UUID?, openSecret: Bool, keys: TenantDataKeys) async throws
        -> (funding: String, connection: String, reference: String?, url: String?, secret: String?, state: String)?
    {
        guard let row = try await db.query(
            """
            SELECT funding, funding_connection, funding_reference, funding_url, funding_secret_sealed, funding_secret_key, state FROM remittances
            WHERE id = \(id) AND funding_connection IS NOT NULL AND (\(member)::uuid IS NULL OR member_id = \(member))
            """
        ).first((String, String, String?, String?, Data?, Int?, String).self) else { return nil }
        var secret: String?
        if openSecret, let box = row.4, let key = row.5 {
            secret = String(decoding: try await RecipientSeal.open(box, keyID: key, order: id, purpose: Self.clientSecretPurpose, db: db, keys: keys), as: UTF8.self)
        }
        return (row.0, row.1, row.2, row.3, secret, row.6)
    }

    /// A provider event that moves no money (a failed card payment, an event type not acted on), recorded once: false
    /// when its id was seen before.
    public func recordProviderEvent(provider: String, event: String, order: UUID?, outcome: String) async throws -> Bool {
        try await db.query(
            """
            INSERT INTO webhook_events (provider, event_id, remittance_id, outcome)
            SELECT \(provider), \(event), (SELECT id FROM remittances WHERE id = \(order)), \(outcome)
            ON CONFLICT DO NOTHING RETURNING 1
            """
        ).first(Int.self) != nil
    }

    /// One order; `member` limits it to that member's; `lock` takes its row lock (`skipLocked`: or
    /// nothing); `log` brings its status log in the same statement.
    public func find(_ id: UUID, member: UUID? = nil, lock: Bool = false, skipLocked: Bool = false, log: Bool = false) async throws -> Stored? {
        let locking = lock ? (skipLocked ? "FOR UPDATE SKIP LOCKED" : "FOR UPDATE") : ""
        return try await db.query(
            """
            SELECT \(unescaped: Self.columns(log: log)) FROM remittances
            WHERE id = \(id) AND (\(member)::uuid IS NULL OR member_id = \(member)) \(unescaped: locking)
            """
        ).first(Row.self).map(Self.stored)
    }

    /// The status log as JSON, oldest first, times in milliseconds since 1970 (the API shows milliseconds).
    static let logColumn = """
        (SELECT coalesce(json_agg(json_build_object('from_state', l.from_state, 'to_state', l.to_state, 'actor', l.actor, 'actor_role', l.actor_role,
                'reason', l.reason, 'at', floor(extract(epoch FROM l.created_at) * 1000)::int8) ORDER BY l.id), '[]')
         FROM remittance_status_log l WHERE l.remittance_id = remittances.id)::text
        """

    /// A member's orders (or every order, for staff), newest first, stable while orders are added.
    public func list(member: UUID?, page: PageRequest) async throws -> Page<RemittanceOrder> {
        let after = page.after
        let rows = try await db.query(
            """
            SELECT \(unescaped: Self.columns(log: false)) FROM remittances
            WHERE (\(member)::uuid IS NULL OR member_id = \(member))
              AND (\(after == nil) OR (created_at, id) < ('epoch'::timestamptz + \(after?.position ?? 0) * interval '1 microsecond', \(after?.id ?? UUID())))
            ORDER BY created_at DESC, id DESC LIMIT \(page.limit + 1)
            """
        ).all(Row.self)
        return page.page(of: try rows.map { (try Self.stored($0).order, $0.30, $0.0) }, item: { $0.0 }, cursor: { PageCursor(position: $0.1, id: $0.2) })
    }

    /// Orders due for the worker (their next step time has come), oldest first, at most `limit`.
    public func due(now: Date, limit: Int) async throws -> [UUID] {
        try await db.query(
            "SELECT id FROM remittances WHERE next_step_at <= \(now) ORDER BY next_step_at LIMIT \(limit)"
        ).all(UUID.self)
    }
}

extension RemittanceStateChanged: OutboxEvent {
    public var type: String { state.event }
    public var aggregateID: UUID { remittanceId }
}

extension RemittanceStore {
    /// An order's recipient and its card payment's client secret, sealed under the tenant's data key (re-sealed by
    /// `nzila keys rotate-data-key`).
    public static let sealedColumns = [
        SealedColumn(table: "remittances", sealed: "recipient_sealed") { tenant, row in
            RecipientSeal.binding(tenant: tenant, order: row[0], purpose: "remittance-recipient")
        },
        SealedColumn(table: "remittances", sealed: "funding_secret_sealed", keyID: "funding_secret_key") { tenant, row in
            RecipientSeal.binding(tenant: tenant, order: row[0], purpose: clientSecretPurpose)
        },
    ]
}
