import Foundation
import Logging
import NzilaCore
import PostgresNIO

/// A tenant as the data plane knows it from the registry.
public struct TenantRef: Sendable, Equatable {
    public enum Status: String, Sendable { case active, suspended, offboarded }

    public let id: TenantID
    public let slug: TenantSlug
    public let status: Status
    public let poolGroup: Int
    /// The tenant migration version its schema is at (from the registry).
    public let schemaVersion: Int
    /// The product domains its configuration enables (banking, remittance, …).
    public let enabledDomains: Set<String>

    public init(id: TenantID, slug: TenantSlug, status: Status, poolGroup: Int, schemaVersion: Int, enabledDomains: Set<String>) {
        self.id = id
        self.slug = slug
        self.status = status
        self.poolGroup = poolGroup
        self.schemaVersion = schemaVersion
        self.enabledDomains = enabledDomains
    }
}

/// The handle domain stores get inside a tenant transaction. It is the only way to reach tenant
/// data: it exists only inside `TenantSession.run`, after role, search_path and tenant are set.
public struct TenantDB: Sendable {
    let connection: PostgresConnection
    public let logger: Logger
    public let tenant: TenantRef
    /// The transaction's business time, read once from the platform clock at BEGIN: stores bind it
    /// wherever SQL compares or stamps business time (never PostgreSQL's `now()`).
    public let now: Date

    /// Runs one bound statement in the tenant transaction.
    @discardableResult
    public func query(_ query: PostgresQuery, file: String = #fileID, line: Int = #line) async throws -> PostgresRowSequence {
        RequestFacts.roundTrips(1)
        return try await Traces.statement(query.sql) { try await connection.query(query, logger: logger, file: file, line: line) }
    }
}

extension TenantDB {
    /// A statement the session itself sends (set_config, audit), already counted with BEGIN and COMMIT.
    func uncounted(_ query: PostgresQuery) async throws {
        _ = try await Traces.statement(query.sql) { try await connection.query(query, logger: logger) }
    }
}

/// A staff action to record in the audit log, in the same transaction as the action itself.
public struct AuditAction: Sendable, Equatable {
    public let actor: AuditActor
    /// The route, ids replaced: "POST /v1/accounts/{id}/status".
    public let action: String
    /// The concrete resource: "/v1/accounts/9c…/status".
    public let target: String

    public init(actor: AuditActor, action: String, target: String) {
        self.actor = actor
        self.action = action
        self.target = target
    }
}

/// One request's unit of work on a tenant's data: a transaction through PgBouncer that first sets
/// the tenant's role, search_path, tenant id, member id and platform time (`app.now`, microseconds
/// since 2000, which stamps outbox events) with `set_config(…, true)` (transaction-local, so nothing
/// survives COMMIT on a pooled server connection), then runs the domain code.
/// Round trips: BEGIN, the one set_config SELECT, the domain statements, COMMIT.
public struct TenantSession: Sendable {
    let client: PostgresClient
    public let tenant: TenantRef
    public let memberID: MemberID?
    /// Set for a staff write: every transaction of the session that commits records it.
    public let audit: AuditAction?
    /// The platform clock: each transaction reads its `TenantDB.now` from it.
    public let clock: Clock
    let logger: Logger

    public init(client: PostgresClient, tenant: TenantRef, memberID: MemberID?, audit: AuditAction? = nil, clock: Clock, logger: Logger) {
        self.client = client
        self.tenant = tenant
        self.memberID = memberID
        self.audit = audit
        self.clock = clock
        self.logger = logger
    }

    /// Runs `body` in the tenant's transaction; COMMIT when it returns, ROLLBACK when it throws. The
    /// closure's own error comes back unwrapped so handlers can map it.
    public func run<Result: Sendable>(_ body: (TenantDB) async throws -> Result) async throws -> Result {
        // BEGIN, the set_config SELECT and COMMIT (or ROLLBACK); the audit entry below adds one.
        RequestFacts.roundTrips(audit == nil ? 3 : 4)
        // The pool's state as the platform sees it: transactions in flight, and how long each took to start
        // (waiting for a pooled connection, plus BEGIN) — postgres-nio's pool does not publish its own numbers.
        let pool = [("pool", "group\(tenant.poolGroup)")]
        let asked = ContinuousClock.now
        Observability.adjust("nzila_db_transactions_in_flight", pool, by: 1)
        defer { Observability.adjust("nzila_db_transactions_in_flight", pool, by: -1) }
        // A span for the transaction (BEGIN to COMMIT) with the statements' spans under it, when tracing.
        return try await OutboxWake.tracking(tenant) {
          try await Traces.span("db transaction", kind: .client, attributes: { $0["db.system.name"] = "postgresql" }) {
            try await client.transaction(logger: logger) { connection in
                Observability.record("nzila_db_connection_wait_seconds", pool, seconds: (ContinuousClock.now - asked).inSeconds)
                let db = TenantDB(connection: connection, logger: logger, tenant: tenant, now: clock.now())
                try await db.uncounted(
                    """
                    SELECT set_config('role', \(tenant.slug.roleName), true),
                           set_config('search_path', \(tenant.slug.schemaName), true),
                           set_config('app.tenant_id', \(tenant.id.rawValue.uuidString), true),
                           set_config('app.member_id', \(memberID?.rawValue.uuidString ?? ""), true),
                           set_config('app.now', \(String(PostingTime(db.now).microsecondsSince2000)), true)
                    """)
                let result = try await body(db)
                if let audit {
                    try await db.uncounted(
                        """
                        SELECT audit.record(\(audit.actor.id), \(audit.actor.role.rawValue), \(audit.actor.requestID), \(audit.action),
                                            \(audit.target), '{}'::jsonb)
                        """)
                }
                return result
            }
          }
        }
    }

    /// The same session without the audit entry, for a read a write request makes on the side (a
    /// cache refresh) that must not record the write a second time.
    public var unaudited: TenantSession {
        TenantSession(client: client, tenant: tenant, memberID: memberID, audit: nil, clock: clock, logger: logger)
    }

    /// The session's identity as bind values, for the `tenant_api` functions.
    public struct Identity: Sendable {
        public let role: String
        public let schema: String
        public let tenantID: UUID
        public let memberID: UUID?
        /// The staff write to audit, for functions that write.
        public let audit: AuditAction?
    }

    /// One round trip for a hot read: calls a `tenant_api` function (Migrations/control/0002) that
    /// applies this identity with set_config(…, true) and then runs its query, all in the implicit
    /// transaction of one statement. The caller builds the call from the identity it is given; it runs
    /// as `nzila_app`, which has no tenant privileges of its own, so nothing else is reachable this way.
    public func call<Result: Sendable>(
        _ query: (Identity) throws -> PostgresQuery, _ decode: (PostgresRowSequence) async throws -> Result
    ) async throws -> Result {
        RequestFacts.roundTrips(1)
        let identity = Identity(
            role: tenant.slug.roleName, schema: tenant.slug.schemaName, tenantID: tenant.id.rawValue, memberID: memberID?.rawValue, audit: audit)
        return try await OutboxWake.tracking(tenant) { try await client.statement(try query(identity), logger: logger, decode) }
    }
}
