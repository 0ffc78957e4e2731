import ArgumentParser
import Banking
import Compliance
import Foundation
import NzilaCore
import NzilaDatabase
import NzilaPartners
import PostgresNIO
import Remittance

/// `nzila partners`: the platform's registry of payout partner connections (issue 25). A tenant picks among them per
/// corridor and payout method in its `payouts` configuration; data planes build them when they start.
struct PartnersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "partners",
        abstract: "Register, list and test payout partner connections (credentials by reference: env:NAME or file:/path, never the secret).",
        subcommands: [Add.self, List.self, Test.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a connection, or change one with --replace (recorded in the audit log; running data planes take it at once).")
        @OptionGroup var state: StateOptions
        @Argument(help: "The connection's name (lower-case letters, digits, hyphens), as tenants' payouts sections name it.") var name: String
        @Option(help: "The provider's API: transfers (Flutterwave-style), quotations (Thunes-style, credential key:secret), money-requests (Interac e-Transfer), card-payments (Stripe PaymentIntents), identity (Stripe Identity), bank-links (Plaid, credential CLIENT_ID:SECRET) or fx-quotes (Wise, the FX fallback named by NZILA_FX_FALLBACK).")
        var kind = "transfers"
        @Option(help: "The API's base URL: https://, or http:// to this machine only.") var baseURL: String
        @Option(help: "Where the API key is: env:NAME or file:/path (read by each data plane; never stored).") var credential: String
        @Option(help: "The payout methods it serves, comma-separated: mobile_money, bank_deposit, cash_pickup (none for a funding provider).")
        var methods = ""
        @Option(help: "Each call's timeout, in milliseconds.") var timeoutMs = 10_000
        @Option(help: "Tries per call (connection errors, timeouts and 5xx answers are tried again).") var attempts = 3
        @Option(help: "Where the secret its status callbacks are signed with is: env:NAME or file:/path (none: polled only).") var callbackSecret: String?
        @Option(help: "A payer of a quotations API for a corridor and method, as CORRIDOR/method=ID (CAD-XOF/cash_pickup=4521); repeat it.")
        var payer: [String] = []
        @Option(help: "A tenant (slug) that may name this connection; repeat it. None: every tenant (a partner the platform contracted for all).")
        var tenant: [String] = []
        @Flag(help: "Change the connection if it exists.") var replace = false

        func run() async throws {
            guard let reference = CredentialReference(credential) else {
                throw ValidationError("--credential must be env:NAME (upper-case) or file:/absolute/path, never the key itself")
            }
            let callback = try callbackSecret.map { text in
                guard let reference = CredentialReference(text) else {
                    throw ValidationError("--callback-secret must be env:NAME (upper-case) or file:/absolute/path, never the secret itself")
                }
                return reference
            }
            var payers: [String: Int] = [:]
            for entry in payer {
                let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, let id = Int(parts[1]), payers[parts[0]] == nil else {
                    throw ValidationError("--payer must be CORRIDOR/method=ID, once per corridor and method (got \(entry))")
                }
                payers[parts[0]] = id
            }
            let connection = PartnerConnection(
                name: name, kind: kind, baseURL: baseURL, credential: reference,
                methods: methods.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }, timeoutMs: timeoutMs,
                attempts: attempts, callbackSecret: callback, payers: payers,
                tenants: tenant.isEmpty ? nil : tenant)
            guard connection.problems.isEmpty else { throw ValidationError(connection.problems.joined(separator: "; ")) }
            let changed = try await Runtime.withMigratedOwner(state: state.state) { runtime, owner in
                do {
                    return try await connection.save(client: owner, operator: "cli:\(NSUserName())", replace: replace, logger: runtime.logger)
                } catch let exists as PartnerConnection.Exists {
                    throw Refused(description: exists.description)
                }
            }
            print("\(changed ? "changed" : "added") \(name): \(kind) at \(baseURL), \(connection.methods.joined(separator: ", ")), credential \(reference)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the connections (the built-in sandbox partners are always there too).")
        @OptionGroup var state: StateOptions

        func run() async throws {
            let connections = try await Runtime.withMigratedOwner(state: state.state) { runtime, owner in
                try await PartnerConnection.all(client: owner, logger: runtime.logger)
            }
            print("sandbox-momo  sandbox   built in  mobile_money")
            print("sandbox-cash  sandbox   built in  cash_pickup, bank_deposit, mobile_money")
            for c in connections {
                let callbacks = c.callbackSecret.map { "callbacks signed with \($0)" } ?? "no callbacks"
                let payers = c.payers.isEmpty ? "" : "  payers " + c.payers.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
                let tenants = c.tenants.map { "  tenants " + $0.joined(separator: ", ") } ?? "  all tenants"
                print("\(c.name)  \(c.kind)  \(c.baseURL)  \(c.methods.joined(separator: ", "))  credential \(c.credential)  timeout \(c.timeoutMs) ms, \(c.attempts) tries  \(callbacks)\(payers)\(tenants)")
            }
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Call a connection's balance endpoint with its credential (resolved here, as a data plane would): reachable, key accepted.")
        @OptionGroup var state: StateOptions
        @Argument(help: "The connection's name.") var name: String

        func run() async throws {
            let connections = try await Runtime.withMigratedOwner(state: state.state) { runtime, owner in
                try await PartnerConnection.all(client: owner, logger: runtime.logger)
            }
            guard let connection = connections.first(where: { $0.name == name }) else { throw Refused(description: "no partner connection \(name)") }
            let partner: any PartnerCheck
            do {
                let environment = ProcessInfo.processInfo.environment
                switch connection.kind {
                case "identity": partner = try connection.identityProvider(environment: environment)
                case "bank-links": partner = try connection.bankLinks(environment: environment)
                case "fx-quotes": partner = try connection.rateProvider(environment: environment)
                default: partner = try connection.checkable(environment: environment)
                }
            } catch let unresolved as CredentialReference.Unresolved {
                throw Refused(description: "\(name): \(unresolved.description)")
            }
            let started = ContinuousClock.now
            let status: Int
            do {
                status = try await partner.check()
            } catch {
                throw Refused(description: "\(name) unreachable: \(error)")
            }
            let elapsed = ContinuousClock.now - started
            let ms = elapsed.components.seconds * 1_000 + elapsed.components.attoseconds / 1_000_000_000_000_000
            switch status {
            case 200..<300: print("\(name): ok (HTTP \(status) in \(ms) ms)")
            case 401, 403: throw Refused(description: "\(name): the partner refused the credential \(connection.credential) (HTTP \(status))")
            default: throw Refused(description: "\(name): the partner answered HTTP \(status)")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a connection (recorded in the audit log; tenants naming it fall back to their next partner).")
        @OptionGroup var state: StateOptions
        @Argument(help: "The connection's name.") var name: String

        func run() async throws {
            let operator_ = "cli:\(NSUserName())"
            let removed = try await Runtime.withMigratedOwner(state: state.state) { runtime, owner in
                try await owner.withTransaction(logger: runtime.logger) { connection in
                    let rows = try await connection.query(
                        "DELETE FROM control.partner_connections WHERE name = \(name) RETURNING 1", logger: runtime.logger).collect().count
                    guard rows > 0 else { return false }
                    try await connection.query(
                        """
                        INSERT INTO control.audit_log (actor, actor_role, action, target, detail)
                        VALUES (NULL, 'operator', 'partner.remove', \("partner:\(name)"), jsonb_build_object('operator', \(operator_)::text))
                        """, logger: runtime.logger)
                    return true
                }
            }
            guard removed else { throw Refused(description: "no partner connection \(name)") }
            print("removed \(name)")
        }
    }
}
