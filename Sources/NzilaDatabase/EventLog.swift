import Foundation
import NzilaCore
import PostgresNIO

/// An outbox event once the relay has numbered it: what streams, webhooks and notifications carry.
public struct PublishedEvent: Sendable, Equatable {
    /// The tenant's sequence number: gap-free and in commit order (Migrations/tenant/0015).
    public let seq: Int64
    /// `<domain>.<event>.v<n>`.
    public let type: String
    public let aggregateID: UUID
    /// The members whose streams carry it (staff with the topic's permission see all).
    public let audience: [UUID]
    /// The platform time of the transaction that wrote it.
    public let occurredAt: Date
    /// The payload, as the JSON object text the outbox holds.
    public let payload: String

    public init(seq: Int64, type: String, aggregateID: UUID, audience: [UUID], occurredAt: Date, payload: String) {
        self.seq = seq
        self.type = type
        self.aggregateID = aggregateID
        self.audience = audience
        self.occurredAt = occurredAt
        self.payload = payload
    }

    /// The domain part of the type: `remittance` for `remittance.delivered.v1`.
    public var domain: Substring { type.prefix { $0 != "." } }
}

/// The relay's SQL on a tenant's outbox: number what committed, read a range back, purge old events.
public struct EventLog: Sendable {
    let db: TenantDB

    public init(_ db: TenantDB) { self.db = db }

    /// Numbers up to `limit` unsequenced events in id order and stamps them published, under the
    /// lock of the tenant's relay row, then announces the new last seq on `nzila_events` (delivered at
    /// COMMIT). Returns how many it numbered and the last seq. Two statements.
    ///
    /// The lock is waited for, not skipped: a relay that skipped a tenant another plane is numbering
    /// could leave an event that committed after that plane's snapshot to the next sweep. Waiting,
    /// it reads the row again once the other commits (READ COMMITTED) and numbers what is left. The
    /// lock is held for one statement's work.
    ///
    /// The same statement queues a webhook delivery of each numbered event for every enabled endpoint
    /// of the tenant that wants its type (`webhook_deliveries`, Migrations/tenant/0016): the body is
    /// the signed envelope `{"id","seq","type","occurred_at","tenant","data"}`, and the event id is
    /// derived from the tenant and seq, so it is the same on every attempt. `queued` says how many.
    public func publish(limit: Int, channel: String) async throws -> (count: Int, lastSeq: Int64, queued: Int)? {
        var cursor = try await db.query("SELECT last_seq FROM outbox_relay FOR UPDATE").first(Int64.self)
        if cursor == nil {
            // A schema that predates its relay row (then a second relay's insert waits, and returns nothing).
            cursor = try await db.query("INSERT INTO outbox_relay DEFAULT VALUES ON CONFLICT DO NOTHING RETURNING last_seq").first(Int64.self)
        }
        guard let last = cursor else { return nil }
        let tenant = db.tenant.id.rawValue.uuidString.lowercased()
        let row = try await db.query(
            """
            WITH picked AS (
                SELECT id, row_number() OVER (ORDER BY id) AS n FROM (
                    SELECT id FROM outbox_events WHERE seq IS NULL ORDER BY id LIMIT \(limit)) oldest),
            numbered AS (
                UPDATE outbox_events o SET seq = \(last) + p.n, published_at = \(db.now) FROM picked p WHERE o.id = p.id
                RETURNING o.seq, o.topic, o.payload, o.created_at),
            moved AS (
                UPDATE outbox_relay SET last_seq = \(last) + (SELECT count(*) FROM numbered) WHERE (SELECT count(*) FROM numbered) > 0
                RETURNING last_seq),
            queued AS (
                INSERT INTO webhook_deliveries (endpoint_id, event_id, event_seq, event_type, body, next_attempt_at, created_at)
                SELECT e.id, md5(\(tenant) || ':' || n.seq)::uuid, n.seq, n.topic,
                       jsonb_build_object('id', md5(\(tenant) || ':' || n.seq)::uuid, 'seq', n.seq, 'type', n.topic,
                                          'occurred_at', to_char(n.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                                          'tenant', \(db.tenant.slug.value)::text, 'data', n.payload)::text,
                       \(db.now), \(db.now)
                FROM numbered n JOIN webhook_endpoints e ON e.status = 'enabled'
                    AND ('*' = ANY (e.event_types) OR n.topic = ANY (e.event_types) OR split_part(n.topic, '.', 1) || '.*' = ANY (e.event_types))
                RETURNING 1)
            SELECT (SELECT count(*) FROM numbered)::int8, coalesce((SELECT last_seq FROM moved), \(last)),
                   (SELECT count(*) FROM moved CROSS JOIN LATERAL pg_notify(\(channel), \(tenant) || ':' || last_seq) n)::int8,
                   (SELECT count(*) FROM queued)::int8
            """
        ).first((Int64, Int64, Int64, Int64).self)
        guard let row else { return (0, last, 0) }
        return (Int(row.0), row.1, Int(row.3))
    }

    /// Events with `after < seq <= upTo` (nil: to the last), in seq order, at most `limit`.
    public func events(after: Int64, upTo: Int64? = nil, limit: Int) async throws -> [PublishedEvent] {
        try await db.query(
            """
            SELECT seq, topic, aggregate_id, audience, created_at, payload::text FROM outbox_events
            WHERE seq > \(after) AND (\(upTo)::int8 IS NULL OR seq <= \(upTo)) ORDER BY seq LIMIT \(limit)
            """
        ).all((Int64, String, UUID, [UUID], Date, String).self).map {
            PublishedEvent(seq: $0.0, type: $0.1, aggregateID: $0.2, audience: $0.3, occurredAt: $0.4, payload: $0.5)
        }
    }

    /// The last seq numbered, and the first one still kept (nil: none kept).
    public func bounds() async throws -> (last: Int64, firstKept: Int64?) {
        let row = try await db.query(
            "SELECT coalesce((SELECT last_seq FROM outbox_relay), 0), (SELECT min(seq) FROM outbox_events WHERE seq IS NOT NULL)"
        ).first((Int64, Int64?).self)
        return (row?.0 ?? 0, row?.1)
    }

    /// Deletes events published before `before` (business time), at most `limit`: the stream's
    /// resume window. Returns how many went.
    public func purge(publishedBefore before: Date, limit: Int) async throws -> Int {
        try await db.query(
            """
            WITH gone AS (
                DELETE FROM outbox_events WHERE id IN (
                    SELECT id FROM outbox_events WHERE published_at < \(before) ORDER BY published_at LIMIT \(limit))
                RETURNING 1)
            SELECT count(*)::int8 FROM gone
            """
        ).first(Int.self) ?? 0
    }
}
