import Banking
import Ledger
import DataPlane
import Foundation
import HTTPTypes
import NzilaCore
import NzilaDatabase
import PostgresNIO
import Remittance
import Tontine
import Testing

/// Request plumbing for the remittance tests: money in, a quote, an order, the worker, the ledger check.
extension Planes {
    func deposit(_ f: Fixture, member index: Int, minor: Int) async throws {
        let reply = try await data(
            .post, "/v1/deposits", token: f.staffToken, tenant: f.slug, json: ["account_id": f.members[index].accountID, "amount": minor, "currency": "CAD"],
            headers: [.idempotencyKey: UUID().uuidString])
        try #require(reply.status == .created, "deposit failed: \(reply.text)")
    }

    func quoteID(_ f: Fixture, member index: Int, corridor: String = "CAD-NGN", method: String = "mobile_money", sendMinor: Int) async throws -> String {
        let reply = try await data(
            .post, "/v1/quotes", token: f.members[index].token, tenant: f.slug, json: ["corridor": corridor, "method": method, "send_amount": sendMinor])
        try #require(reply.status == .created, "quote failed: \(reply.text)")
        return try #require(reply.json["id"] as? String)
    }

    static func recipient(_ method: String, name: String) -> [String: Any] {
        switch method {
        case "bank_deposit": return ["name": name, "country": "NG", "bank_code": "058", "account_number": "0123456789"]
        case "cash_pickup": return ["name": name, "country": "CM", "id_type": "national_id", "id_number": "CM-99887766"]
        default: return ["name": name, "country": "NG", "msisdn": "+2348031234567", "mobile_operator": "mtn"]
        }
    }

    /// Places an order from a fresh quote, funded from the member's account unless `funding` says webhook.
    func remit(
        _ f: Fixture, member index: Int = 0, corridor: String = "CAD-NGN", method: String = "mobile_money", sendMinor: Int = 10_000,
        name: String = "Ada Bello", funding: String = "account", key: String = UUID().uuidString, extra: [String: Any] = [:]
    ) async throws -> Reply {
        let quote = try await quoteID(f, member: index, corridor: corridor, method: method, sendMinor: sendMinor)
        var body: [String: Any] = ["quote_id": quote, "recipient": Self.recipient(method, name: name), "funding": funding]
        if funding == "account" { body["account_id"] = f.members[index].accountID }
        body.merge(extra) { $1 }
        return try await data(.post, "/v1/remittances", token: f.members[index].token, tenant: f.slug, json: body, headers: [.idempotencyKey: key])
    }

    func order(_ f: Fixture, _ id: String, token: String? = nil) async throws -> [String: Any] {
        let reply = try await data(.get, "/v1/remittances/\(id)", token: token ?? f.staffToken, tenant: f.slug)
        try #require(reply.status == .ok, "\(reply.text)")
        return reply.json
    }

    func tenantRef(_ f: Fixture) async throws -> TenantRef {
        try #require(try await data.directory.tenant(slug: try TenantSlug(f.slug), now: clock.now()))
    }

    /// Runs the worker over the tenant's due orders, as the data plane's service would.
    func drain(_ f: Fixture) async throws {
        await data.remittanceWorker.drain(try await tenantRef(f))
    }

    func session(_ f: Fixture) async throws -> TenantSession {
        let tenant = try await tenantRef(f)
        return TenantSession(client: harness.groups[tenant.poolGroup % harness.groups.count], tenant: tenant, memberID: nil, clock: data.clock, logger: harness.logger)
    }

    /// The member account's (ledger, available) balances in minor units.
    func balance(_ f: Fixture, member index: Int, token: String? = nil) async throws -> (ledger: Int, available: Int) {
        let reply = try await data(.get, "/v1/accounts/\(f.members[index].accountID)", token: token ?? f.staffToken, tenant: f.slug)
        func amount(_ key: String) -> Int { ((reply.json[key] as? [String: Any])?["amount"] as? Int) ?? -1 }
        return (amount("ledger_balance"), amount("available_balance"))
    }

    func ledgerFindings(_ f: Fixture) async throws -> [LedgerVerifier.Finding] {
        try await harness.owner.withTransaction(logger: harness.logger) { connection in
            try await LedgerVerifier(checks: DataPlane.ledgerChecks).verify(slug: try TenantSlug(f.slug), tenantID: UUID(uuidString: f.tenantID)!, on: connection, logger: harness.logger)
        }
    }

    /// The remittance clearing accounts of the tenant, which are back to zero once every order is
    /// delivered or refunded.
    func clearingBalances(_ f: Fixture) async throws -> [String: Int64] {
        let rows = try await harness.owner.withTransaction(logger: harness.logger) { connection in
            try await connection.query("SELECT set_config('app.tenant_id', \(f.tenantID), true)", logger: harness.logger)
            return try await connection.query(
                PostgresQuery(unsafeSQL: "SELECT currency::text, balance_minor FROM t_\(f.slug).accounts WHERE kind = 'remittance_clearing'"),
                logger: harness.logger
            ).all((String, Int64).self)
        }
        return Dictionary(uniqueKeysWithValues: rows)
    }

    func states(_ order: [String: Any]) -> [String] {
        ((order["status_log"] as? [[String: Any]]) ?? []).compactMap { $0["to_state"] as? String }
    }
}
