import AsyncHTTPClient
import Foundation
import Logging
import NzilaCore
import NzilaDatabase
import PostgresNIO

/// A partner connection of the platform's registry (`control.partner_connections`, `nzila partners add`): the
/// provider's API (`kind`: `transfers`, the Flutterwave-style transfers API of `HTTPPayoutPartner`; `quotations`, the
/// Thunes-style quotation → transaction → confirm API of `QuotationPayoutPartner`), where it is, the reference to its
/// credential, the payout methods it serves, its timeout and its number of tries per call; the reference to the secret
/// its status callbacks are signed with, and its payer ids by `CORRIDOR/method` (what a `quotations` API asks for).
public struct PartnerConnection: Sendable, Equatable {
    public let name: String
    public let kind: String
    public let baseURL: String
    public let credential: CredentialReference
    public let methods: [String]
    public let timeoutMs: Int
    public let attempts: Int
    public let callbackSecret: CredentialReference?
    public let payers: [String: Int]
    /// The tenants (slugs) that may name this connection in their configuration; nil: every tenant.
    public let tenants: [String]?

    public static let kinds: Set<String> = ["transfers", "quotations", "money-requests", "card-payments", "identity", "bank-links", "fx-quotes"]
    /// The kinds that pay out, by payout method.
    public static let payoutKinds: Set<String> = ["transfers", "quotations"]
    /// The kinds that take money in (funding providers) rather than pay out.
    public static let fundingKinds: Set<String> = ["money-requests", "card-payments"]

    /// Whether this connection funds orders (Interac, cards) rather than paying them out.
    public var funds: Bool { Self.fundingKinds.contains(kind) }

    public init(
        name: String, kind: String, baseURL: String, credential: CredentialReference, methods: [String], timeoutMs: Int, attempts: Int,
        callbackSecret: CredentialReference? = nil, payers: [String: Int] = [:], tenants: [String]? = nil
    ) {
        self.tenants = tenants
        self.callbackSecret = callbackSecret
        self.payers = payers
        self.name = name
        self.kind = kind
        self.baseURL = baseURL
        self.credential = credential
        self.methods = methods
        self.timeoutMs = timeoutMs
        self.attempts = attempts
    }

    /// What is wrong with the connection as given (empty when nothing is): the same rules the table's checks hold, said
    /// in words before anything is written. A partner's API is reached over HTTPS; plain HTTP only on this machine (a
    /// stand-in or a local gateway), so a key never crosses a network in the clear.
    public var problems: [String] {
        var problems: [String] = []
        if name.range(of: #"^[a-z][a-z0-9-]{1,39}$"#, options: .regularExpression) == nil {
            problems.append("the name must be 2 to 40 lower-case letters, digits or hyphens, starting with a letter")
        }
        if name.hasPrefix("sandbox-") { problems.append("names starting with sandbox- are the built-in sandbox partners'") }
        if !Self.kinds.contains(kind) { problems.append("the kind must be one of \(Self.kinds.sorted().joined(separator: ", "))") }
        if let url = URL(string: baseURL), let scheme = url.scheme, let host = url.host, url.query == nil, url.fragment == nil, url.user == nil {
            let local = ["127.0.0.1", "::1", "localhost"].contains(host)
            if scheme != "https" && !(scheme == "http" && local) { problems.append("the base URL must be https:// (http:// only to this machine)") }
        } else {
            problems.append("the base URL must be an absolute http(s) URL without credentials, query or fragment")
        }
        if !Self.payoutKinds.contains(kind) {
            if Self.kinds.contains(kind) && (!methods.isEmpty || !payers.isEmpty) {
                problems.append("a \(kind) connection serves no payout method and has no payers")
            }
        } else if methods.isEmpty || !Set(methods).isSubset(of: FeesSection.payoutMethods) || Set(methods).count != methods.count {
            problems.append("the methods must be distinct, among \(FeesSection.payoutMethods.sorted().joined(separator: ", "))")
        }
        if !(100...120_000).contains(timeoutMs) { problems.append("the timeout must be 100 to 120000 ms") }
        if !(1...5).contains(attempts) { problems.append("the tries per call must be 1 to 5") }
        for (key, id) in payers.sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: "/").map(String.init)
            if parts.count != 2 || parts[0].range(of: #"^[A-Z]{3}-[A-Z]{3}$"#, options: .regularExpression) == nil || !methods.contains(parts[1]) {
                problems.append("the payer \(key) must be named CORRIDOR/method, with a method the connection serves")
            }
            if id <= 0 { problems.append("the payer id of \(key) must be positive") }
        }
        if let tenants, tenants.isEmpty || tenants.contains(where: { $0.range(of: #"^[a-z][a-z0-9_]{2,39}$"#, options: .regularExpression) == nil }) {
            problems.append("the tenants must be tenant slugs (lower-case letters, digits, underscores)")
        }
        if kind == "quotations" && payers.isEmpty { problems.append("a quotations connection needs a payer per corridor and method it pays") }
        if kind == "transfers" && !payers.isEmpty { problems.append("a transfers connection takes no payers") }
        return problems
    }

    /// The connection exists and was not to be replaced.
    public struct Exists: Error, CustomStringConvertible {
        public let name: String
        public var description: String { "\(name) exists: --replace changes it" }
    }

    /// Adds the connection, or changes it with `replace`, and records it in the audit log (by `operator`, with the
    /// credential's reference, never its value), in one transaction. True when it existed. Checked by `problems` first.
    @discardableResult
    public func save(client: PostgresClient, operator operatorName: String, replace: Bool, logger: Logger) async throws -> Bool {
        guard problems.isEmpty else { throw Problem.validation(field: "connection", problems.joined(separator: "; ")) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let payersJSON = String(decoding: try encoder.encode(payers), as: UTF8.self)
        return try await client.transaction(logger: logger) { connection in
            let before = try await connection.query(
                "SELECT 1 FROM control.partner_connections WHERE name = \(name) FOR UPDATE", logger: logger
            ).collect().count
            if before > 0 && !replace { throw Exists(name: name) }
            try await connection.query(
                """
                INSERT INTO control.partner_connections
                    (name, kind, base_url, credential, methods, timeout_ms, attempts, callback_secret, payers, tenants)
                VALUES (\(name), \(kind), \(baseURL), \(credential.description), \(methods), \(timeoutMs), \(attempts),
                        \(callbackSecret?.description), \(payersJSON)::jsonb, \(tenants))
                ON CONFLICT (name) DO UPDATE SET kind = EXCLUDED.kind, base_url = EXCLUDED.base_url, credential = EXCLUDED.credential,
                    methods = EXCLUDED.methods, timeout_ms = EXCLUDED.timeout_ms, attempts = EXCLUDED.attempts,
                    callback_secret = EXCLUDED.callback_secret, payers = EXCLUDED.payers, tenants = EXCLUDED.tenants,
                    updated_at = clock_timestamp()
                """, logger: logger)
            try await connection.query(
                """
                INSERT INTO control.audit_log (actor, actor_role, action, target, detail)
                VALUES (NULL, 'operator', \(before > 0 ? "partner.update" : "partner.add"), \("partner:\(name)"),
                        jsonb_build_object('operator', \(operatorName)::text, 'kind', \(kind)::text, 'base_url', \(baseURL)::text,
                            'credential', \(credential.description)::text, 'methods', \(methods)::text[],
                            'timeout_ms', \(timeoutMs)::int, 'attempts', \(attempts)::int,
                            'callback_secret', \(callbackSecret?.description)::text, 'payers', \(payersJSON)::jsonb,
                            'tenants', \(tenants)::text[]))
                """, logger: logger)
            return before > 0
        }
    }

    /// Every connection of the registry, by name.
    public static func all(client: PostgresClient, logger: Logger) async throws -> [PartnerConnection] {
        try await client.statement(
            """
            SELECT name, kind, base_url, credential, methods, timeout_ms, attempts, callback_secret, payers::text, tenants
            FROM control.partner_connections ORDER BY name
            """,
            logger: logger
        ) { rows in
            var connections: [PartnerConnection] = []
            for try await (name, kind, url, credential, methods, timeout, attempts, callback, payers, tenants) in rows.decode(
                (String, String, String, String, [String], Int, Int, String?, String, [String]?).self)
            {
                guard let reference = CredentialReference(credential) else { continue }
                connections.append(PartnerConnection(
                    name: name, kind: kind, baseURL: url, credential: reference, methods: methods, timeoutMs: timeout, attempts: attempts,
                    callbackSecret: callback.flatMap(CredentialReference.init),
                    payers: (try? JSONDecoder().decode([String: Int].self, from: Data(payers.utf8))) ?? [:], tenants: tenants))
            }
            return connections
        }
    }
}

/// Where a partner's credential is, never the credential: `env:NAME` (an environment variable of the process that calls
/// the partner) or `file:/path` (a file only that process's user reads, such as a mounted secret). Only the reference
/// is stored, audited and printed.
public enum CredentialReference: Sendable, Equatable, CustomStringConvertible {
    case environment(String)
    case file(String)

    public init?(_ text: String) {
        if text.hasPrefix("env:"), text.dropFirst(4).range(of: #"^[A-Z][A-Z0-9_]{0,63}$"#, options: .regularExpression) != nil {
            self = .environment(String(text.dropFirst(4)))
        } else if text.hasPrefix("file:/"), !text.contains(where: \.isWhitespace) {
            self = .file(String(text.dropFirst(5)))
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .environment(let name): "env:\(name)"
        case .file(let path): "file:\(path)"
        }
    }

    public struct Unresolved: Error, CustomStringConvertible {
        public let description: String
    }

    /// The credential, read now. Its absence is said by reference, never with a value.
    public func resolve(environment: [String: String]) throws -> String {
        let value: String?
        switch self {
        case .environment(let name): value = environment[name]
        case .file(let path): value = try? String(contentsOfFile: path, encoding: .utf8)
        }
        guard let secret = value?.trimmingCharacters(in: .whitespacesAndNewlines), !secret.isEmpty else {
            throw Unresolved(description: "the credential \(self) is not set")
        }
        return secret
    }
}


/// Which tenants may use each registry connection (its `tenants`, when the plane read the registry), checked again each
/// time a provider is taken for a tenant, so a connection narrowed after a tenant's configuration named it is refused to
/// that tenant at run time too, not only when a configuration is saved. A connection the registry does not list (a
/// built-in sandbox) is every tenant's.
public struct ConnectionTenants: Sendable, Equatable {
    let limits: [String: Set<String>]

    public init(_ connections: [PartnerConnection] = []) {
        var limits: [String: Set<String>] = [:]
        for connection in connections {
            if let tenants = connection.tenants { limits[connection.name] = Set(tenants) }
        }
        self.limits = limits
    }

    /// Whether the tenant with this slug may use the connection.
    public func allows(_ connection: String, tenant: String) -> Bool {
        limits[connection].map { $0.contains(tenant) } ?? true
    }
}
