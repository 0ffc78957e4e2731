import Foundation
import NzilaCore

/// The tenant columns that name or reach a person, and what `nzila tenants export --tokenize-pii` writes instead:
/// format-preserving tokens (`PIITokenizer`) for names, emails, phone numbers, document hints, device ids and notes;
/// the personal fields of JSON values (a recipient, a screening's subject and result, a linked bank's accounts);
/// every name of a text array; a fixed text for password hashes; free text (reasons, notes, memos, notifications,
/// webhook bodies) tokenized whole. Sealed values are left out (null, with their key column), and linked banks arrive
/// removed, their access tokens gone: a copy carries no production credential. (The tenant's wrapped data keys and
/// KYC files' rows come along; the files' objects do not.)
/// A test checks every text or JSON column of a tenant schema is either here or in `notPersonal`.
public enum TenantPII {
    public enum Treatment: Sendable, Equatable {
        case token(PIITokenizer.Kind)
        case json
        case textArray
        /// Left out of the copy.
        case null
        /// This value instead.
        case constant(String)
    }

    public struct Column: Sendable, Equatable {
        public let table: String
        public let column: String
        public let treatment: Treatment
    }

    public static let columns: [Column] = [
        Column(table: "members", column: "email", treatment: .token(.email)),
        Column(table: "members", column: "full_name", treatment: .token(.text)),
        Column(table: "members", column: "phone", treatment: .token(.text)),
        Column(table: "members", column: "password_hash", treatment: .token(.secret)),
        Column(table: "login_failures", column: "email", treatment: .token(.email)),
        Column(table: "screenings", column: "subject", treatment: .json),
        Column(table: "screenings", column: "normalized_name", treatment: .textArray),
        Column(table: "screenings", column: "result", treatment: .json),
        Column(table: "remittances", column: "recipient", treatment: .json),
        Column(table: "remittances", column: "device_id", treatment: .token(.text)),
        Column(table: "member_devices", column: "device_id", treatment: .token(.text)),
        Column(table: "notifications", column: "recipient_hint", treatment: .token(.text)),
        Column(table: "kyc_documents", column: "number_hint", treatment: .token(.text)),
        Column(table: "kyc_documents", column: "notes", treatment: .token(.text)),
        Column(table: "bank_links", column: "accounts", treatment: .json),
        Column(table: "trading_profiles", column: "display_name", treatment: .token(.text)),
        Column(table: "trading_competition_results", column: "display_name", treatment: .token(.text)),
        Column(table: "accounts", column: "name", treatment: .token(.text)),
        Column(table: "compliance_case_events", column: "note", treatment: .token(.text)),
        Column(table: "devices", column: "token_hint", treatment: .token(.text)),
        Column(table: "tontine_arrears", column: "note", treatment: .token(.text)),
        Column(table: "tontine_circles", column: "name", treatment: .token(.text)),
        Column(table: "account_status_changes", column: "reason", treatment: .token(.text)),
        Column(table: "compliance_cases", column: "summary", treatment: .token(.text)),
        Column(table: "compliance_cases", column: "detail", treatment: .json),
        Column(table: "holds", column: "memo", treatment: .token(.text)),
        Column(table: "journals", column: "memo", treatment: .token(.text)),
        Column(table: "kyc_file_reveals", column: "reason", treatment: .token(.text)),
        Column(table: "kyc_tier_changes", column: "reason", treatment: .token(.text)),
        Column(table: "loan_status_log", column: "reason", treatment: .token(.text)),
        Column(table: "notifications", column: "title", treatment: .token(.text)),
        Column(table: "notifications", column: "body", treatment: .token(.text)),
        Column(table: "remittance_status_log", column: "reason", treatment: .token(.text)),
        Column(table: "tontine_disputes", column: "reason", treatment: .token(.text)),
        Column(table: "tontine_status_log", column: "reason", treatment: .token(.text)),
        Column(table: "trading_copy_log", column: "detail", treatment: .token(.text)),
        Column(table: "trading_idea_comments", column: "body", treatment: .token(.text)),
        Column(table: "trading_idea_comments", column: "hidden_reason", treatment: .token(.text)),
        Column(table: "trading_ideas", column: "thesis", treatment: .token(.text)),
        Column(table: "trading_ideas", column: "hidden_reason", treatment: .token(.text)),
        Column(table: "trading_order_log", column: "reason", treatment: .token(.text)),
        Column(table: "webhook_deliveries", column: "body", treatment: .token(.text)),
        // Sealed values stay in production.
        Column(table: "kyc_documents", column: "number_sealed", treatment: .null),
        Column(table: "kyc_documents", column: "key_id", treatment: .null),
        Column(table: "remittances", column: "recipient_sealed", treatment: .null),
        Column(table: "remittances", column: "key_id", treatment: .null),
        Column(table: "remittances", column: "funding_secret_sealed", treatment: .null),
        Column(table: "remittances", column: "funding_secret_key", treatment: .null),
        Column(table: "bank_links", column: "token_sealed", treatment: .null),
        Column(table: "bank_links", column: "key_id", treatment: .null),
        Column(table: "bank_links", column: "status", treatment: .constant("removed")),
    ]

    /// Columns whose names sound personal but hold none, and why (checked by a test with `columns`).
    public static let notPersonal: [String: String] = [
        "academy_scenario_runs.result": "a lesson scenario's outcome: prices and positions of the course's simulation",
        "loan_products.name": "a credit union's product name",
        "trading_competitions.name": "a competition's name, set by staff",
        "trading_watchlists.name": "a member's label for a list of stock symbols",
        "webhook_endpoints.description": "staff's description of an integration endpoint",
        "webhook_endpoints.disabled_reason": "the platform's account of failed deliveries (status codes, counts)",
        "trading_copies.stop_reason": "one of member or stop_loss",
        "member_risk_ratings.reasons": "the rating's factors and points (PEP kind, country codes, occupation codes)",
    ]

    /// Per table, its declared columns.
    static var byTable: [String: [Column]] { Dictionary(grouping: columns, by: \.table) }
}

extension TenantPII {
    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    /// One exported row from `[row without its personal columns (JSON text), value, value, …]`: the row's JSON with
    /// each personal column added back tokenized.
    static func tokenizedLine(_ packed: String, columns: [Column], tokenizer: PIITokenizer) throws -> String {
        guard let array = try JSONSerialization.jsonObject(with: Data(packed.utf8), options: [.fragmentsAllowed]) as? [Any],
            let base = array.first as? String, array.count == columns.count + 1
        else { throw Malformed(description: "an exported row is not the expected array") }
        var pairs: [String] = []
        for (column, value) in zip(columns, array.dropFirst()) {
            let replaced: Any
            switch column.treatment {
            case .token(let kind): replaced = (value as? String).map { tokenizer.token($0, kind: kind) } ?? value
            case .json: replaced = tokenizer.tokenizeJSON(value)
            case .textArray: replaced = (value as? [Any])?.map { item -> Any in (item as? String).map { tokenizer.token($0, kind: .text) } ?? item } ?? value
            case .null: replaced = NSNull()
            case .constant(let text): replaced = text
            }
            let encoded = try JSONSerialization.data(withJSONObject: replaced, options: [.fragmentsAllowed, .sortedKeys, .withoutEscapingSlashes])
            let name = try JSONSerialization.data(withJSONObject: column.column, options: [.fragmentsAllowed])
            pairs.append(String(decoding: name, as: UTF8.self) + ": " + String(decoding: encoded, as: UTF8.self))
        }
        var body = base.trimmingCharacters(in: .whitespaces)
        guard body.hasSuffix("}") else { throw Malformed(description: "an exported row is not a JSON object") }
        body.removeLast()
        let empty = body.trimmingCharacters(in: .whitespaces) == "{"
        return body + (empty ? "" : ", ") + pairs.joined(separator: ", ") + "}"
    }
}
