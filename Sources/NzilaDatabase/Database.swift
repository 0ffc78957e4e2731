import Foundation
import Logging
import NIOSSL
import NzilaCore
import PostgresNIO

/// A parsed `postgres://user:password@host:port/database[?sslmode=…&sslrootcert=…]` URL.
///
/// `sslmode` has libpq's meanings: `disable` (the default here, as `nzila dev` and the test stack talk over
/// loopback), `prefer` (TLS when the server offers it, unverified), `require` (TLS, unverified — verified
/// against `sslrootcert` when one is given, as libpq does), `verify-ca` (the chain, not the name) and
/// `verify-full` (the chain and the host name or IP address). `sslrootcert` is a PEM file of trusted
/// certificates, or `system` for the machine's trust store (the default for the verify modes).
public struct DatabaseURL: Sendable, Equatable {
    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String
    public var sslMode: SSLMode = .disable
    public var rootCertificate: String?

    public enum SSLMode: String, Sendable, Equatable, CaseIterable {
        case disable, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public init?(_ text: String) {
        guard let components = URLComponents(string: text), ["postgres", "postgresql"].contains(components.scheme ?? ""),
            let user = components.user, let host = components.host
        else { return nil }
        self.user = user
        self.password = components.password?.removingPercentEncoding
        self.host = host
        self.port = components.port ?? 5432
        let path = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        self.database = path.isEmpty ? user : path
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(SSLMode.init(rawValue:)) else { return nil }
                sslMode = mode
            case "sslrootcert":
                guard let value = item.value, !value.isEmpty else { return nil }
                rootCertificate = value
            default:
                return nil
            }
        }
    }

    /// What postgres-nio is told: nil for plain TCP.
    var tlsConfiguration: TLSConfiguration? {
        guard sslMode != .disable else { return nil }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        if let rootCertificate, rootCertificate != "system" { tls.trustRoots = .file(rootCertificate) }
        switch sslMode {
        case .disable: return nil
        case .prefer: tls.certificateVerification = .none
        case .require: tls.certificateVerification = rootCertificate.map { $0 == "system" ? .none : .noHostnameVerification } ?? .none
        case .verifyCA: tls.certificateVerification = .noHostnameVerification
        case .verifyFull: tls.certificateVerification = .fullVerification
        }
        return tls
    }

    /// A connection's TLS takes a built context: a root certificate file that cannot be read fails here.
    func connectionTLSChecked() throws -> PostgresConnection.Configuration.TLS {
        guard let tls = tlsConfiguration else { return .disable }
        let context = try NIOSSLContext(configuration: tls)
        return sslMode == .prefer ? .prefer(context) : .require(context)
    }

    var clientTLS: PostgresClient.Configuration.TLS {
        guard let tls = tlsConfiguration else { return .disable }
        return sslMode == .prefer ? .prefer(tls) : .require(tls)
    }

    /// The same server under another database name: PgBouncer's pool groups are logical databases.
    public func with(database: String) -> DatabaseURL {
        var copy = self
        copy.database = database
        return copy
    }

    /// The URL without its password, safe for logs and dev.json.
    public var redacted: String {
        var query: [String] = []
        if sslMode != .disable { query.append("sslmode=\(sslMode.rawValue)") }
        if let rootCertificate { query.append("sslrootcert=\(rootCertificate)") }
        return "postgres://\(user)@\(host):\(port)/\(database)" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
    }

    /// One connection outside any pool (a LISTEN feed, a session advisory lock), with the URL's TLS.
    public func connect(applicationName: String, logger: Logger) async throws -> PostgresConnection {
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: try connectionTLSChecked())
        configuration.options.additionalStartupParameters = [("application_name", applicationName)]
        return try await PostgresConnection.connect(configuration: configuration, id: Int.random(in: 1...Int(Int32.max)), logger: logger)
    }

    /// A pool for this URL, with the URL's TLS (checked when the pool connects).
    public func makeClient(maximumConnections: Int, applicationName: String, logger: Logger) -> PostgresClient {
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: clientTLS)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.minimumConnections = 0
        configuration.options.additionalStartupParameters = [("application_name", applicationName)]
        return PostgresClient(configuration: configuration, backgroundLogger: logger)
    }
}

extension PostgresRowSequence {
    /// Collects every row, decoded as one tuple type.
    public func all<each Column: PostgresDecodable>(_ types: (repeat each Column).Type) async throws -> [(repeat each Column)] {
        var rows: [(repeat each Column)] = []
        for try await row in self.decode(types) { rows.append(row) }
        return rows
    }

    /// The first row, or nil.
    public func first<each Column: PostgresDecodable>(_ types: (repeat each Column).Type) async throws -> (repeat each Column)? {
        for try await row in self.decode(types) { return row }
        return nil
    }
}

extension PostgresClient {
    /// Runs one statement on a leased connection and decodes its rows before the lease goes back.
    ///
    /// Use this rather than `PostgresClient.query`: in postgres-nio 1.33.2 `query` hands the connection
    /// back when its row stream finishes, but a stream that has already failed when its consumer
    /// attaches (the server described the rows, then the statement failed while executing — a SELECT
    /// or RETURNING that raises, a unique violation, a statement timeout — all in one read) never calls
    /// its finish hook (`PSQLRowStream.asyncSequence`, `.failure` case). The lease leaks, and once
    /// the pool's connections have all leaked, every request waits for one forever. `withConnection`
    /// releases the lease when the closure returns or throws, whatever the stream did.
    public func statement<Result>(
        _ query: PostgresQuery, logger: Logger, file: String = #fileID, line: Int = #line,
        _ decode: (PostgresRowSequence) async throws -> Result
    ) async throws -> Result {
        try await Traces.statement(query.sql) {
            try await withConnection { connection in
                try await decode(try await connection.query(query, logger: logger, file: file, line: line))
            }
        }
    }
}
