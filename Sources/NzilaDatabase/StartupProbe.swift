import Foundation
import Logging
import NzilaCore
import PostgresNIO

/// Before a server or a command starts its pools: one connection to each database it needs, so a
/// wrong host, a stopped server, a wrong password or a missing database stops it at once with what
/// to fix, naming the setting and the address (never the password). A pool would instead retry in
/// the background while every lease waits, and the operator would see nothing but a timeout.
public enum StartupProbe {
    public struct Unreachable: Error, CustomStringConvertible {
        public let description: String
    }

    struct TimedOut: Error {}

    /// Connects to `url`, runs `SELECT 1`, and disconnects; throws `Unreachable` explaining any failure.
    /// `setting` names where the URL came from (`NZILA_DIRECT_URL`).
    public static func check(_ url: DatabaseURL, setting: String, timeoutSeconds: Double = 5, logger: Logger) async throws {
        do {
            try await withDeadline(seconds: timeoutSeconds, onTimeout: TimedOut()) {
                let connection = try await url.connect(applicationName: "nzila-startup-probe", logger: logger)
                do {
                    _ = try await connection.query("SELECT 1", logger: logger).first(Int32.self)
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
            }
        } catch {
            throw Unreachable(description: explain(error, url: url, setting: setting, timeoutSeconds: timeoutSeconds))
        }
    }

    /// What went wrong reaching `url`, and what to do about it.
    public static func explain(_ error: any Error, url: DatabaseURL, setting: String, timeoutSeconds: Double = 5) -> String {
        let target = "\(setting) (\(url.redacted))"
        if error is TimedOut {
            return "\(target) did not answer within \(Int(timeoutSeconds)) s: check the host and port, and that no firewall drops the connection"
        }
        let psql = error as? PSQLError
        if let state = psql?.serverInfo?[.sqlState] {
            let message = psql?.serverInfo?[.message] ?? ""
            return explain(sqlState: state, message: message, target: target, url: url)
        }
        let text = String(reflecting: error)
        return explain(connectionFailure: text, target: target, url: url)
    }

    static func explain(sqlState state: String, message: String, target: String, url: DatabaseURL) -> String {
        switch state {
        case "28P01":
            return "\(target): password authentication failed for user \(url.user); check the password in the URL (percent-encode characters such as @ : / ?)"
        case "28000":
            return "\(target): the server refused user \(url.user) (\(message)); check the role exists and pg_hba.conf (or PgBouncer's auth file) allows it"
        case "3D000":
            return "\(target): database \(url.database) does not exist; create it, or run `nzila dev` / `ops/stack.sh up` to set one up"
        case "08P01" where message.contains("no such database"):
            return "\(target): PgBouncer has no database \(url.database) ([databases] in pgbouncer.ini); pool groups are nzila_g0, nzila_g1, …"
        case "57P03":
            return "\(target): the server is starting up or shutting down; try again in a moment"
        case "53300":
            return "\(target): the server has no connection slot left (max_connections); lower NZILA_GROUP_CONNECTIONS or raise the limit"
        default:
            return "\(target): the server refused the connection (SQLSTATE \(state): \(message))"
        }
    }

    static func explain(connectionFailure text: String, target: String, url: DatabaseURL) -> String {
        if text.localizedCaseInsensitiveContains("connection refused") {
            return "\(target): nothing is listening at \(url.host):\(url.port); is the server running? (locally: `nzila dev` or `ops/stack.sh up`)"
        }
        if text.contains("NXDOMAIN") || text.localizedCaseInsensitiveContains("could not resolve") || text.contains("UnknownHost")
            || text.localizedCaseInsensitiveContains("name or service not known") || text.contains("resolutionFailed") || text.contains("noSuchHost") {
            return "\(target): the host \(url.host) could not be resolved; check its spelling and DNS"
        }
        if text.contains("serverClosedConnection") || text.localizedCaseInsensitiveContains("connection reset") {
            return "\(target): the connection was closed before a PostgreSQL answer; is something else listening at \(url.host):\(url.port), or a firewall resetting it?"
        }
        if text.localizedCaseInsensitiveContains("ssl") || text.localizedCaseInsensitiveContains("tls") {
            return "\(target): the server wants TLS; nzila connects in plain TCP on loopback or a private network"
        }
        return "\(target) could not be reached: \(text.prefix(300))"
    }
}
