import Foundation
import NzilaCore
import NzilaDatabase
import PostgresNIO
import Synchronization

/// A journal as the API shows it, with its entries.
public struct JournalRecord: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public let accountId: AccountID
        public let amount: Money
    }

    public let id: JournalID
    public let kind: String
    public let memo: String
    public let reverses: JournalID?
    public let createdAt: Date
    public let entries: [Entry]
}

extension JournalRecord {
    /// The record of a journal as posted from its plan.
    init(_ plan: JournalPlan, id: UUID, at time: PostingTime) {
        self.init(
            id: JournalID(id), kind: plan.kind, memo: plan.memo, reverses: plan.reverses.map { JournalID($0) }, createdAt: time.date,
            entries: plan.legs.map { .init(accountId: $0.account, amount: $0.amount) })
    }
}

/// One line of an account statement.
public struct StatementEntry: Codable, Sendable, Equatable {
    public let id: Int64
    public let journalId: JournalID
    public let amount: Money
    public let createdAt: Date
}

/// Posts and reads journals. Entries are signed so that a positive entry raises the account's
/// balance; a member deposit is +amount on the member account and −amount on the credit union's
/// cash account. The database refuses any journal whose entries do not sum to zero per currency and
/// any balance below its floor, whatever the Swift code did.
public struct LedgerStore: Sendable {
    let db: TenantDB

    public init(_ db: TenantDB) { self.db = db }

    /// The credit union keeps no till in the currency (its configuration enables none): refused, not a 500.
    public enum Failure: DomainError, Equatable {
        case noCashAccount(Currency)

        public var ruleError: RuleError {
            switch self {
            case .noCashAccount(let currency):
                RuleError(.unprocessable, "currency-not-offered", "Currency not offered", detail: "This credit union keeps no \(currency.code) accounts of its own.")
            }
        }
    }

    /// Locks the accounts in id order (so two opposite transfers cannot deadlock) and returns them
    /// by id; missing ids are absent. The lock is `FOR NO KEY UPDATE`, the lock a balance change
    /// itself takes: it does not wait for the key-share locks that rows referencing an account (a
    /// hold, a repayment, a contribution) take on it, so a transaction that wrote such a row before
    /// locking cannot deadlock with another doing the same. Holds past their expiry are released first (one more round trip,
    /// only when an account has one), so what is available is what the rules see.
    public func lock(_ ids: [AccountID]) async throws -> [AccountID: AccountSnapshot] {
        let unique = Array(Set(ids.map(\.rawValue)))
        let rows = try await db.query(
            """
            SELECT id, member_id, currency::text, status, balance_minor, held_minor, floor_minor,
                   EXISTS (SELECT 1 FROM holds h WHERE h.account_id = a.id AND h.status = 'active' AND h.expires_at <= \(db.now))
            FROM accounts a WHERE id = ANY(\(unique)) ORDER BY id FOR NO KEY UPDATE
            """
        ).all((UUID, UUID?, String, String, Int64, Int64, Int64?, Bool).self)
        let stale = rows.filter(\.7).map(\.0)
        let released = stale.isEmpty ? [:] : try await releaseExpiredHolds(stale)
        var snapshots: [AccountID: AccountSnapshot] = [:]
        for (id, member, currency, status, balance, held, floor, _) in rows {
            // Both are held to their sets by the schema's CHECKs.
            guard let currency = Currency(code: currency), let status = AccountStatus(rawValue: status) else { continue }
            snapshots[AccountID(id)] = AccountSnapshot(
                id: AccountID(id), memberID: member.map { MemberID($0) }, currency: currency, status: status, balanceMinor: balance,
                heldMinor: held - released[id, default: 0], floorMinor: floor)
        }
        return snapshots
    }

    /// Marks expired holds of locked accounts as expired and gives their amounts back.
    func releaseExpiredHolds(_ accounts: [UUID]) async throws -> [UUID: Int64] {
        let rows = try await db.query(
            """
            WITH expired AS (
                UPDATE holds SET status = 'expired', updated_at = clock_timestamp()
                WHERE account_id = ANY(\(accounts)) AND status = 'active' AND expires_at <= \(db.now) RETURNING account_id, amount_minor),
            totals AS (SELECT account_id, sum(amount_minor)::int8 AS released FROM expired GROUP BY account_id)
            UPDATE accounts a SET held_minor = a.held_minor - t.released FROM totals t WHERE a.id = t.account_id
            RETURNING a.id, t.released
            """
        ).all((UUID, Int64).self)
        return Dictionary(uniqueKeysWithValues: rows.map { ($0.0, $0.1) })
    }

    /// Writes a balanced journal and its entries in one statement; balances move by trigger. The
    /// journal and its entries carry the posting time (see `PostingTime`): the transaction's platform
    /// time unless the caller names one.
    /// `id`: the journal's id, when the caller has already written rows that name it (under a
    /// deferred foreign key), so its rows can go before the locks the posting holds to COMMIT.
    public func post(_ plan: JournalPlan, at given: PostingTime? = nil, id: UUID = UUID()) async throws -> JournalRecord {
        let time = given ?? PostingTime(db.now)
        let accounts = plan.legs.map(\.account.rawValue)
        let amounts = plan.legs.map(\.amount.minorUnits)
        let currencies = plan.legs.map(\.amount.currency.code)
        // Entries on members' accounts write balance events (apply_entry): the relay is told at COMMIT.
        OutboxWake.wrote()
        try await db.query(
            """
            WITH at AS (SELECT timestamptz '2000-01-01 00:00:00+00' + \(time.microsecondsSince2000)::int8 * interval '1 microsecond' AS t),
            journal AS (
                INSERT INTO journals (id, kind, memo, reverses, created_at)
                SELECT \(id), \(plan.kind), \(plan.memo), \(plan.reverses), t FROM at RETURNING id)
            INSERT INTO entries (journal_id, account_id, amount_minor, currency, created_at)
            SELECT \(id), account, amount, currency, at.t
            FROM unnest(\(accounts)::uuid[], \(amounts)::int8[], \(currencies)::text[]) AS l(account, amount, currency), at
            """
        )
        // Counted when written; a journal whose transaction rolls back is counted too (an upper bound).
        Observability.count("nzila_ledger_journals_total", [("kind", plan.kind)])
        return JournalRecord(plan, id: id, at: time)
    }

    /// Writes several balanced journals and their entries in one statement (a worker settling many
    /// movements at once), in order, at one posting time. None may be a reversal. The caller has
    /// locked every account they touch and checked each plan.
    public func post(_ plans: [JournalPlan], at given: PostingTime? = nil) async throws -> [JournalRecord] {
        precondition(plans.allSatisfy { $0.reverses == nil }, "a reversal is posted on its own")
        if plans.count <= 1 { return try await plans.asyncMap { try await post($0, at: given) } }
        let time = given ?? PostingTime(db.now)
        let ids = plans.map { _ in UUID() }
        var journals: [UUID] = [], accounts: [UUID] = [], amounts: [Int64] = [], currencies: [String] = []
        for (id, plan) in zip(ids, plans) {
            for leg in plan.legs {
                journals.append(id)
                accounts.append(leg.account.rawValue)
                amounts.append(leg.amount.minorUnits)
                currencies.append(leg.amount.currency.code)
            }
        }
        OutboxWake.wrote()
        try await db.query(
            """
            WITH at AS (SELECT timestamptz '2000-01-01 00:00:00+00' + \(time.microsecondsSince2000)::int8 * interval '1 microsecond' AS t),
            journal AS (
                INSERT INTO journals (id, kind, memo, created_at)
                SELECT j.id, j.kind, j.memo, at.t FROM unnest(\(ids)::uuid[], \(plans.map(\.kind))::text[], \(plans.map(\.memo))::text[]) AS j(id, kind, memo), at
                RETURNING id)
            INSERT INTO entries (journal_id, account_id, amount_minor, currency, created_at)
            SELECT l.journal, l.account, l.amount, l.currency, at.t
            FROM unnest(\(journals)::uuid[], \(accounts)::uuid[], \(amounts)::int8[], \(currencies)::text[]) WITH ORDINALITY AS l(journal, account, amount, currency, n), at
            ORDER BY l.n
            """
        )
        for plan in plans { Observability.count("nzila_ledger_journals_total", [("kind", plan.kind)]) }
        return zip(ids, plans).map { JournalRecord($1, id: $0, at: time) }
    }

    /// The credit union's own accounts of the given kinds and currencies, keyed "kind/CUR", opened on
    /// first use (provisioning opens them only in the template's ledger currencies). One statement in
    /// the usual case; a second read only when another transaction opened one concurrently (its row is
    /// then outside this statement's snapshot).
    public func systemAccounts(_ wanted: [(kind: String, currency: Currency)]) async throws -> [String: AccountID] {
        let keys = Set(wanted.map { "\($0.kind)/\($0.currency.code)" })
        if let known = SystemAccountCache.shared.lookup(tenant: db.tenant.id, keys: keys) { return known }
        let kinds = wanted.map(\.kind)
        let codes = wanted.map(\.currency.code)
        var committed: [String: AccountID] = [:]
        func rows(_ query: PostgresQuery) async throws -> [String: AccountID] {
            var found: [String: AccountID] = [:]
            for (id, kind, currency, existed) in try await db.query(query).all((UUID, String, String, Bool).self) {
                found["\(kind)/\(currency)"] = AccountID(id)
                if existed { committed["\(kind)/\(currency)"] = AccountID(id) }
            }
            return found
        }
        var found = try await rows(
            """
            WITH wanted AS (SELECT * FROM unnest(\(kinds)::text[], \(codes)::text[]) AS w(kind, currency)),
            opened AS (
                INSERT INTO accounts (id, kind, currency, floor_minor, name)
                SELECT gen_random_uuid(), kind, currency, NULL, initcap(replace(kind, '_', ' ')) || ' ' || currency FROM wanted
                ON CONFLICT (kind, currency) WHERE member_id IS NULL AND circle_id IS NULL DO NOTHING RETURNING id, kind, currency::text)
            SELECT id, kind, currency, false FROM opened
            UNION ALL
            SELECT a.id, a.kind, a.currency::text, true FROM accounts a JOIN wanted w ON a.kind = w.kind AND a.currency = w.currency
            WHERE a.member_id IS NULL AND a.circle_id IS NULL
            """)
        if found.count < keys.count {
            found.merge(
                try await rows(
                    """
                    SELECT a.id, a.kind, a.currency::text, true FROM accounts a
                    JOIN unnest(\(kinds)::text[], \(codes)::text[]) AS w(kind, currency) ON a.kind = w.kind AND a.currency = w.currency
                    WHERE a.member_id IS NULL AND a.circle_id IS NULL
                    """), uniquingKeysWith: { first, _ in first })
        }
        for (kind, currency) in wanted where found["\(kind)/\(currency.code)"] == nil { throw Failure.noCashAccount(currency) }
        SystemAccountCache.shared.remember(tenant: db.tenant.id, committed)
        return found
    }

    /// One of the credit union's own accounts (see `systemAccounts`).
    public func systemAccount(_ kind: String, _ currency: Currency) async throws -> AccountID {
        try await systemAccounts([(kind, currency)])["\(kind)/\(currency.code)"]!
    }

    /// An account's currency, which never changes (so no lock is needed to read it).
    public func currency(of account: AccountID) async throws -> Currency? {
        try await db.query("SELECT currency::text FROM accounts WHERE id = \(account.rawValue)").first(String.self).flatMap(Currency.init(code:))
    }

    /// The mid rate from `reference.fx_rates`, directly or through the inverse pair.
    public func midRate(from: Currency, to: Currency) async throws -> FXRate? {
        let row = try await db.query(
            """
            SELECT coalesce(
                (SELECT mid_rate FROM reference.fx_rates WHERE base = \(from.code) AND quote = \(to.code)),
                (SELECT round(1 / mid_rate, 10) FROM reference.fx_rates WHERE base = \(to.code) AND quote = \(from.code)))::text
            """
        ).first(String?.self)
        guard let found = row, let text = found else { return nil }
        return FXRate(decimal: text)
    }

    /// The tenant's FX spread from its fee configuration (platform default 150 bps).
    public func fxSpreadBps() async throws -> Int {
        try await db.section(FeesSection.self)?.fxSpreadBps ?? 150
    }

    /// Cash paid in at the counter: cash account → member account, one balanced journal.
    public func postCashDeposit(to account: AccountID, amount: Money, memo: String) async throws {
        let cash = try await systemAccount("cash", amount.currency)
        let locked = try await lock([cash, account])
        guard let from = locked[cash], let to = locked[account] else { throw Failure.noCashAccount(amount.currency) }
        _ = try await post(try Posting.transfer(from: from, to: to, amount: amount, kind: "deposit", memo: memo))
    }

    /// A journal with its entries; `visibleTo` limits a member to journals touching their accounts.
    public func journal(_ id: UUID, visibleTo member: MemberID?) async throws -> JournalRecord? {
        let rows = try await db.query(
            """
            SELECT j.kind, j.memo, j.reverses, j.created_at, e.account_id, e.amount_minor, e.currency::text
            FROM journals j JOIN entries e ON e.journal_id = j.id WHERE j.id = \(id) ORDER BY e.id
            """
        ).all((String, String, UUID?, Date, UUID, Int64, String).self)
        guard let first = rows.first else { return nil }
        if let member {
            let owned = try await db.query(
                "SELECT count(*)::int FROM accounts WHERE member_id = \(member.rawValue) AND id = ANY(\(rows.map(\.4)))"
            ).first(Int.self) ?? 0
            guard owned > 0 else { return nil }
        }
        return JournalRecord(
            id: JournalID(id), kind: first.0, memo: first.1, reverses: first.2.map { JournalID($0) }, createdAt: first.3,
            entries: try rows.map { row in .init(accountId: AccountID(row.4), amount: Money(minorUnits: row.5, currency: try .stored(row.6))) })
    }

    /// A journal's legs, and whether a reversal already names it.
    public func legs(of journal: UUID) async throws -> (legs: [Leg], reversed: Bool, isReversal: Bool)? {
        let rows = try await db.query(
            """
            SELECT e.account_id, e.amount_minor, e.currency::text,
                   EXISTS (SELECT 1 FROM journals r WHERE r.reverses = j.id), j.reverses IS NOT NULL
            FROM journals j JOIN entries e ON e.journal_id = j.id WHERE j.id = \(journal) ORDER BY e.id
            """
        ).all((UUID, Int64, String, Bool, Bool).self)
        guard let first = rows.first else { return nil }
        let legs = rows.compactMap { row in Currency(code: row.2).map { Leg(account: AccountID(row.0), amount: Money(minorUnits: row.1, currency: $0)) } }
        return (legs, first.3, first.4)
    }

    /// An account's entries, newest first. Entries of one account are written under its row lock,
    /// so their ids grow in commit order and an id cursor neither skips nor repeats while others post.
    public func statement(_ account: AccountID, page: PageRequest) async throws -> Page<StatementEntry> {
        let afterID = page.after.map { $0.position } ?? Int64.max
        let rows = try await db.query(
            """
            SELECT id, journal_id, amount_minor, currency::text, created_at FROM entries
            WHERE account_id = \(account.rawValue) AND id < \(afterID) ORDER BY id DESC LIMIT \(page.limit + 1)
            """
        ).all((Int64, UUID, Int64, String, Date).self)
        return try page.page(
            of: rows,
            item: { StatementEntry(id: $0.0, journalId: JournalID($0.1), amount: Money(minorUnits: $0.2, currency: try Currency.stored($0.3)), createdAt: $0.4) },
            cursor: { PageCursor(position: $0.0, id: $0.1) })
    }
}

/// The credit union's own account ids per tenant, as read from committed rows: an account's kind,
/// currency and id never change and accounts are never deleted, so once seen they are known for good
/// and posting to them costs no lookup. An account opened by a transaction still in flight is not
/// remembered (a rollback would erase it).
final class SystemAccountCache: Sendable {
    static let shared = SystemAccountCache()
    let accounts = Mutex<[TenantID: [String: AccountID]]>([:])
    /// Tenants remembered at most (a bound on memory, not a working limit).
    static let tenantLimit = 10_000

    func lookup(tenant: TenantID, keys: Set<String>) -> [String: AccountID]? {
        accounts.withLock { all in
            guard let known = all[tenant] else { return nil }
            var found: [String: AccountID] = [:]
            for key in keys {
                guard let id = known[key] else { return nil }
                found[key] = id
            }
            return found
        }
    }

    func remember(tenant: TenantID, _ found: [String: AccountID]) {
        guard !found.isEmpty else { return }
        accounts.withLock { all in
            if all[tenant] == nil, all.count >= Self.tenantLimit { all.removeAll(keepingCapacity: true) }
            all[tenant, default: [:]].merge(found) { _, new in new }
        }
    }
}

/// POST /v1/transfers in one database round trip, through `tenant_api.transfer`
/// (Migrations/control/0003): the plain case of a transfer, with its Idempotency-Key.
public struct OneStatementTransfer: Sendable {
    public let from: AccountID
    public let to: AccountID
    public let amount: Money
    public let memo: String
    public let keyScope: String
    public let key: String
    public let requestHash: Data

    public init(from: AccountID, to: AccountID, amount: Money, memo: String, keyScope: String, key: String, requestHash: Data) {
        self.from = from
        self.to = to
        self.amount = amount
        self.memo = memo
        self.keyScope = keyScope
        self.key = key
        self.requestHash = requestHash
    }

    public enum Outcome: Sendable {
        /// Posted; the response body is the one stored under the key.
        case posted(JournalRecord, body: Data)
        /// The key was used before: its stored request hash, status and body.
        case used(requestHash: Data, status: Int, body: Data)
        /// Not the plain case (refused, missing, or a hold to release): nothing was written; run the
        /// transfer on the general path, whose rules explain the refusal.
        case needsGeneralPath
    }

    /// The SQLSTATE `tenant_api.transfer` raises when the transfer is not its plain case.
    static let generalPathState = "NZ001"

    /// The audit entry as the function reads it, or nil.
    static func auditJSON(_ audit: AuditAction?) -> String? {
        guard let audit else { return nil }
        var object: [String: Any] = [
            "actor": audit.actor.id.lowercased, "actor_role": audit.actor.role.rawValue, "action": audit.action, "target": audit.target,
        ]
        if let request = audit.actor.requestID { object["request_id"] = request }
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) }
    }

    public func run(in session: TenantSession) async throws -> Outcome {
        let id = UUID()
        let time = PostingTime(session.clock.now())
        let plan = JournalPlan.movement(from: from, to: to, amount: amount, kind: "transfer", memo: memo)
        let journal = JournalRecord(plan, id: id, at: time)
        let body = try JSONEncoder.api.encode(journal)
        do {
            let row = try await session.call({ who in
                // Its entries write balance events (apply_entry): the relay is told at COMMIT.
                OutboxWake.wrote()
                return try """
                SELECT * FROM tenant_api.transfer(\(who.role), \(who.schema), \(who.tenantID), \(who.memberID),
                    \(keyScope), \(key), \(requestHash), \(body), \(id), \(time.microsecondsSince2000), \(from.rawValue), \(to.rawValue),
                    \(amount.minorUnits), \(amount.currency.code), \(memo), \(Self.auditJSON(who.audit))::jsonb)
                """
            }) { rows in try await rows.first((Bool, Int, Data, Data?).self) }
            guard let (replayed, status, storedHash, storedBody) = row else { return .needsGeneralPath }
            guard replayed else {
                Observability.count("nzila_ledger_journals_total", [("kind", "transfer")])
                return .posted(journal, body: body)
            }
            return .used(requestHash: storedHash, status: status, body: storedBody ?? Data())
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == Self.generalPathState {
            return .needsGeneralPath
        }
    }
}

extension LedgerStore {
    /// Releases up to `limit` accounts' holds that expired by the transaction's platform time: the
    /// accounts are locked in id order through `lock` (which releases their expired holds), the same
    /// lock order transfers take, so a sweep cannot deadlock with them. Returns the accounts released.
    public func releaseExpiredHolds(limit: Int) async throws -> Int {
        precondition(limit > 0 && limit <= 10_000, "a bounded sweep")
        let due = try await db.query(
            """
            SELECT DISTINCT account_id FROM holds WHERE status = 'active' AND expires_at <= \(db.now) LIMIT \(limit)
            """
        ).all(UUID.self)
        guard !due.isEmpty else { return 0 }
        _ = try await lock(due.map { AccountID($0) })
        return due.count
    }
}

extension Array {
    /// `transform` on each element, one after another.
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        result.reserveCapacity(count)
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
