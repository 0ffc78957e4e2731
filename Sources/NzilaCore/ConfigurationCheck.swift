import Foundation

/// Every configuration problem at start-up, named with what to do, before anything connects: a
/// server that starts half-configured fails later and less clearly.
public enum ConfigurationCheck {
    /// `NZILA_*` settings as the process sees them (environment, then the state folder's urls.env).
    public static func problems(_ env: Env) -> [String] {
        var problems: [String] = []
        for name in ["NZILA_DIRECT_URL", "NZILA_PGBOUNCER_URL", "NZILA_LISTEN_URL"] {
            guard let raw = env[name] else {
                if name != "NZILA_LISTEN_URL" {
                    problems.append("\(name) is not set: give postgres://user:password@host:port/database, or start the embedded stack (nzila dev) so the state folder has it")
                }
                continue
            }
            if !isPostgresURL(raw) {
                problems.append("\(name) is not a postgres:// URL with a user and a host (postgres://user:password@host:5432/nzila)")
            }
            problems += tlsProblems(name, raw)
        }
        if let key = env["NZILA_MASTER_KEY"], key.count != 64 || !key.allSatisfy(\.isHexDigit) {
            problems.append("NZILA_MASTER_KEY must be 64 hex digits (32 bytes), such as the output of `openssl rand -hex 32`")
        }
        for name in ["NZILA_MASTER_KEY_FILE", "NZILA_MASTER_KEY_PREVIOUS_FILE"] {
            if let path = env[name], !FileManager.default.isReadableFile(atPath: path) { problems.append("\(name) names \"\(path.prefix(200))\", which cannot be read") }
        }
        for name in ["NZILA_MASTER_KEY_PREVIOUS"] {
            if let key = env[name], key.count != 64 || !key.allSatisfy(\.isHexDigit) { problems.append("\(name) must be 64 hex digits (the master being rotated away from)") }
        }
        switch env["NZILA_KEY_PROVIDER"] {
        case nil, "env", "file", "vault": break
        case let other?: problems.append("NZILA_KEY_PROVIDER must be env, file or vault (it is \"\(other.prefix(40))\")")
        }
        if env["NZILA_KEY_PROVIDER"] == "env", env["NZILA_MASTER_KEY"] == nil { problems.append("NZILA_KEY_PROVIDER=env needs NZILA_MASTER_KEY") }
        if env["NZILA_KEY_PROVIDER"] == "file", env["NZILA_MASTER_KEY_FILE"] == nil { problems.append("NZILA_KEY_PROVIDER=file needs NZILA_MASTER_KEY_FILE") }
        if env["NZILA_KEY_PROVIDER"] == "vault" {
            let address = env["NZILA_VAULT_ADDR"].flatMap(URL.init(string:))
            let loopback = ["127.0.0.1", "localhost", "::1"].contains(address?.host ?? "")
            if address.map({ ($0.scheme == "https" || ($0.scheme == "http" && loopback)) && $0.host != nil }) != true {
                problems.append("NZILA_KEY_PROVIDER=vault needs NZILA_VAULT_ADDR, the key service's https://host:8200 (plain http only on loopback: the token travels with every call)")
            }
            if env["NZILA_VAULT_TRANSIT_KEY"] == nil { problems.append("NZILA_KEY_PROVIDER=vault needs NZILA_VAULT_TRANSIT_KEY, the transit key's name") }
            if env["NZILA_VAULT_TOKEN_FILE"] == nil, env["NZILA_VAULT_TOKEN"] == nil {
                problems.append("NZILA_KEY_PROVIDER=vault needs NZILA_VAULT_TOKEN_FILE (a file holding the token) or NZILA_VAULT_TOKEN")
            }
        }
        if let token = env["NZILA_METRICS_TOKEN"], !token.isEmpty, token.count < 16 {
            problems.append("NZILA_METRICS_TOKEN is too short to guard /metrics: use at least 16 random characters")
        }
        for name in ["NZILA_DATA_PORT", "NZILA_CONTROL_PORT"] {
            if let raw = env[name], Int(raw).map({ (1...65_535).contains($0) }) != true { problems.append("\(name) must be a port number from 1 to 65535") }
        }
        for name in ["NZILA_POOL_GROUPS", "NZILA_GROUP_CONNECTIONS", "NZILA_RATE_TENANT_PER_SECOND", "NZILA_RATE_TENANT_BURST",
                     "NZILA_RATE_CALLER_PER_SECOND", "NZILA_RATE_CALLER_BURST", "NZILA_WARM_POOL_SIZE", "NZILA_REQUEST_DEADLINE",
                     "NZILA_REMITTANCE_SWEEP_SECONDS", "NZILA_RATE_CONFIG_SECONDS", "NZILA_TOKEN_LIFETIME"] {
            if let raw = env[name], Int(raw).map({ $0 >= 0 }) != true { problems.append("\(name) must be a whole number (it is \"\(raw.prefix(40))\")") }
        }
        if let raw = env["NZILA_JWKS_URL"], URL(string: raw).map({ ["http", "https"].contains($0.scheme ?? "") && $0.host != nil }) != true {
            problems.append("NZILA_JWKS_URL must be the control plane's http(s)://host/.well-known/jwks.json")
        }
        if let level = env["NZILA_LOG_LEVEL"], !["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(level) {
            problems.append("NZILA_LOG_LEVEL must be one of trace, debug, info, notice, warning, error, critical")
        }
        for name in ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] {
            if let raw = env[name], !raw.isEmpty, URL(string: raw).map({ ["http", "https"].contains($0.scheme ?? "") && $0.host != nil }) != true {
                problems.append("\(name) must be the collector's http(s)://host:4318 address (OTLP over HTTP; gRPC is not built in)")
            }
        }
        if let proto = env["OTEL_EXPORTER_OTLP_PROTOCOL"] ?? env["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"], !["http/protobuf", "http/json"].contains(proto) {
            problems.append("OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf or http/json (this build exports OTLP over HTTP only)")
        }
        if let format = env["NZILA_LOG_FORMAT"], !["json", "text"].contains(format) { problems.append("NZILA_LOG_FORMAT must be json or text") }
        return problems
    }

    static let sslModes = ["disable", "prefer", "require", "verify-ca", "verify-full"]

    /// The URL's `sslmode` and `sslrootcert` (the only query parameters understood), as libpq names them.
    static func tlsProblems(_ name: String, _ raw: String) -> [String] {
        guard let url = URLComponents(string: raw) else { return [] }
        var problems: [String] = []
        for item in url.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                if !sslModes.contains(item.value ?? "") {
                    problems.append("\(name): sslmode must be one of \(sslModes.joined(separator: ", ")) (verify-full checks the server's certificate and name)")
                }
            case "sslrootcert":
                let path = item.value ?? ""
                if path != "system", !FileManager.default.isReadableFile(atPath: path) {
                    problems.append("\(name): sslrootcert \"\(path.prefix(200))\" is not a readable PEM file (or say system for the machine's trust store)")
                }
            default:
                problems.append("\(name): the query parameter \"\(item.name.prefix(40))\" is not understood (only sslmode and sslrootcert)")
            }
        }
        return problems
    }

    static func isPostgresURL(_ raw: String) -> Bool {
        guard let url = URLComponents(string: raw), ["postgres", "postgresql"].contains(url.scheme ?? ""), url.user?.isEmpty == false,
            url.host?.isEmpty == false
        else { return false }
        return true
    }
}
