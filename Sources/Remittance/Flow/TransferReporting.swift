import Compliance
import Foundation
import NzilaCore
import NzilaDatabase

/// FINTRAC Electronic Funds Transfer Reports, drafted when an international transfer is delivered:
/// one of 10,000 CAD or more, or — the 24-hour rule — the member's transfers within 24 hours, each
/// under 10,000, that together reach it (`EFTReporting`, pure). A transfer is covered by one report
/// only. The draft carries the fields of FINTRAC's EFTR (outgoing, international): the reporting
/// entity, the ordering client, the beneficiary, the transfers with their amounts in CAD and the
/// rate, the intermediary partner, and the filing deadline (five working days).
enum TransferReporting {
    static func afterDelivery(_ db: TenantDB, order: RemittanceOrder, now: Date) async throws {
        let member = order.memberId.rawValue
        let id = order.id.rawValue
        let since = order.createdAt.addingTimeInterval(-86_400)
        let rows = try await db.query(
            """
            SELECT r.id, (extract(epoch FROM r.created_at) * 1000)::int8, r.send_minor,
                   EXISTS (SELECT 1 FROM compliance_reports p WHERE p.kind = 'eftr' AND r.id = ANY(p.remittance_ids))
            FROM remittances r
            WHERE r.member_id = \(member) AND r.created_at > \(since) AND r.created_at <= \(order.createdAt)
              AND r.state <> ALL(\(SenderProfile.notCounting))
            """
        ).all((UUID, Int64, Int64, Bool).self)
        let activity = rows.map { TransferActivity(id: $0.0.lowercased, at: $0.1, amountCADMinor: $0.2) }
        guard let this = activity.first(where: { $0.id == order.id.description }) else { return }
        let reported = Set(rows.filter(\.3).map { $0.0.lowercased })
        guard let decision = EFTReporting.decide(this, history: activity, reported: reported) else { return }
        let lastDay = (activity.filter { decision.transferIDs.contains($0.id) }.map(\.at).max() ?? this.at) / 86_400_000
        let due = Date(timeIntervalSince1970: Double(EFTReporting.deadline(afterDay: lastDay) * 86_400 + 86_399))
        let ids = decision.transferIDs.compactMap(UUID.init(uuidString:))
        try await db.query(
            """
            INSERT INTO compliance_reports (id, kind, payload, due_at, remittance_ids)
            SELECT \(UUID()), 'eftr', jsonb_build_object(
                'report_type', 'EFTR',
                'report_name', 'Electronic Funds Transfer Report (outgoing, international)',
                'legal_basis', 'Proceeds of Crime (Money Laundering) and Terrorist Financing Regulations, section 12',
                'reason', \(decision.reason.rawValue)::text,
                'total_amount_cad_minor', \(decision.totalMinor)::int8,
                'reporting_entity', jsonb_build_object(
                    'name', (SELECT value #>> '{display_name}' FROM tenant_config WHERE key = 'branding'),
                    'tenant_id', current_setting('app.tenant_id'), 'entity_reference_number', \(id.lowercased)::text),
                'submission', jsonb_build_object('status', 'draft', 'drafted_at', to_char(\(now)::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                    'deadline', to_char(\(due)::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 'drafted_by', 'system'),
                'ordering_client', (SELECT jsonb_build_object('member_id', m.id, 'full_name', m.full_name, 'email', m.email, 'telephone', m.phone,
                                                              'kyc_tier', m.kyc_tier) FROM members m WHERE m.id = \(member)),
                'transactions', (SELECT jsonb_agg(jsonb_build_object(
                        'remittance_id', r.id, 'date_time', to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                        'direction', 'outgoing', 'amount_minor', r.send_minor, 'currency', 'CAD', 'amount_cad_minor', r.send_minor,
                        'exchange_rate', r.customer_rate::text, 'received_amount_minor', r.receive_minor, 'received_currency', r.receive_currency,
                        'payout_method', r.method, 'corridor', r.corridor,
                        'beneficiary', jsonb_build_object('name', r.recipient ->> 'name', 'country', r.recipient ->> 'country',
                                                          'account_hint', r.recipient ->> 'hint'),
                        'intermediary', jsonb_build_object('partner', r.partner, 'partner_reference', r.partner_reference)) ORDER BY r.created_at)
                    FROM remittances r WHERE r.id = ANY(\(ids)))),
                \(due), \(ids)
            """)
    }
}
