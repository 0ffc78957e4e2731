import Foundation
import Ledger
import NzilaCore
import NzilaDatabase
import PostgresNIO

/// Who moved a loan: a member, staff, or the scheduler (`ChangeActor.system`).
public typealias LoanActor = ChangeActor

/// The decision as stored with the loan: everything needed to replay it.
public struct LoanDecision: Codable, Sendable, Equatable {
    public struct StaffDecision: Codable, Sendable, Equatable {
        public let decision: Scorecard.Decision
        public let reason: String
        public let role: String
    }

    public let inputs: Scorecard.Inputs
    public let result: Scorecard.Result
    public let approveAt: Int
    public let declineBelow: Int
    /// The staff's decision on a referred application.
    public var staff: StaffDecision?

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }()
}

/// A loan as stored.
public struct Loan: Sendable {
    public let id: LoanID
    public let member: MemberID
    public let product: LoanProductID
    public let productVersion: Int
    public let principal: Money
    public let term: Int
    public let frequency: Frequency
    public let annualRateBps: Int
    public let method: LoanMethod
    public let graceInstalments: Int
    public let feeMinor: Int64
    public let penaltyFixedMinor: Int64
    public let penaltyBps: Int
    public let penaltyGraceDays: Int
    public let apr: Decimal
    public let capBps: Int
    public let purpose: String
    public let account: AccountID
    public let autopay: Bool
    public let state: LoanState
    /// The score the decision gave (its column; the decision itself is decoded only to be shown).
    public let score: Int
    /// The stored decision, as JSON: repayments and the scheduler never need it, so it is read with
    /// the loan but decoded only by `decision()`.
    let decisionJSON: String
    public let disbursedOn: Day?
    public let principalOutstandingMinor: Int64
    public let writtenOffMinor: Int64
    public let bucket: DelinquencyBucket?
    public let createdAt: Date
    public let closedAt: Date?
    let position: Int64

    public var currency: Currency { principal.currency }

    /// The decision with its inputs, lines, reasons and cut-offs.
    public func decision() throws -> LoanDecision {
        do {
            return try LoanDecision.decoder.decode(LoanDecision.self, from: Data(decisionJSON.utf8))
        } catch {
            throw Problem.internalError
        }
    }

    /// The loan's terms, for its schedule from `day`.
    public func terms(disbursedOn day: Day) -> LoanTerms? {
        LoanTerms.disbursed(
            on: day, principalMinor: principal.minorUnits, currency: currency, annualRateBps: annualRateBps, instalments: term, frequency: frequency,
            method: method, graceInstalments: graceInstalments)
    }
}

/// Loans, their schedules and repayments in the tenant's schema (Migrations/tenant/0014). A state
/// change writes its status-log row and its outbox event in the same statement as the change.
public struct LoanStore {
    let db: TenantDB

    public init(_ db: TenantDB) { self.db = db }

    static let columns = """
        l.id, l.member_id, l.product_id, l.product_version, l.currency::text, l.principal_minor, l.term, l.frequency, l.annual_rate_bps, l.method,
        l.grace_instalments, l.fee_minor, l.penalty_fixed_minor, l.penalty_bps, l.penalty_grace_days, l.apr::text, l.cap_bps, l.purpose, l.account_id,
        l.autopay, l.state, l.decision::text, l.disbursed_on::text, l.principal_outstanding_minor, l.written_off_minor, l.bucket, l.created_at, l.closed_at,
        (extract(epoch FROM l.created_at) * 1000000)::int8, l.score
        """
    typealias Row = (
        UUID, UUID, UUID, Int, String, Int64, Int, String, Int, String, Int, Int64, Int64, Int, Int, String, Int, String, UUID, Bool, String, String,
        String?, Int64, Int64, String?, Date, Date?, Int64, Int
    )

    static func loan(_ r: Row) throws -> Loan {
        guard let currency = Currency(code: r.4), let apr = Decimal(string: r.15, locale: Locale(identifier: "en_US_POSIX")) else { throw Problem.internalError }
        return Loan(
            id: LoanID(r.0), member: MemberID(r.1), product: LoanProductID(r.2), productVersion: r.3, principal: Money(minorUnits: r.5, currency: currency),
            term: r.6, frequency: try .stored(r.7), annualRateBps: r.8, method: try .stored(r.9), graceInstalments: r.10, feeMinor: r.11,
            penaltyFixedMinor: r.12, penaltyBps: r.13, penaltyGraceDays: r.14, apr: apr, capBps: r.16, purpose: r.17, account: AccountID(r.18),
            autopay: r.19, state: try .stored(r.20), score: r.29, decisionJSON: r.21, disbursedOn: r.22.flatMap(Day.init), principalOutstandingMinor: r.23,
            writtenOffMinor: r.24, bucket: try r.25.map { try .stored($0) }, createdAt: r.26, closedAt: r.27, position: r.28)
    }

    /// A new application, in the state its score decided, with its log row and its events (submitted,
    /// then the decision) in one statement.
    public struct Application: Sendable {
        public let id: LoanID
        public let member: MemberID
        public let product: LoanProduct
        public let quote: LoanQuote
        public let purpose: String
        public let account: AccountID
        public let autopay: Bool
        public let capBps: Int
        public let decision: LoanDecision
    }

    /// Returns the loan as stored (no second read).
    public func create(_ a: Application, by actor: LoanActor) async throws -> Loan {
        let state: LoanState = switch a.decision.result.decision {
        case .approved: .approved
        case .referred: .referred
        case .declined: .declined
        }
        let reason = "score \(a.decision.result.score): " + a.decision.result.reasons.map { "\($0.factor.rawValue) \($0.points > 0 ? "+" : "")\($0.points)" }.joined(separator: ", ")
        let submitted = LoanStateChanged(loan: a.id, member: a.member, from: nil, state: .submitted, reason: "application", actorRole: actor.role)
        let decided = LoanStateChanged(loan: a.id, member: a.member, from: .submitted, state: state, reason: reason, actorRole: "system")
        let events = try Outbox.Batch([submitted, decided])
        let decision = String(decoding: try JSONEncoder.api.encode(a.decision), as: UTF8.self)
        let t = a.product.terms
        let apr = a.quote.apr.map { NSDecimalNumber(decimal: $0).stringValue } ?? "0"
        let row = try await db.query(
            """
            WITH made AS (
                INSERT INTO loans (id, member_id, product_id, product_version, currency, principal_minor, term, frequency, annual_rate_bps, method,
                    grace_instalments, fee_minor, penalty_fixed_minor, penalty_bps, penalty_grace_days, apr, cap_bps, purpose, account_id, autopay,
                    state, score, decision, created_by, created_by_role, created_at)
                VALUES (\(a.id), \(a.member), \(a.product.id), \(a.product.version), \(t.currency.code), \(a.quote.terms.principalMinor),
                    \(a.quote.terms.instalments), \(t.frequency.rawValue), \(t.annualRateBps), \(t.method.rawValue), \(t.graceInstalments),
                    \(a.quote.feeMinor), \(t.penaltyFixedMinor), \(t.penaltyBps), \(t.penaltyGraceDays), \(apr)::numeric, \(a.capBps), \(a.purpose),
                    \(a.account), \(a.autopay), \(state.rawValue), \(a.decision.result.score), \(decision)::jsonb, \(actor.id), \(actor.role), \(db.now))
                RETURNING *),
            logged AS (
                INSERT INTO loan_status_log (loan_id, from_state, to_state, actor, actor_role, reason, created_at)
                SELECT id, NULL, 'submitted', \(actor.id), \(actor.role), 'application', \(db.now) FROM made
                UNION ALL
                SELECT id, 'submitted', \(state.rawValue), NULL, 'system', \(reason), \(db.now) FROM made),
            announced AS (
                INSERT INTO outbox_events (topic, aggregate_id, payload)
                SELECT e.t, e.a, e.p::jsonb FROM made, unnest(\(events.types)::text[], \(events.aggregates)::uuid[], \(events.payloads)::text[]) AS e(t, a, p))
            SELECT \(unescaped: Self.columns) FROM made l
            """
        ).first(Row.self)
        guard let row else { throw Problem.internalError }
        return try Self.loan(row)
    }

    public func find(_ id: LoanID, member: MemberID? = nil, lock: Bool = false) async throws -> Loan? {
        try await db.query(
            """
            SELECT \(unescaped: Self.columns) FROM loans l
            WHERE l.id = \(id) AND (\(member)::uuid IS NULL OR l.member_id = \(member)) \(unescaped: lock ? "FOR UPDATE" : "")
            """
        ).first(Row.self).map(Self.loan)
    }

    /// The loan (locked when asked) and its booked instalments: the instalments come back as one
    /// flat int8 array, eleven numbers each (the due date as days since 1970). One round trip to
    /// read; two to lock, because a statement reads other tables at the snapshot it started with: a
    /// `FOR UPDATE` that waited for another repayment's COMMIT would see the loan's new row but that
    /// repayment's instalments as they were. So the lock is its own statement, and the read after it
    /// sees everything committed before the lock was granted.
    public func findWithBook(_ id: LoanID, member: MemberID? = nil, lock: Bool = false) async throws -> (Loan, [BookedInstalment])? {
        if lock {
            let locked = try await db.query(
                "SELECT 1 FROM loans WHERE id = \(id) AND (\(member)::uuid IS NULL OR member_id = \(member)) FOR UPDATE"
            ).first(Int.self)
            guard locked != nil else { return nil }
        }
        let rows = try await db.query(
            """
            SELECT \(unescaped: Self.columns),
                   ARRAY(SELECT u.x FROM loan_instalments i,
                             unnest(ARRAY[i.number, i.due_date - date '1970-01-01', i.principal_minor, i.interest_minor, i.fee_minor, i.penalty_minor,
                                          i.principal_paid_minor, i.interest_paid_minor, i.fee_paid_minor, i.penalty_paid_minor,
                                          i.penalty_charged::int, i.reminded::int]::int8[]) WITH ORDINALITY AS u(x, k)
                         WHERE i.loan_id = l.id ORDER BY i.number, u.k)
            FROM loans l
            WHERE l.id = \(id) AND (\(member)::uuid IS NULL OR l.member_id = \(member))
            """
        ).first((
            UUID, UUID, UUID, Int, String, Int64, Int, String, Int, String, Int, Int64, Int64, Int, Int, String, Int, String, UUID, Bool, String, String,
            String?, Int64, Int64, String?, Date, Date?, Int64, Int, [Int64]
        ).self)
        guard let r = rows else { return nil }
        let loan = try Self.loan((r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9, r.10, r.11, r.12, r.13, r.14, r.15, r.16, r.17, r.18, r.19, r.20, r.21, r.22, r.23, r.24, r.25, r.26, r.27, r.28, r.29))
        let flat = r.30
        guard flat.count % 12 == 0 else { throw Problem.internalError }
        let book = try stride(from: 0, to: flat.count, by: 12).map { i -> BookedInstalment in
            guard let due = Day(ordinal: Int(flat[i + 1])) else { throw Problem.internalError }
            return BookedInstalment(
                number: Int(flat[i]), dueDate: due, principalMinor: flat[i + 2], interestMinor: flat[i + 3], feeMinor: flat[i + 4], penaltyMinor: flat[i + 5],
                principalPaidMinor: flat[i + 6], interestPaidMinor: flat[i + 7], feePaidMinor: flat[i + 8], penaltyPaidMinor: flat[i + 9],
                penaltyCharged: flat[i + 10] != 0, reminded: flat[i + 11] != 0)
        }
        return (loan, book)
    }

    /// What changes beside the state (disbursement, write-off, closing).
    public struct Change: Sendable {
        public var disbursedOn: Day?
        public var disbursementJournal: JournalID?
        public var principalOutstandingMinor: Int64?
        public var writtenOffMinor: Int64?
        public var writeOffJournal: JournalID?
        public var nextActionAt: Date?
        public var clearsSchedule = false
        public var decision: LoanDecision?

        public init() {}
    }

    /// Moves the loan from `from` to `to` with its log row and event in one statement, and returns it
    /// as it now is; nil when it was no longer in `from` (a lost race changes nothing).
    @discardableResult
    public func transition(_ loan: Loan, from: LoanState, to: LoanState, reason: String, by actor: LoanActor, change: Change = Change()) async throws -> Loan? {
        precondition(from.next.contains(to), "illegal transition \(from) → \(to)")
        let event = try Outbox.Batch([LoanStateChanged(loan: loan.id, member: loan.member, from: from, state: to, reason: reason, actorRole: actor.role)])
        let decision = try change.decision.map { String(decoding: try JSONEncoder.api.encode($0), as: UTF8.self) }
        let moved = try await db.query(
            """
            WITH moved AS (
                UPDATE loans SET state = \(to.rawValue),
                    disbursed_on = coalesce(\(change.disbursedOn?.description)::date, disbursed_on),
                    disbursement_journal_id = coalesce(\(change.disbursementJournal), disbursement_journal_id),
                    principal_outstanding_minor = coalesce(\(change.principalOutstandingMinor)::int8, principal_outstanding_minor),
                    written_off_minor = coalesce(\(change.writtenOffMinor)::int8, written_off_minor),
                    write_off_journal_id = coalesce(\(change.writeOffJournal), write_off_journal_id),
                    decision = coalesce(\(decision)::jsonb, decision),
                    next_action_at = CASE WHEN \(change.clearsSchedule) THEN NULL ELSE coalesce(\(change.nextActionAt), next_action_at) END,
                    bucket = CASE WHEN \(to.isFinal) THEN NULL ELSE bucket END,
                    closed_at = CASE WHEN \(to.isFinal) THEN \(db.now) ELSE closed_at END
                WHERE id = \(loan.id) AND state = \(from.rawValue) RETURNING *),
            logged AS (
                INSERT INTO loan_status_log (loan_id, from_state, to_state, actor, actor_role, reason, created_at)
                SELECT id, \(from.rawValue), \(to.rawValue), \(actor.id), \(actor.role), \(String(reason.prefix(2000))), \(db.now) FROM moved),
            announced AS (
                INSERT INTO outbox_events (topic, aggregate_id, payload)
                SELECT e.t, e.a, e.p::jsonb FROM moved, unnest(\(event.types)::text[], \(event.aggregates)::uuid[], \(event.payloads)::text[]) AS e(t, a, p))
            SELECT \(unescaped: Self.columns) FROM moved l
            """
        ).first(Row.self)
        return try moved.map(Self.loan)
    }

    // MARK: Schedule

    public func insertSchedule(_ loan: LoanID, _ schedule: [Instalment]) async throws {
        try await db.query(
            """
            INSERT INTO loan_instalments (loan_id, number, due_date, principal_minor, interest_minor, fee_minor)
            SELECT \(loan), n, d::date, p, i, f
            FROM unnest(\(schedule.map(\.number))::int[], \(schedule.map(\.dueDate.description))::text[], \(schedule.map(\.principalMinor))::int8[],
                        \(schedule.map(\.interestMinor))::int8[], \(schedule.map(\.feeMinor))::int8[]) AS s(n, d, p, i, f)
            """)
    }

    /// A repayment: its row, its parts, the instalments' paid amounts (and the day each is paid in
    /// full), the loan's principal outstanding and schedule, and its event, in one statement. When it
    /// closes the loan, the instalments' unearned interest is marked rebated.
    public struct Received: Sendable {
        public let id: LoanRepaymentID
        public let kind: RepaymentKind
        public let account: AccountID
        public let amountMinor: Int64
        public let parts: [RepaymentPart]
        public let journal: JournalID
        public let principalOutstandingMinor: Int64
        public let bucket: DelinquencyBucket?
        public let daysPastDue: Int
        public let nextActionAt: Date?
        public let closes: Bool
    }

    public func record(_ loan: Loan, _ r: Received, today: Day) async throws {
        let sum = { (f: (RepaymentPart) -> Int64) in r.parts.reduce(0) { $0 + f($1) } }
        var events: [any OutboxEvent] = [
            LoanRepaymentReceived(
                loanId: loan.id, repaymentId: r.id, kind: r.kind, amount: Money(minorUnits: r.amountMinor, currency: loan.currency),
                penaltyMinor: sum(\.penaltyMinor), feeMinor: sum(\.feeMinor), interestMinor: sum(\.interestMinor), principalMinor: sum(\.principalMinor),
                principalOutstanding: Money(minorUnits: r.principalOutstandingMinor, currency: loan.currency))
        ]
        if r.bucket != loan.bucket, !r.closes {
            events.append(LoanDelinquencyChanged(loanId: loan.id, from: loan.bucket, bucket: r.bucket, daysPastDue: r.daysPastDue))
        }
        let batch = try Outbox.Batch(events.map { $0.to([loan.member.rawValue]) })
        try await db.query(
            """
            WITH paid AS (
                INSERT INTO loan_repayments (id, loan_id, kind, account_id, amount_minor, penalty_minor, fee_minor, interest_minor, principal_minor,
                    journal_id, created_at)
                VALUES (\(r.id), \(loan.id), \(r.kind.rawValue), \(r.account), \(r.amountMinor), \(sum(\.penaltyMinor)), \(sum(\.feeMinor)),
                    \(sum(\.interestMinor)), \(sum(\.principalMinor)), \(r.journal), \(db.now))
                RETURNING id),
            parts AS (
                INSERT INTO loan_repayment_parts (repayment_id, loan_id, number, penalty_minor, fee_minor, interest_minor, principal_minor)
                SELECT paid.id, \(loan.id), p.n, p.pe, p.fe, p.i, p.pr FROM paid,
                    unnest(\(r.parts.map(\.number))::int[], \(r.parts.map(\.penaltyMinor))::int8[], \(r.parts.map(\.feeMinor))::int8[],
                           \(r.parts.map(\.interestMinor))::int8[], \(r.parts.map(\.principalMinor))::int8[]) AS p(n, pe, fe, i, pr)
                RETURNING number, penalty_minor, fee_minor, interest_minor, principal_minor),
            instalments AS (
                UPDATE loan_instalments i SET
                    penalty_paid_minor = i.penalty_paid_minor + p.penalty_minor, fee_paid_minor = i.fee_paid_minor + p.fee_minor,
                    interest_paid_minor = i.interest_paid_minor + p.interest_minor, principal_paid_minor = i.principal_paid_minor + p.principal_minor,
                    paid_on = CASE WHEN i.penalty_paid_minor + p.penalty_minor = i.penalty_minor AND i.fee_paid_minor + p.fee_minor = i.fee_minor
                                    AND i.interest_paid_minor + p.interest_minor = i.interest_minor
                                    AND i.principal_paid_minor + p.principal_minor = i.principal_minor
                                   THEN \(today.description)::date ELSE i.paid_on END,
                    -- A payoff leaves what an instalment still asked for unasked: rebated.
                    rebated = \(r.closes) AND (i.penalty_paid_minor + p.penalty_minor < i.penalty_minor OR i.fee_paid_minor + p.fee_minor < i.fee_minor
                                               OR i.interest_paid_minor + p.interest_minor < i.interest_minor
                                               OR i.principal_paid_minor + p.principal_minor < i.principal_minor)
                FROM parts p WHERE i.loan_id = \(loan.id) AND i.number = p.number
                RETURNING 1),
            -- The instalments the payoff did not touch (a row is updated once per statement, so these apart).
            rebated AS (
                UPDATE loan_instalments i SET rebated = true
                WHERE \(r.closes) AND i.loan_id = \(loan.id) AND i.paid_on IS NULL AND i.number NOT IN (SELECT number FROM parts)
                RETURNING 1),
            loan AS (
                UPDATE loans SET principal_outstanding_minor = \(r.principalOutstandingMinor), bucket = \(r.closes ? nil : r.bucket?.rawValue),
                    next_action_at = \(r.closes ? nil : r.nextActionAt)
                WHERE id = \(loan.id) AND (SELECT count(*) FROM instalments) >= 0 AND (SELECT count(*) FROM rebated) >= 0
                RETURNING id)
            INSERT INTO outbox_events (topic, aggregate_id, payload)
            SELECT e.t, e.a, e.p::jsonb FROM loan, unnest(\(batch.types)::text[], \(batch.aggregates)::uuid[], \(batch.payloads)::text[]) AS e(t, a, p)
            """)
    }

    /// The scheduler's day: penalties charged, the bucket and the next look, with their events.
    public func age(
        _ loan: Loan, penalties: [(number: Int, penalty: Int64)], reminders: [BookedInstalment] = [], bucket: DelinquencyBucket?, daysPastDue: Int, next: Date?
    ) async throws {
        var events: [any OutboxEvent] = penalties.map {
            LoanPenaltyCharged(loanId: loan.id, instalment: $0.number, penalty: Money(minorUnits: $0.penalty, currency: loan.currency))
        }
        if bucket != loan.bucket { events.append(LoanDelinquencyChanged(loanId: loan.id, from: loan.bucket, bucket: bucket, daysPastDue: daysPastDue)) }
        events += reminders.map {
            LoanInstalmentDue(loanId: loan.id, instalment: $0.number, dueDate: $0.dueDate, amountDue: Money(minorUnits: $0.unpaid.totalMinor, currency: loan.currency))
        }
        let batch = try Outbox.Batch(events.map { $0.to([loan.member.rawValue]) })
        try await db.query(
            """
            WITH charged AS (
                UPDATE loan_instalments i SET penalty_minor = i.penalty_minor + p.penalty, penalty_charged = true, paid_on = NULL
                FROM unnest(\(penalties.map(\.number))::int[], \(penalties.map(\.penalty))::int8[]) AS p(n, penalty)
                WHERE i.loan_id = \(loan.id) AND i.number = p.n RETURNING 1),
            reminded AS (
                UPDATE loan_instalments SET reminded = true WHERE loan_id = \(loan.id) AND number = ANY(\(reminders.map(\.number))::int[]) RETURNING 1),
            aged AS (
                UPDATE loans SET bucket = \(bucket?.rawValue), next_action_at = \(next)
                WHERE id = \(loan.id) AND (SELECT count(*) FROM charged) + (SELECT count(*) FROM reminded) >= 0 RETURNING id)
            INSERT INTO outbox_events (topic, aggregate_id, payload)
            SELECT e.t, e.a, e.p::jsonb FROM aged, unnest(\(batch.types)::text[], \(batch.aggregates)::uuid[], \(batch.payloads)::text[]) AS e(t, a, p)
            """)
    }

    /// Loans the scheduler should look at, oldest first.
    public func due(now: Date, limit: Int) async throws -> [LoanID] {
        try await db.query(
            """
            SELECT id FROM loans WHERE next_action_at <= \(now) AND state = 'disbursed' ORDER BY next_action_at, id LIMIT \(limit)
            """
        ).all(UUID.self).map { LoanID($0) }
    }

    public func postpone(_ loan: LoanID, until: Date) async throws {
        try await db.query("UPDATE loans SET next_action_at = \(until) WHERE id = \(loan) AND state = 'disbursed'")
    }

    /// Lists, newest first: a member's own, or every loan (staff), by state or delinquency bucket.
    public func list(member: MemberID?, state: LoanState?, bucket: DelinquencyBucket?, page: PageRequest) async throws -> Page<LoanSummary> {
        let after = page.after
        let rows = try await db.query(
            """
            SELECT \(unescaped: Self.columns) FROM loans l
            WHERE (\(member)::uuid IS NULL OR l.member_id = \(member)) AND (\(state?.rawValue)::text IS NULL OR l.state = \(state?.rawValue))
              AND (\(bucket?.rawValue)::text IS NULL OR l.bucket = \(bucket?.rawValue))
              AND (\(after == nil) OR (l.created_at, l.id) < ('epoch'::timestamptz + \(after?.position ?? 0) * interval '1 microsecond', \(after?.id ?? UUID())))
            ORDER BY l.created_at DESC, l.id DESC LIMIT \(page.limit + 1)
            """
        ).all(Row.self)
        return page.page(of: try rows.map(Self.loan), item: { LoanSummary($0) }, cursor: { PageCursor(position: $0.position, id: $0.id.rawValue) })
    }

    /// The member's account, as the loan needs it: theirs, open, in the currency.
    public func accountFacts(_ account: AccountID) async throws -> (member: MemberID?, currency: String, status: String)? {
        try await db.query("SELECT member_id, currency::text, status FROM accounts WHERE id = \(account)").first((UUID?, String, String).self)
            .map { (member: $0.0.map { MemberID($0) }, currency: $0.1, status: $0.2) }
    }

    // MARK: Score inputs

    /// What the scorecard reads of a member, at `now` (one statement): tenure in whole months, the
    /// average end-of-day balance of their CAD accounts over the last 90 days (from today's balance
    /// and the entries since: each entry counts for the days it was on the account; rounded down to
    /// the minor unit), their earlier loans' record and their KYC tier. Nil for an unknown member.
    public func scoreFacts(_ member: MemberID, today: Day) async throws -> (tenureMonths: Int, averageBalanceMinor: Int64, history: Scorecard.LoanHistory, kycTier: Int)? {
        let end = today.adding(days: 1)!.startUTC
        let row = try await db.query(
            """
            WITH m AS (SELECT created_at, kyc_tier FROM members WHERE id = \(member)),
            acc AS (SELECT id, balance_minor FROM accounts WHERE member_id = \(member) AND currency = 'CAD'),
            moves AS (
                SELECT coalesce(sum(e.amount_minor * greatest(0, 90 - ceil(extract(epoch FROM (\(end)::timestamptz - e.created_at)) / 86400))::int8), 0)::int8 AS weighted
                FROM entries e JOIN acc ON acc.id = e.account_id
                WHERE e.created_at > \(end)::timestamptz - interval '90 days' AND e.created_at <= \(end)::timestamptz),
            history AS (
                SELECT
                    bool_or(l.state = 'written_off' OR (i.paid_on IS NOT NULL AND i.paid_on - i.due_date > 30)
                            OR (i.paid_on IS NULL AND NOT i.rebated AND \(today.description)::date - i.due_date > 30)) AS serious,
                    bool_or((i.paid_on IS NOT NULL AND i.paid_on > i.due_date) OR (i.paid_on IS NULL AND NOT i.rebated AND i.due_date < \(today.description)::date)) AS late,
                    count(DISTINCT l.id) AS loans
                FROM loans l LEFT JOIN loan_instalments i ON i.loan_id = l.id
                WHERE l.member_id = \(member) AND l.state IN ('disbursed', 'closed', 'written_off'))
            SELECT (SELECT (extract(year FROM age(\(end)::timestamptz, created_at)) * 12 + extract(month FROM age(\(end)::timestamptz, created_at)))::int FROM m),
                   (SELECT coalesce(sum(balance_minor), 0)::int8 FROM acc), (SELECT weighted FROM moves),
                   coalesce((SELECT serious FROM history), false), coalesce((SELECT late FROM history), false), (SELECT loans FROM history)::int,
                   (SELECT kyc_tier::int FROM m)
            """
        ).first((Int?, Int64, Int64, Bool, Bool, Int, Int?).self)
        guard let row, let tenure = row.0, let tier = row.6 else { return nil }
        // Σ over the 90 day-ends of the balance then = 90 × today's balance − Σ entries × the day-ends before them.
        let average = (90 * row.1 - row.2) / 90
        let history: Scorecard.LoanHistory = row.5 == 0 ? .none : row.3 ? .seriouslyLate : row.4 ? .lateUpTo30 : .onTime
        return (max(0, tenure), average, history, tier)
    }
}

/// A loan in a list.
public struct LoanSummary: Codable, Sendable {
    public let id: LoanID
    public let memberId: MemberID
    public let productId: LoanProductID
    public let principal: Money
    public let term: Int
    public let frequency: Frequency
    public let state: LoanState
    public let score: Int
    public let principalOutstanding: Money
    public let bucket: DelinquencyBucket?
    public let disbursedOn: Day?
    public let createdAt: Date

    public init(_ loan: Loan) {
        id = loan.id
        memberId = loan.member
        productId = loan.product
        principal = loan.principal
        term = loan.term
        frequency = loan.frequency
        state = loan.state
        score = loan.score
        principalOutstanding = Money(minorUnits: loan.principalOutstandingMinor, currency: loan.currency)
        bucket = loan.bucket
        disbursedOn = loan.disbursedOn
        createdAt = loan.createdAt
    }
}

extension LoanStateChanged: OutboxEvent {
    public var type: String { state.event }
    public var aggregateID: UUID { loanId.rawValue }
    public var audience: [UUID] { [memberId.rawValue] }
}

extension LoanRepaymentReceived: OutboxEvent {
    public var type: String { LoanEvents.repaymentReceived }
    public var aggregateID: UUID { loanId.rawValue }
}

extension LoanPenaltyCharged: OutboxEvent {
    public var type: String { LoanEvents.penaltyCharged }
    public var aggregateID: UUID { loanId.rawValue }
}

extension LoanInstalmentDue: OutboxEvent {
    public var type: String { LoanEvents.instalmentDue }
    public var aggregateID: UUID { loanId.rawValue }
}

extension LoanDelinquencyChanged: OutboxEvent {
    public var type: String { LoanEvents.delinquencyChanged }
    public var aggregateID: UUID { loanId.rawValue }
}

extension LoanStore {
    /// The numbers of the instalments a payoff rebated.
    public func rebated(_ loan: LoanID) async throws -> Set<Int> {
        Set(try await db.query("SELECT number FROM loan_instalments WHERE loan_id = \(loan) AND rebated").all(Int.self))
    }
}
