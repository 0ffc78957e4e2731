import Foundation
import Logging
import NzilaCore
import PostgresNIO

/// A parsed `postgres://user:password@host:port/database` URL.
public struct DatabaseURL: Sendable, Equatable {
    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String

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
    }

    /// The same server under another database name: PgBouncer's pool groups are logical databases.
    public func with(database: String) -> DatabaseURL {
        var copy = self
        copy.database = database
        return copy
    }

    /// The URL without its password, safe for logs and dev.json.
    public var redacted: String { "postgres://\(user)@\(host):\(port)/\(database)" }

    /// One connection outside any pool (a LISTEN feed, a session advisory lock). TLS is off, as below.
    public func connect(applicationName: String, logger: Logger) async throws -> PostgresConnection {
        var configuration = PostgresConnection.Configuration(host: host, port: port, username: user, password: password, database: database, tls: .disable)
        configuration.options.additionalStartupParameters = [("application_name", applicationName)]
        return try await PostgresConnection.connect(configuration: configuration, id: Int.random(in: 1...Int(Int32.max)), logger: logger)
    }

    /// A pool for this URL. TLS is off: these servers listen on loopback only.
    public func makeClient(maximumConnections: Int, applicationName: String, logger: Logger) -> PostgresClient {
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: .disable)
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
