import Foundation
import NzilaCore
import NzilaDatabase
import PostgresNIO

/// A case as the API returns it.
public struct CaseRecord: Codable, Sendable {
    public struct Event: Codable, Sendable {
        public let action: String
        public let actor: String?
        public let actorRole: String?
        public let note: String?
        public let at: Date
    }

    public let id: CaseID
    public let kind: String
    public let status: CaseStatus
    public let memberID: MemberID?
    public let screeningID: ScreeningID?
    public let summary: String
    public let assignedTo: UserID?
    public let openedAt: Date
    public let decidedAt: Date?
    public let decidedBy: UserID?
    /// The remittance the case holds, for a case opened by a send decision.
    public let remittanceID: RemittanceID?
    public var events: [Event]?
}

/// A Suspicious Transaction or Electronic Funds Transfer Report as drafted for FINTRAC.
public struct ReportRecord: Codable, Sendable {
    public let id: ReportID
    public let kind: String
    public let status: ReportStatus
    public let caseID: CaseID?
    public let dueAt: Date
    public let createdAt: Date
    /// The report's fields, as FINTRAC's reporting schema names them, passed through unchanged.
    public let report: JSONValue
}

/// The case queue and reports in the tenant's schema (Migrations/tenant/0006).
public struct CaseStore {
    let db: TenantDB

    public init(_ db: TenantDB) { self.db = db }

    static let columns = "id, kind, status, member_id, screening_id, summary, assigned_to, opened_at, decided_at, decided_by, remittance_id"
    typealias Row = (UUID, String, String, UUID?, UUID?, String, UUID?, Date, Date?, UUID?, UUID?)

    static func record(_ row: Row) throws -> CaseRecord {
        CaseRecord(
            id: CaseID(row.0), kind: row.1, status: try .stored(row.2), memberID: row.3.map { MemberID($0) },
            screeningID: row.4.map { ScreeningID($0) }, summary: row.5, assignedTo: row.6.map { UserID($0) }, openedAt: row.7, decidedAt: row.8,
            decidedBy: row.9.map { UserID($0) }, remittanceID: row.10.map { RemittanceID($0) }, events: nil)
    }

    /// Opens a case with its first event, in the caller's transaction.
    @discardableResult
    public func open(
        kind: String, memberID: UUID?, screeningID: UUID?, summary: String, detail: String = "{}", remittanceID: UUID? = nil, by principal: Principal?
    ) async throws -> UUID {
        let id = UUID()
        try await db.query(
            """
            WITH opened AS (
                INSERT INTO compliance_cases (id, kind, member_id, screening_id, summary, detail, remittance_id)
                VALUES (\(id), \(kind), \(memberID), \(screeningID), \(String(summary.prefix(500))), \(detail)::jsonb, \(remittanceID)) RETURNING id)
            INSERT INTO compliance_case_events (case_id, action, actor, actor_role, note)
            SELECT id, 'opened', \(principal?.id), \(principal?.role.rawValue), \(summary) FROM opened
            """)
        return id
    }

    /// The queue, oldest first within the requested statuses (default: open and escalated).
    public func list(statuses: [CaseStatus], page: PageRequest) async throws -> Page<CaseRecord> {
        let after = page.after
        let rows = try await db.query(
            """
            SELECT \(unescaped: Self.columns), (extract(epoch FROM opened_at) * 1000000)::int8 FROM compliance_cases
            WHERE status = ANY(\(statuses.map(\.rawValue)))
              AND (\(after == nil) OR (opened_at, id) > ('epoch'::timestamptz + \(after?.position ?? 0) * interval '1 microsecond', \(after?.id ?? UUID())))
            ORDER BY opened_at, id LIMIT \(page.limit + 1)
            """
        ).all((UUID, String, String, UUID?, UUID?, String, UUID?, Date, Date?, UUID?, UUID?, Int64).self)
        return try page.page(
            of: rows, item: { try Self.record(($0.0, $0.1, $0.2, $0.3, $0.4, $0.5, $0.6, $0.7, $0.8, $0.9, $0.10)) },
            cursor: { PageCursor(position: $0.11, id: $0.0) })
    }

    /// One case with its events; `lock` takes the row lock for a change.
    public func find(_ id: UUID, lock: Bool = false, events: Bool = true) async throws -> CaseRecord? {
        guard let row = try await db.query(
            "SELECT \(unescaped: Self.columns) FROM compliance_cases WHERE id = \(id) \(unescaped: lock ? "FOR UPDATE" : "")"
        ).first(Row.self) else { return nil }
        var record = try Self.record(row)
        if events {
            record.events = try await db.query(
                "SELECT action, actor, actor_role, note, created_at FROM compliance_case_events WHERE case_id = \(id) ORDER BY id"
            ).all((String, UUID?, String?, String?, Date).self).map {
                CaseRecord.Event(action: $0.0, actor: $0.1?.lowercased, actorRole: $0.2, note: $0.3, at: $0.4)
            }
        }
        return record
    }

    public func event(_ id: UUID, action: String, note: String?, by principal: Principal) async throws {
        try await db.query(
            """
            INSERT INTO compliance_case_events (case_id, action, actor, actor_role, note)
            VALUES (\(id), \(action), \(principal.id), \(principal.role.rawValue), \(note))
            """)
    }

    public func assign(_ id: UUID, to assignee: UUID, by principal: Principal) async throws {
        try await db.query("UPDATE compliance_cases SET assigned_to = \(assignee) WHERE id = \(id)")
        try await event(id, action: "assigned", note: "assigned to \(assignee.lowercased)", by: principal)
    }

    public func decide(_ id: UUID, status: CaseStatus, reason: String, by principal: Principal) async throws {
        let final = status.isFinal
        try await db.query(
            """
            UPDATE compliance_cases SET status = \(status.rawValue),
                decided_at = CASE WHEN \(final) THEN clock_timestamp() END, decided_by = CASE WHEN \(final) THEN \(principal.id)::uuid END
            WHERE id = \(id)
            """)
        try await event(id, action: status.rawValue, note: reason, by: principal)
    }
}
