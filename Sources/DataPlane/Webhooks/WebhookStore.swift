import Crypto
import Foundation
import NzilaCore
import NzilaDatabase
import PostgresNIO

/// A tenant's webhook endpoint as the API shows it. `secret` appears once: in the answer that
/// created or rotated it.
public struct WebhookEndpointRecord: Codable, Sendable, Equatable {
    public let id: WebhookEndpointID
    public let url: String
    public let description: String
    public let eventTypes: [String]
    /// enabled, disabled (by staff or after failing 3 days) or deleted.
    public let status: String
    public let disabledReason: String?
    /// The first failed attempt since the last success.
    public let failingSince: Date?
    /// Until when the secret before the last rotation still signs.
    public let previousSecretExpiresAt: Date?
    public let createdAt: Date
    public let updatedAt: Date
    public var secret: String?
}

/// One attempt at a delivery.
public struct WebhookAttemptRecord: Codable, Sendable, Equatable {
    public let attempt: Int
    public let at: Date
    public let statusCode: Int?
    public let latencyMs: Int
    public let error: String?
}

/// One event queued for one endpoint, with its attempts.
public struct WebhookDeliveryRecord: Codable, Sendable, Equatable {
    public let id: WebhookDeliveryID
    public let endpointId: WebhookEndpointID
    /// The `Nzila-Event-Id` every attempt carries (the receiver's de-duplication key).
    public let eventId: EventID
    public let eventSeq: Int64
    public let eventType: String
    /// pending, succeeded or dead.
    public let status: String
    public let attempts: Int
    public let nextAttemptAt: Date?
    public let lastStatusCode: Int?
    public let lastError: String?
    public let createdAt: Date
    public let finishedAt: Date?
    public let attemptLog: [WebhookAttemptRecord]
}

/// The SQL of tenant webhooks (the only place it lives).
struct WebhookStore {
    let db: TenantDB
    let secrets: SecretBox

    static let columns = """
        id, url, description, event_types, status, disabled_reason, failing_since, previous_secret_expires_at, created_at, updated_at
        """
    typealias Row = (WebhookEndpointID, String, String, [String], String, String?, Date?, Date?, Date, Date)

    static func record(_ row: Row) -> WebhookEndpointRecord {
        WebhookEndpointRecord(
            id: row.0, url: row.1, description: row.2, eventTypes: row.3, status: row.4, disabledReason: row.5, failingSince: row.6,
            previousSecretExpiresAt: row.7, createdAt: row.8, updatedAt: row.9, secret: nil)
    }

    /// A new signing secret: `whsec_` and 32 random bytes, base64url.
    static func newSecret() -> String {
        "whsec_" + SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.base64URLEncoded
    }

    /// The secret sealed with the master key, bound to this tenant and endpoint (a sealed value
    /// copied to another row or tenant does not open there).
    func seal(_ secret: String, endpoint: UUID) throws -> Data {
        try secrets.seal(Data("\(db.tenant.id.rawValue.lowercased):\(endpoint.lowercased):\(secret)".utf8))
    }

    func open(_ sealed: Data, endpoint: UUID) throws -> String {
        let text = String(decoding: try secrets.open(sealed), as: UTF8.self)
        let prefix = "\(db.tenant.id.rawValue.lowercased):\(endpoint.lowercased):"
        guard text.hasPrefix(prefix) else { throw SecretBox.Failure.unsealFailed }
        return String(text.dropFirst(prefix.count))
    }

    func create(url: String, description: String, eventTypes: [String]) async throws -> WebhookEndpointRecord {
        let id = UUID()
        let secret = Self.newSecret()
        let sealed = try seal(secret, endpoint: id)
        let row = try await db.query(
            """
            INSERT INTO webhook_endpoints (id, url, description, event_types, secret_sealed, created_at, updated_at)
            VALUES (\(id), \(url), \(description), \(eventTypes), \(sealed), \(db.now), \(db.now))
            RETURNING \(unescaped: Self.columns)
            """
        ).first(Row.self)
        guard let row else { throw Problem.internalError }
        var record = Self.record(row)
        record.secret = secret
        return record
    }

    func list(_ page: PageRequest) async throws -> Page<WebhookEndpointRecord> {
        let after = page.after
        let rows = try await db.query(
            """
            SELECT \(unescaped: Self.columns), (extract(epoch FROM created_at) * 1000000)::int8 FROM webhook_endpoints
            WHERE status <> 'deleted' AND (\(after == nil) OR (created_at, id) < ('epoch'::timestamptz + \(after?.position ?? 0) * interval '1 microsecond', \(after?.id ?? UUID())))
            ORDER BY created_at DESC, id DESC LIMIT \(page.limit + 1)
            """
        ).all((WebhookEndpointID, String, String, [String], String, String?, Date?, Date?, Date, Date, Int64).self)
        return page.page(
            of: rows, item: { Self.record(($0.0, $0.1, $0.2, $0.3, $0.4, $0.5, $0.6, $0.7, $0.8, $0.9)) }, cursor: { PageCursor(position: $0.10, id: $0.0.rawValue) })
    }

    func endpoint(_ id: UUID) async throws -> WebhookEndpointRecord? {
        try await db.query("SELECT \(unescaped: Self.columns) FROM webhook_endpoints WHERE id = \(id) AND status <> 'deleted'").first(Row.self).map(Self.record)
    }

    /// Deletes an endpoint: it gets nothing more, and what it still had queued is dead-lettered.
    func delete(_ id: UUID) async throws -> WebhookEndpointRecord? {
        let row = try await db.query(
            """
            WITH gone AS (
                UPDATE webhook_endpoints SET status = 'deleted', updated_at = \(db.now) WHERE id = \(id) AND status <> 'deleted'
                RETURNING \(unescaped: Self.columns)),
            dropped AS (
                UPDATE webhook_deliveries SET status = 'dead', finished_at = \(db.now), last_error = 'endpoint deleted', leased_until = NULL
                WHERE endpoint_id IN (SELECT id FROM gone) AND status = 'pending' RETURNING 1)
            SELECT gone.*, (SELECT count(*) FROM dropped) FROM gone
            """
        ).first((WebhookEndpointID, String, String, [String], String, String?, Date?, Date?, Date, Date, Int64).self)
        return row.map { Self.record(($0.0, $0.1, $0.2, $0.3, $0.4, $0.5, $0.6, $0.7, $0.8, $0.9)) }
    }

    /// A new secret; the current one keeps signing (beside it) for 24 hours.
    func rotate(_ id: UUID) async throws -> WebhookEndpointRecord? {
        let secret = Self.newSecret()
        let sealed = try seal(secret, endpoint: id)
        let row = try await db.query(
            """
            UPDATE webhook_endpoints SET previous_secret_sealed = secret_sealed, secret_sealed = \(sealed),
                previous_secret_expires_at = \(db.now.addingTimeInterval(WebhookRules.previousSecretGrace)), updated_at = \(db.now)
            WHERE id = \(id) AND status <> 'deleted'
            RETURNING \(unescaped: Self.columns)
            """
        ).first(Row.self)
        guard let row else { return nil }
        var record = Self.record(row)
        record.secret = secret
        return record
    }

    /// Turns a disabled endpoint back on (its failure clock starts again) and makes what it has
    /// queued due now; nil if there is none.
    func enable(_ id: UUID) async throws -> WebhookEndpointRecord? {
        try await db.query(
            """
            WITH enabled AS (
                UPDATE webhook_endpoints SET status = 'enabled', disabled_reason = NULL, failing_since = NULL, updated_at = \(db.now)
                WHERE id = \(id) AND status <> 'deleted'
                RETURNING \(unescaped: Self.columns)),
            resumed AS (
                UPDATE webhook_deliveries SET next_attempt_at = \(db.now)
                WHERE endpoint_id IN (SELECT id FROM enabled) AND status = 'pending' AND next_attempt_at > \(db.now) RETURNING 1)
            SELECT enabled.*, (SELECT count(*) FROM resumed) FROM enabled
            """
        ).first((WebhookEndpointID, String, String, [String], String, String?, Date?, Date?, Date, Date, Int64).self)
            .map { Self.record(($0.0, $0.1, $0.2, $0.3, $0.4, $0.5, $0.6, $0.7, $0.8, $0.9)) }
    }

    static let deliveryColumns = """
        d.id, d.endpoint_id, d.event_id, d.event_seq, d.event_type, d.status, d.attempts, CASE WHEN d.status = 'pending' THEN d.next_attempt_at END,
        d.last_status_code, d.last_error, d.created_at, d.finished_at, (extract(epoch FROM d.created_at) * 1000000)::int8,
        a.attempt, a.at, a.status_code, a.latency_ms, a.error
        """
    typealias DeliveryRow = (
        WebhookDeliveryID, WebhookEndpointID, EventID, Int64, String, String, Int32, Date?, Int32?, String?, Date, Date?, Int64,
        Int32?, Date?, Int32?, Int32?, String?
    )

    /// Rows of deliveries joined to their attempts (one statement, so a delivery and its attempts are
    /// read in one snapshot), folded into records in the rows' order; with each record its cursor.
    static func fold(_ rows: [DeliveryRow]) -> [(WebhookDeliveryRecord, PageCursor)] {
        var order: [WebhookDeliveryID] = []
        var first: [WebhookDeliveryID: DeliveryRow] = [:]
        var attempts: [WebhookDeliveryID: [WebhookAttemptRecord]] = [:]
        for row in rows {
            if first[row.0] == nil {
                order.append(row.0)
                first[row.0] = row
            }
            if let attempt = row.13, let at = row.14, let latency = row.16 {
                attempts[row.0, default: []].append(
                    WebhookAttemptRecord(attempt: Int(attempt), at: at, statusCode: row.15.map(Int.init), latencyMs: Int(latency), error: row.17))
            }
        }
        return order.map { id in
            let row = first[id]!
            let record = WebhookDeliveryRecord(
                id: row.0, endpointId: row.1, eventId: row.2, eventSeq: row.3, eventType: row.4, status: row.5, attempts: Int(row.6), nextAttemptAt: row.7,
                lastStatusCode: row.8.map(Int.init), lastError: row.9, createdAt: row.10, finishedAt: row.11, attemptLog: attempts[id] ?? [])
            return (record, PageCursor(position: row.12, id: row.0.rawValue))
        }
    }

    /// An endpoint's deliveries, newest first, with their attempts; nil when there is no such endpoint.
    func deliveries(endpoint: UUID, page: PageRequest) async throws -> Page<WebhookDeliveryRecord>? {
        guard try await self.endpoint(endpoint) != nil else { return nil }
        let after = page.after
        let rows = try await db.query(
            """
            SELECT \(unescaped: Self.deliveryColumns)
            FROM (SELECT * FROM webhook_deliveries
                  WHERE endpoint_id = \(endpoint)
                    AND (\(after == nil) OR (created_at, id) < ('epoch'::timestamptz + \(after?.position ?? 0) * interval '1 microsecond', \(after?.id ?? UUID())))
                  ORDER BY created_at DESC, id DESC LIMIT \(page.limit + 1)) d
            LEFT JOIN webhook_attempts a ON a.delivery_id = d.id
            ORDER BY d.created_at DESC, d.id DESC, a.attempt
            """
        ).all(DeliveryRow.self)
        let records = Self.fold(rows)
        let shown = records.prefix(page.limit)
        return Page(data: shown.map(\.0), nextCursor: records.count > page.limit ? shown.last?.1.encoded : nil)
    }

    func delivery(_ id: UUID) async throws -> WebhookDeliveryRecord? {
        let rows = try await db.query(
            """
            SELECT \(unescaped: Self.deliveryColumns) FROM webhook_deliveries d LEFT JOIN webhook_attempts a ON a.delivery_id = d.id
            WHERE d.id = \(id) ORDER BY a.attempt
            """
        ).all(DeliveryRow.self)
        return Self.fold(rows).first?.0
    }

    enum RetryRefusal: Error { case notFound, inFlight, endpointNotEnabled }

    /// Queues a delivery for one more attempt now, whatever became of it (a dead one included).
    func retry(_ id: UUID) async throws -> Result<WebhookDeliveryRecord, RetryRefusal> {
        let row = try await db.query(
            """
            SELECT d.status, d.leased_until > clock_timestamp(), e.status FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
            WHERE d.id = \(id) FOR UPDATE OF d
            """
        ).first((String, Bool?, String).self)
        guard let row else { return .failure(.notFound) }
        if row.0 == "pending" && row.1 == true { return .failure(.inFlight) }
        guard row.2 == "enabled" else { return .failure(.endpointNotEnabled) }
        try await db.query(
            """
            UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = \(db.now), finished_at = NULL, leased_until = NULL WHERE id = \(id)
            """)
        guard let record = try await delivery(id) else { return .failure(.notFound) }
        return .success(record)
    }

    /// A delivery claimed for one attempt.
    struct Claimed: Sendable {
        let id: UUID
        let attempt: Int
        let eventID: UUID
        let eventType: String
        let body: String
        let queuedAt: Date
        let endpoint: UUID
        let url: String
        let secrets: [String]
    }

    /// Claims up to `limit` due deliveries of enabled endpoints for one attempt each (skip-locked,
    /// leased), with the secrets that sign them. The lease is mutual exclusion between dispatchers,
    /// not business time, so it runs on the database's clock: a test clock that jumps days ahead
    /// must not free a delivery that is still in flight (it would be sent twice).
    func claim(limit: Int) async throws -> [Claimed] {
        let rows = try await db.query(
            """
            WITH due AS (
                SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.status = 'enabled'
                WHERE d.status = 'pending' AND d.next_attempt_at <= \(db.now) AND (d.leased_until IS NULL OR d.leased_until <= clock_timestamp())
                ORDER BY d.next_attempt_at, d.event_seq LIMIT \(limit) FOR UPDATE OF d SKIP LOCKED)
            UPDATE webhook_deliveries d SET attempts = d.attempts + 1, leased_until = clock_timestamp() + \(WebhookRules.leaseSeconds) * interval '1 second'
            FROM due, webhook_endpoints e WHERE d.id = due.id AND e.id = d.endpoint_id
            RETURNING d.id, d.attempts, d.event_id, d.event_type, d.body, d.created_at, e.id, e.url, e.secret_sealed,
                      CASE WHEN e.previous_secret_expires_at > \(db.now) THEN e.previous_secret_sealed END
            """
        ).all((UUID, Int32, UUID, String, String, Date, UUID, String, Data, Data?).self)
        return rows.sorted { $0.5 < $1.5 }.map { row in
            // A secret that does not open (sealed under another tenant id, as after an import) fails
            // its own delivery, not the whole batch.
            var signing = (try? open(row.8, endpoint: row.6)).map { [$0] } ?? []
            if !signing.isEmpty, let previous = row.9, let opened = try? open(previous, endpoint: row.6) { signing.append(opened) }
            return Claimed(
                id: row.0, attempt: Int(row.1), eventID: row.2, eventType: row.3, body: row.4, queuedAt: row.5, endpoint: row.6, url: row.7, secrets: signing)
        }
    }

    /// Records an attempt's outcome: the attempt row, the delivery's new state, the endpoint's failure
    /// clock, and — after 3 days of failures — the endpoint disabled with an event for staff.
    /// Returns whether the endpoint was disabled now.
    func record(_ claimed: Claimed, at started: Date, outcome: WebhookSender.Outcome, random: Double) async throws -> Bool {
        let now = db.now
        try await db.query(
            """
            INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, latency_ms, error)
            VALUES (\(claimed.id), \(claimed.attempt), \(started), \(outcome.statusCode), \(outcome.milliseconds), \(outcome.error))
            ON CONFLICT DO NOTHING
            """)
        if outcome.succeeded {
            try await db.query(
                """
                WITH done AS (
                    UPDATE webhook_deliveries SET status = 'succeeded', finished_at = \(now), leased_until = NULL,
                        last_status_code = \(outcome.statusCode), last_error = NULL
                    WHERE id = \(claimed.id) AND attempts = \(claimed.attempt) RETURNING endpoint_id)
                UPDATE webhook_endpoints SET failing_since = NULL WHERE id IN (SELECT endpoint_id FROM done) AND failing_since IS NOT NULL
                """)
            return false
        }
        let next = WebhookRules.afterFailure(attempt: claimed.attempt, queuedAt: claimed.queuedAt, now: now, random: random)
        let dead: Bool
        let nextAt: Date
        switch next {
        case .dead: (dead, nextAt) = (true, now)
        case .retry(let at): (dead, nextAt) = (false, at)
        }
        let failingSince = try await db.query(
            """
            WITH failed AS (
                UPDATE webhook_deliveries SET status = \(dead ? "dead" : "pending"), next_attempt_at = \(nextAt), leased_until = NULL,
                    finished_at = \(dead ? now : nil), last_status_code = \(outcome.statusCode), last_error = \(outcome.error ?? "HTTP \(outcome.statusCode ?? 0)")
                WHERE id = \(claimed.id) AND attempts = \(claimed.attempt) RETURNING endpoint_id)
            UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, \(started))
            WHERE id IN (SELECT endpoint_id FROM failed) AND status = 'enabled'
            RETURNING failing_since
            """
        ).first(Date.self)
        guard let failingSince, WebhookRules.shouldDisable(failingSince: failingSince, now: now) else { return false }
        let reason = "failing since \(failingSince.rfc3339): the last attempt got \(outcome.statusCode.map { "HTTP \($0)" } ?? outcome.error ?? "no answer")"
        let disabled = try await db.query(
            """
            UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = \(reason), updated_at = \(now)
            WHERE id = \(claimed.endpoint) AND status = 'enabled' RETURNING id
            """
        ).first(UUID.self)
        guard disabled != nil else { return false }
        try await Outbox.append([WebhookEndpointDisabled(endpointId: WebhookEndpointID(claimed.endpoint), failingSince: failingSince, reason: reason)], in: db)
        return true
    }

    /// Deletes deliveries finished before `before` (their attempts with them).
    func purge(finishedBefore before: Date, limit: Int) async throws -> Int {
        try await db.query(
            """
            WITH gone AS (
                DELETE FROM webhook_deliveries WHERE id IN (
                    SELECT id FROM webhook_deliveries WHERE finished_at < \(before) ORDER BY finished_at LIMIT \(limit))
                RETURNING 1)
            SELECT count(*)::int8 FROM gone
            """
        ).first(Int.self) ?? 0
    }
}
