@testable import NzilaCore
import Testing

@Suite("Start-up configuration checks")
struct ConfigurationCheckTests {
    @Test("a good configuration has no problem")
    func good() {
        let env = Env([
            "NZILA_DIRECT_URL": "postgres://nzila_owner:pw@db:5432/nzila", "NZILA_PGBOUNCER_URL": "postgres://nzila_app:pw@bouncer:6432/nzila",
            "NZILA_MASTER_KEY": String(repeating: "ab", count: 32), "NZILA_DATA_PORT": "8081", "NZILA_JWKS_URL": "https://cp.example/.well-known/jwks.json",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
        ])
        #expect(ConfigurationCheck.problems(env).isEmpty)
    }

    @Test("missing and malformed URLs, a bad master key, a bad port, a short metrics token: every problem named at once")
    func bad() {
        let problems = ConfigurationCheck.problems(Env([
            "NZILA_PGBOUNCER_URL": "mysql://x@y/z", "NZILA_MASTER_KEY": "abc", "NZILA_DATA_PORT": "80801", "NZILA_METRICS_TOKEN": "short",
            "NZILA_JWKS_URL": "not a url", "NZILA_RATE_TENANT_PER_SECOND": "fast", "NZILA_LOG_FORMAT": "xml",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "collector:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        ]))
        #expect(problems.count == 10, "\(problems)")
        #expect(problems.contains { $0.hasPrefix("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must be") })
        #expect(problems.contains { $0.hasPrefix("OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf or http/json") })
        #expect(problems.contains { $0.hasPrefix("NZILA_DIRECT_URL is not set") })
        #expect(problems.contains { $0.hasPrefix("NZILA_PGBOUNCER_URL is not a postgres:// URL") })
        #expect(problems.contains { $0.contains("openssl rand -hex 32") })
        #expect(problems.contains { $0.hasPrefix("NZILA_DATA_PORT") } && problems.contains { $0.hasPrefix("NZILA_METRICS_TOKEN") })
    }

    @Test("database TLS as libpq names it: sslmode one of five, sslrootcert a readable file or system, nothing else in the query")
    func databaseTLS() {
        let good = ConfigurationCheck.problems(Env([
            "NZILA_DIRECT_URL": "postgres://o:pw@db.internal:5432/nzila?sslmode=verify-full&sslrootcert=system",
            "NZILA_PGBOUNCER_URL": "postgres://a:pw@bouncer.internal:6432/nzila?sslmode=require",
        ]))
        #expect(good.isEmpty, "\(good)")
        let bad = ConfigurationCheck.problems(Env([
            "NZILA_DIRECT_URL": "postgres://o:pw@db:5432/nzila?sslmode=verify_full",
            "NZILA_PGBOUNCER_URL": "postgres://a:pw@bouncer:6432/nzila?sslmode=verify-ca&sslrootcert=/nowhere/ca.pem&sslcompression=1",
        ]))
        #expect(bad.count == 3, "\(bad)")
        #expect(bad.contains { $0.hasPrefix("NZILA_DIRECT_URL: sslmode must be one of disable, prefer, require, verify-ca, verify-full") })
        #expect(bad.contains { $0.hasPrefix("NZILA_PGBOUNCER_URL: sslrootcert \"/nowhere/ca.pem\" is not a readable PEM file") })
        #expect(bad.contains { $0.contains("\"sslcompression\" is not understood") })
    }

    @Test("the master key's provider: env, file or vault, each with what it needs")
    func keyProvider() {
        let urls = ["NZILA_DIRECT_URL": "postgres://o:pw@db:5432/nzila", "NZILA_PGBOUNCER_URL": "postgres://a:pw@bouncer:6432/nzila"]
        let vault = ConfigurationCheck.problems(Env(urls.merging([
            "NZILA_KEY_PROVIDER": "vault", "NZILA_VAULT_ADDR": "https://vault.internal:8200", "NZILA_VAULT_TRANSIT_KEY": "nzila",
            "NZILA_VAULT_TOKEN_FILE": "/run/secrets/vault-token",
        ]) { $1 }))
        #expect(vault.isEmpty, "\(vault)")
        let bad = ConfigurationCheck.problems(Env(urls.merging(["NZILA_KEY_PROVIDER": "vault", "NZILA_MASTER_KEY_PREVIOUS": "short"]) { $1 }))
        #expect(bad.count == 4, "\(bad)")
        #expect(ConfigurationCheck.problems(Env(urls.merging(["NZILA_KEY_PROVIDER": "kms"]) { $1 })) == ["NZILA_KEY_PROVIDER must be env, file or vault (it is \"kms\")"])
        #expect(ConfigurationCheck.problems(Env(urls.merging(["NZILA_KEY_PROVIDER": "file"]) { $1 })) == ["NZILA_KEY_PROVIDER=file needs NZILA_MASTER_KEY_FILE"])
    }
}

@Suite("Trace span names")
struct TraceNameTests {
    @Test("a statement's span is named by its first keyword, whatever the indentation; nothing else of the SQL")
    func operation() {
        #expect(Traces.operation("SELECT 1") == "SELECT")
        #expect(Traces.operation("\n    with moved AS (UPDATE x SET y = $1) SELECT 1") == "WITH")
        #expect(Traces.operation("  ") == "SQL")
    }
}
