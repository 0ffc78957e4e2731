import Foundation
import Logging
import NzilaCore
import NzilaPartners
import NzilaSandbox
import PostgresNIO

/// The outside providers of `nzila dev` (docs/SANDBOX.md): `ProviderSandbox` on loopback, and the registry connections
/// that point the real adapters at it — `dev-interac` (money-requests), `dev-card` (card-payments), `dev-identity`
/// (identity), `dev-bank` (bank-links), `dev-fx` (fx-quotes). Their credentials are files in `<state>/sandbox/` (made
/// once, mode 0600), named by reference like any production credential. Stripe sends every event of an account to
/// the endpoint configured there, so the card and identity connections are the demo tenant's; Interac, Plaid and Wise
/// serve every tenant of the stack.
struct DevSandbox {
    static let interac = "dev-interac"
    static let card = "dev-card"
    static let identity = "dev-identity"
    static let bank = "dev-bank"
    static let fx = "dev-fx"

    let sandbox: ProviderSandbox
    let url: String

    /// Makes the credential files if missing, records the connections (again only where they changed), and builds the
    /// sandbox with the stack's reference rates as Wise's.
    static func prepare(
        stateDir: String, port: Int, dataPort: Int, baseDomain: String, owner: PostgresClient, clock: NzilaCore.Clock, logger: Logger
    ) async throws -> DevSandbox {
        let folder = "\(stateDir)/sandbox"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        func secret(_ file: String, _ make: () -> String) throws -> (CredentialReference, String) {
            let path = "\(folder)/\(file)"
            if !FileManager.default.fileExists(atPath: path) {
                guard FileManager.default.createFile(atPath: path, contents: Data(make().utf8), attributes: [.posixPermissions: 0o600]) else {
                    throw Refused(description: "could not write \(path)")
                }
            }
            let reference = CredentialReference.file(path)
            return (reference, try reference.resolve(environment: [:]))
        }
        let (keyReference, key) = try secret("api-key") { "sk_sandbox_\(OpaqueToken.generate())" }
        let (plaidReference, plaid) = try secret("plaid") { "sandbox-client:\(OpaqueToken.generate())" }
        let (hookReference, hook) = try secret("webhook-secret") { "whsec_\(OpaqueToken.generate())" }
        let plaidPair = plaid.split(separator: ":", maxSplits: 1).map(String.init)
        guard plaidPair.count == 2 else { throw Refused(description: "\(folder)/plaid must be CLIENT_ID:SECRET") }

        let base = "http://127.0.0.1:\(port)"
        func connection(_ name: String, _ kind: String, _ credential: CredentialReference, callback: Bool, tenants: [String]? = nil) -> PartnerConnection {
            PartnerConnection(
                name: name, kind: kind, baseURL: base, credential: credential, methods: [], timeoutMs: 10_000, attempts: 3,
                callbackSecret: callback ? hookReference : nil, tenants: tenants)
        }
        let wanted = [
            connection(interac, "money-requests", keyReference, callback: true),
            connection(card, "card-payments", keyReference, callback: true, tenants: ["demo"]),
            connection(identity, "identity", keyReference, callback: true, tenants: ["demo"]),
            connection(bank, "bank-links", plaidReference, callback: false),
            connection(fx, "fx-quotes", keyReference, callback: false),
        ]
        let existing = try await PartnerConnection.all(client: owner, logger: logger)
        for connection in wanted where !existing.contains(connection) {
            try await connection.save(client: owner, operator: "nzila dev", replace: true, logger: logger)
        }
        let rates = try await owner.statement("SELECT base, quote, mid_rate::text FROM reference.fx_rates", logger: logger) { rows in
            var found: [String: String] = [:]
            for try await (from, to, rate) in rows.decode((String, String, String).self) { found["\(from)-\(to)"] = rate }
            return found
        }
        let tenantBase = "http://demo.\(baseDomain):\(dataPort)"
        let sandbox = ProviderSandbox(
            .init(
                apiKey: key, plaidClientID: plaidPair[0], plaidSecret: plaidPair[1], webhookSecret: hook,
                cardEvents: .init(url: "\(tenantBase)/v1/webhooks/funding-providers/\(card)"),
                identityEvents: .init(url: "\(tenantBase)/v1/webhooks/identity/\(identity)"), rates: rates, publicBase: base),
            clock: clock, logger: logger)
        return DevSandbox(sandbox: sandbox, url: base)
    }
}
