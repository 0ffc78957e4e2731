import Foundation
import NzilaCore
import NzilaDatabase
import PostgresNIO

/// FINTRAC reports drafted in the tenant's schema. Each is stored as the JSON document FINTRAC's
/// reporting schema describes (field names follow its report sections), with its filing deadline.
public struct ReportDrafts {
    let db: TenantDB

    public init(_ db: TenantDB) { self.db = db }

    /// FINTRAC asks for an STR "as soon as practicable" once there are reasonable grounds to suspect;
    /// the draft carries a target three calendar days out, and says so.
    static let strTargetDays = 3

    /// A Suspicious Transaction Report from a confirmed case: the reporting entity, the grounds, the
    /// subject (the member), the screening that raised it with its list entries and versions, the
    /// remittance it held (amounts, rate, beneficiary as shown to staff, the hold's reasons), the
    /// action taken, and the member's ledger movements of the last 30 days (at most 100).
    public func suspiciousTransaction(case found: CaseRecord, grounds: String, by principal: Principal, now: Date) async throws -> ReportRecord {
        let id = UUID()
        let due = now.addingTimeInterval(Double(Self.strTargetDays) * 86_400)
        let caseID = found.id.rawValue
        let memberID = found.memberID?.rawValue
        let payload = try await db.query(
            """
            SELECT jsonb_build_object(
                'report_type', 'STR',
                'report_name', 'Suspicious Transaction Report',
                'legal_basis', 'Proceeds of Crime (Money Laundering) and Terrorist Financing Act, section 7',
                'reporting_entity', jsonb_build_object(
                    'name', (SELECT value #>> '{display_name}' FROM tenant_config WHERE key = 'branding'),
                    'tenant_id', current_setting('app.tenant_id'),
                    'entity_reference_number', \(caseID.lowercased)::text),
                'submission', jsonb_build_object(
                    'status', 'draft', 'drafted_at', to_char(\(now)::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                    'drafted_by', \(principal.id.lowercased)::text, 'drafted_by_role', \(principal.role.rawValue)::text,
                    'deadline', 'as soon as practicable',
                    'target_date', to_char(\(due)::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD')),
                'details_of_suspicion', jsonb_build_object(
                    'grounds_for_suspicion', \(grounds)::text,
                    'case', jsonb_build_object('id', c.id, 'kind', c.kind, 'summary', c.summary, 'opened_at', c.opened_at, 'decided_at', c.decided_at,
                        'steps', (SELECT coalesce(jsonb_agg(jsonb_build_object('action', e.action, 'at', e.created_at, 'role', e.actor_role, 'note', e.note) ORDER BY e.id), '[]')
                                  FROM compliance_case_events e WHERE e.case_id = c.id)),
                    'screening', (SELECT jsonb_build_object('id', s.id, 'subject', s.subject, 'decision', s.decision, 'score', s.score,
                                                            'candidates', s.result -> 'candidates', 'list_versions', s.result -> 'listVersions')
                                  FROM screenings s WHERE s.id = c.screening_id),
                    'remittance', (SELECT jsonb_build_object('id', r.id, 'date_time', r.created_at, 'state', r.state, 'corridor', r.corridor,
                                                             'payout_method', r.method, 'amount_minor', r.send_minor, 'currency', 'CAD',
                                                             'fee_minor', r.fee_minor, 'received_amount_minor', r.receive_minor,
                                                             'received_currency', r.receive_currency, 'exchange_rate', r.customer_rate::text,
                                                             'beneficiary', r.recipient, 'hold_reasons', r.decision -> 'hold_reasons')
                                   FROM remittances r WHERE r.id = c.remittance_id)),
                'action_taken', (SELECT 'Case ' || e.action || ' by ' || coalesce(e.actor_role, 'staff') || ' on ' || to_char(e.created_at, 'YYYY-MM-DD')
                                        || coalesce(': ' || e.note, '')
                                 FROM compliance_case_events e WHERE e.case_id = c.id AND e.action IN ('released', 'rejected') ORDER BY e.id DESC LIMIT 1),
                'subjects', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                 'type', 'person', 'member_id', m.id, 'full_name', m.full_name, 'email', m.email, 'telephone', m.phone,
                                 'kyc_tier', m.kyc_tier, 'member_since', m.created_at)), '[]')
                             FROM members m WHERE m.id = \(memberID)),
                'transactions', (SELECT coalesce(jsonb_agg(recent.t ORDER BY recent.date DESC), '[]') FROM (
                    SELECT jsonb_build_object('date', en.created_at, 'amount_minor', abs(en.amount_minor), 'currency', en.currency,
                                              'direction', CASE WHEN en.amount_minor > 0 THEN 'in' ELSE 'out' END,
                                              'account_id', en.account_id, 'journal_id', en.journal_id, 'kind', j.kind) AS t, en.created_at AS date
                    FROM entries en JOIN accounts a ON a.id = en.account_id JOIN journals j ON j.id = en.journal_id
                    WHERE a.member_id = \(memberID) AND en.created_at > \(now)::timestamptz - interval '30 days'
                    ORDER BY en.id DESC LIMIT 100) AS recent))::text
            FROM compliance_cases c WHERE c.id = \(caseID)
            """
        ).first(String.self)
        guard let payload else { throw Problem.notFound("Case \(found.id)") }
        let created: Date
        do {
            created = try await db.query(
                """
                INSERT INTO compliance_reports (id, kind, case_id, payload, due_at, created_by)
                VALUES (\(id), 'str', \(caseID), \(payload)::jsonb, \(due), \(principal.id)) RETURNING created_at
                """
            ).first(Date.self) ?? now
        } catch let error where DatabaseErrors.sqlState(error) == "23505" {
            throw Problem.conflict("report-exists", "A Suspicious Transaction Report was already drafted for this case.")
        }
        try await db.query(
            """
            INSERT INTO compliance_case_events (case_id, action, actor, actor_role, note)
            VALUES (\(caseID), 'reported', \(principal.id), \(principal.role.rawValue), \("STR drafted: \(id.lowercased)"))
            """)
        return ReportRecord(
            id: ReportID(id), kind: "str", status: .draft, caseID: found.id, dueAt: due, createdAt: created,
            report: try JSONDecoder().decode(JSONValue.self, from: Data(payload.utf8)))
    }

    public func list(_ page: PageRequest) async throws -> Page<ReportRecord> {
        let after = page.after
        let rows = try await db.query(
            """
            SELECT id, kind, status, case_id, due_at, created_at, payload::text, (extract(epoch FROM created_at) * 1000000)::int8 FROM compliance_reports
            WHERE \(after == nil) OR (created_at, id) < ('epoch'::timestamptz + \(after?.position ?? 0) * interval '1 microsecond', \(after?.id ?? UUID()))
            ORDER BY created_at DESC, id DESC LIMIT \(page.limit + 1)
            """
        ).all((UUID, String, String, UUID?, Date, Date, String, Int64).self)
        let records = try rows.map { try Self.record(($0.0, $0.1, $0.2, $0.3, $0.4, $0.5, $0.6)) }
        return Page(
            data: Array(records.prefix(page.limit)),
            nextCursor: rows.count > page.limit ? PageCursor(position: rows[page.limit - 1].7, id: rows[page.limit - 1].0).encoded : nil)
    }

    public func find(_ id: UUID) async throws -> ReportRecord? {
        try await db.query(
            "SELECT id, kind, status, case_id, due_at, created_at, payload::text FROM compliance_reports WHERE id = \(id)"
        ).first((UUID, String, String, UUID?, Date, Date, String).self).map(Self.record)
    }

    static func record(_ row: (UUID, String, String, UUID?, Date, Date, String)) throws -> ReportRecord {
        ReportRecord(
            id: ReportID(row.0), kind: row.1, status: try .stored(row.2), caseID: row.3.map { CaseID($0) }, dueAt: row.4, createdAt: row.5,
            report: try JSONDecoder().decode(JSONValue.self, from: Data(row.6.utf8)))
    }
}
