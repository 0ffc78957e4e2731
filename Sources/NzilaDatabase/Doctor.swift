import Foundation
import Logging
import NzilaCore
import PostgresNIO

/// `nzila doctor`: checks a deployment and says what is wrong and how to fix it — PostgreSQL's
/// version and settings, PgBouncer's version and pool mode, the application roles, forced RLS with
/// its policy on every table of every tenant schema, migration drift, and the clock. Each check is
/// a pure function of what was read, so the rules are tested without a broken deployment.
public enum Doctor {
    public struct Finding: Sendable, Equatable, CustomStringConvertible {
        public enum Severity: String, Sendable { case error, warning }
        public let severity: Severity
        public let check: String
        public let problem: String
        public let fix: String

        public init(_ severity: Severity, _ check: String, _ problem: String, fix: String) {
            self.severity = severity
            self.check = check
            self.problem = problem
            self.fix = fix
        }

        public var description: String { "\(severity.rawValue.uppercased()) [\(check)] \(problem)\n    fix: \(fix)" }
    }

    /// `server_version_num` and the settings the platform depends on.
    public static func postgres(versionNum: Int, settings: [String: String], tenants: Int) -> [Finding] {
        var findings: [Finding] = []
        if versionNum / 10_000 != 15 {
            findings.append(Finding(.error, "postgresql", "PostgreSQL \(versionNum / 10_000) is running; the platform is built and tested on 15",
                                    fix: "run PostgreSQL 15 (ops/stack.sh starts one)"))
        }
        if let locks = settings["max_locks_per_transaction"].flatMap(Int.init), tenants >= 500, locks < 256 {
            findings.append(Finding(.warning, "postgresql", "max_locks_per_transaction = \(locks) with \(tenants) tenants: whole-database dumps fail",
                                    fix: "ALTER SYSTEM SET max_locks_per_transaction = 512 and restart"))
        }
        if settings["fsync"] == "off" {
            findings.append(Finding(.error, "postgresql", "fsync is off: a crash can lose committed money movements",
                                    fix: "ALTER SYSTEM SET fsync = on; SELECT pg_reload_conf() (only test clusters run without it)"))
        }
        return findings
    }

    /// PgBouncer's `SHOW CONFIG` (key → value) and version: tenant sessions need transaction pooling
    /// (a session-mode pool would keep a tenant's role on a server connection between clients).
    public static func pgbouncer(config: [String: String], version: String?) -> [Finding] {
        var findings: [Finding] = []
        if let mode = config["pool_mode"], mode != "transaction" {
            findings.append(Finding(.error, "pgbouncer", "pool_mode is \(mode); the data plane is built for transaction pooling",
                                    fix: "set pool_mode = transaction in pgbouncer.ini and RELOAD"))
        }
        if let version, let minor = version.split(separator: " ").last.flatMap({ $0.split(separator: ".").dropFirst().first }).flatMap({ Int($0) }),
            version.contains("1."), minor < 18
        {
            findings.append(Finding(.warning, "pgbouncer", "\(version) is older than 1.18", fix: "install PgBouncer 1.18 or newer"))
        }
        if let reset = config["server_reset_query_always"], reset == "1" {
            findings.append(Finding(.warning, "pgbouncer", "server_reset_query_always = 1 adds a DISCARD per transaction", fix: "set it to 0"))
        }
        return findings
    }

    /// Each tenant table (schema, table, RLS enabled, forced, has the tenant policy) that is not as
    /// provisioning leaves it.
    public static func rls(_ tables: [(schema: String, table: String, enabled: Bool, forced: Bool, policy: Bool)]) -> [Finding] {
        tables.compactMap { row in
            guard !(row.enabled && row.forced && row.policy) else { return nil }
            let what = !row.enabled ? "has row-level security off" : !row.forced ? "does not force row-level security" : "has no tenant policy"
            return Finding(.error, "rls", "\(row.schema).\(row.table) \(what): its owner could read across tenants",
                           fix: "ALTER TABLE \(row.schema).\(row.table) ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY (or run nzila migrate drift and re-provision the table)")
        }
    }

    /// The application login must not get around RLS; a tenant role must not log in.
    public static func roles(_ roles: [(name: String, superuser: Bool, bypassRLS: Bool, canLogin: Bool)]) -> [Finding] {
        roles.compactMap { role in
            if role.name == "nzila_app", role.superuser || role.bypassRLS {
                return Finding(.error, "roles", "nzila_app is \(role.superuser ? "a superuser" : "BYPASSRLS"): row-level security does not bind it",
                               fix: "ALTER ROLE nzila_app NOSUPERUSER NOBYPASSRLS")
            }
            if role.name.hasPrefix("t_"), role.name.hasSuffix("_app"), role.canLogin || role.bypassRLS || role.superuser {
                return Finding(.error, "roles", "tenant role \(role.name) can log in or bypass RLS", fix: "ALTER ROLE \(role.name) NOLOGIN NOSUPERUSER NOBYPASSRLS")
            }
            return nil
        }
    }

    /// The database's clock against this machine's: token expiry and idempotency windows assume they agree.
    public static func clock(databaseSeconds: Double, localSeconds: Double) -> [Finding] {
        let skew = abs(databaseSeconds - localSeconds)
        guard skew > 2 else { return [] }
        return [Finding(.warning, "clock", String(format: "the database clock is %.1f s away from this machine's", skew),
                        fix: "run NTP (chrony or systemd-timesyncd) on both machines")]
    }

    // Reading the deployment.

    /// Every table of every tenant schema with its RLS flags and whether a policy is on it.
    public static func tenantTables(_ owner: PostgresClient, logger: Logger) async throws -> [(schema: String, table: String, enabled: Bool, forced: Bool, policy: Bool)] {
        try await owner.statement(
            """
            SELECT n.nspname::text, c.relname::text, c.relrowsecurity, c.relforcerowsecurity, EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND n.nspname IN (SELECT schema_name FROM control.tenants WHERE purged_at IS NULL)
            ORDER BY 1, 2
            """, logger: logger
        ) { try await $0.all((String, String, Bool, Bool, Bool).self).map { (schema: $0.0, table: $0.1, enabled: $0.2, forced: $0.3, policy: $0.4) } }
    }

    /// Database connections that leave the machine without a verified TLS session: the password and every row
    /// would cross the network readable, or to a server nobody checked.
    public static func transport(_ urls: [(setting: String, url: DatabaseURL)]) -> [Finding] {
        urls.compactMap { setting, url in
            let loopback = url.host == "localhost" || url.host == "::1" || url.host.hasPrefix("127.")
            guard !loopback, url.sslMode != .verifyFull else { return nil }
            return Finding(
                .warning, "tls", "\(setting) reaches \(url.host) with sslmode=\(url.sslMode.rawValue): the connection is \(url.sslMode == .disable ? "not encrypted" : "encrypted but the server is not fully verified")",
                fix: "add ?sslmode=verify-full&sslrootcert=/path/to/ca.pem (or sslrootcert=system) to \(setting), with TLS on the server")
        }
    }

    /// Where the master key is, and whether the platform key exists yet.
    public static func keys(_ provider: any KeyProvider, platformKey: Bool) -> [Finding] {
        var findings: [Finding] = []
        if provider is LocalKeyProvider {
            findings.append(Finding(
                .warning, "keys", "the master key is on this machine (\(provider.name)): whoever reads it and a database copy reads every sealed field",
                fix: "start a production deployment with a key service (NZILA_KEY_PROVIDER=vault with NZILA_VAULT_ADDR, NZILA_VAULT_TOKEN_FILE and NZILA_VAULT_TRANSIT_KEY); moving an existing deployment's keys from a local master into one is not built yet"))
        }
        if !platformKey {
            findings.append(Finding(
                .warning, "keys", "there is no platform key yet: a data plane cannot start",
                fix: "start the control plane once (or run nzila keys rotate-master), with the master key's provider configured"))
        }
        return findings
    }

    /// PgBouncer's console speaks only the simple query protocol, so it is asked through psql.
    public static func pgbouncer(host: String, port: Int, user: String, password: String?) -> [Doctor.Finding] {
        func ask(_ command: String) -> String? {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["psql", "-h", host, "-p", String(port), "-U", user, "-d", "pgbouncer", "-Atc", command]
            var environment = ProcessInfo.processInfo.environment
            environment["PGPASSWORD"] = password
            process.environment = environment
            let output = Pipe()
            process.standardOutput = output
            process.standardError = Pipe()
            guard (try? process.run()) != nil else { return nil }
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return process.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil
        }
        guard let config = ask("SHOW CONFIG") else {
            return [Doctor.Finding(.warning, "pgbouncer", "could not read PgBouncer's SHOW CONFIG at \(host):\(port) (psql missing, or the owner is not an admin or stats user)",
                                   fix: "add the owner role to admin_users or stats_users in pgbouncer.ini, or check the pool by hand")]
        }
        var settings: [String: String] = [:]
        for line in config.split(separator: "\n") {
            let fields = line.split(separator: "|", omittingEmptySubsequences: false)
            if fields.count >= 2 { settings[String(fields[0])] = String(fields[1]) }
        }
        return Doctor.pgbouncer(config: settings, version: ask("SHOW VERSION")?.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
