import Logging
import NzilaCore
import PostgresNIO

/// Maps database driver errors to problems: unavailable servers are 503s, unique violations 409s,
/// anything else is logged and left to the 500 path.
public enum DatabaseErrors {
    public static func problem(for error: any Error, logger: Logger) -> Problem? {
        switch error {
        case let transaction as PostgresTransactionError:
            guard let inner = transaction.cause else { return nil }
            if let problem = Problem.from(inner) { return problem }
            return problem(for: inner, logger: logger)
        case let psql as PSQLError:
            return problem(for: psql, logger: logger)
        default:
            return nil
        }
    }

    static func problem(for error: PSQLError, logger: Logger) -> Problem? {
        guard error.code == .server, let state = error.serverInfo?[.sqlState] else {
            logger.error("database unavailable", metadata: ["error": "\(error.code)"])
            return .databaseUnavailable
        }
        switch state {
        case "23505":
            return .conflict("already-exists", "A resource with the same unique value already exists.")
        case "23514":
            // A CHECK the API should have caught first (a balance floor, a journal that does not sum to zero).
            logger.error("check constraint refused a write", metadata: ["constraint": "\(error.serverInfo?[.constraintName] ?? "")"])
            return Problem(.conflict, "constraint-violated", "Refused by an invariant", detail: "The change would break a ledger invariant; nothing was written.")
        case "40001", "40P01", "55P03":
            // The transaction rolled back whole; the client is asked to run it again.
            Observability.count("nzila_db_transaction_retries_total", [("operation", "request"), ("sqlstate", state)])
            logger.warning("a transaction met a concurrent change and rolled back", metadata: [
                "sqlstate": "\(state)", "message": "\(error.serverInfo?[.message] ?? "")", "detail": "\(error.serverInfo?[.detail] ?? "")"])
            return Problem(.serviceUnavailable, "retry", "Try again", detail: "The request met a concurrent change; retry it.")
        case "57014", "57P01", "57P02", "57P03", "53300":
            return .databaseUnavailable
        default:
            return nil
        }
    }

    /// The SQLSTATE of a server error, looking through a transaction wrapper.
    public static func sqlState(_ error: any Error) -> String? {
        if let transaction = error as? PostgresTransactionError, let inner = transaction.closureError {
            return sqlState(inner)
        }
        return (error as? PSQLError)?.serverInfo?[.sqlState]
    }
}

extension PostgresTransactionError {
    /// The error that actually stopped the transaction: the closure's own, else BEGIN's or COMMIT's.
    public var cause: (any Error)? { closureError ?? beginError ?? commitError }
}

extension PostgresClient {
    /// `withTransaction`, throwing the cause rather than the wrapper, so callers can match their
    /// own errors (a Problem, a refusal) as they threw them.
    public func transaction<Result>(logger: Logger, _ body: (PostgresConnection) async throws -> sending Result) async throws -> sending Result {
        do {
            return try await withTransaction(logger: logger, body)
        } catch let error as PostgresTransactionError {
            throw error.cause ?? error
        }
    }
}

/// A value read back from the database that its Swift type does not know (a status or currency
/// outside the list the schema's CHECK allows): a bug or a skewed migration, answered as a 500 and
/// logged with the value.
public struct UnknownStoredValue: Error, CustomStringConvertible {
    public let type: String
    public let value: String
    public var description: String { "the database holds \(type) '\(value)', which this build does not know" }
}

extension RawRepresentable where RawValue == String {
    /// The value a column holds, or `UnknownStoredValue`.
    public static func stored(_ raw: String) throws -> Self {
        guard let value = Self(rawValue: raw) else { throw UnknownStoredValue(type: String(describing: Self.self), value: raw) }
        return value
    }
}

extension Currency {
    /// The currency a column holds, or `UnknownStoredValue`.
    public static func stored(_ code: String) throws -> Currency {
        guard let currency = Currency(code: code) else { throw UnknownStoredValue(type: "Currency", value: code) }
        return currency
    }
}
