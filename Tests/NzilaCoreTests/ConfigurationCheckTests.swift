import NzilaCore
import Testing

@Suite("Start-up configuration checks")
struct ConfigurationCheckTests {
    @Test("a good configuration has no problem")
    func good() {
        let env = Env([
            "NZILA_DIRECT_URL": "postgres://nzila_owner:pw@db:5432/nzila", "NZILA_PGBOUNCER_URL": "postgres://nzila_app:pw@bouncer:6432/nzila",
            "NZILA_MASTER_KEY": String(repeating: "ab", count: 32), "NZILA_DATA_PORT": "8081", "NZILA_JWKS_URL": "https://cp.example/.well-known/jwks.json",
        ])
        #expect(ConfigurationCheck.problems(env).isEmpty)
    }

    @Test("missing and malformed URLs, a bad master key, a bad port, a short metrics token: every problem named at once")
    func bad() {
        let problems = ConfigurationCheck.problems(Env([
            "NZILA_PGBOUNCER_URL": "mysql://x@y/z", "NZILA_MASTER_KEY": "abc", "NZILA_DATA_PORT": "80801", "NZILA_METRICS_TOKEN": "short",
            "NZILA_JWKS_URL": "not a url", "NZILA_RATE_TENANT_PER_SECOND": "fast", "NZILA_LOG_FORMAT": "xml",
        ]))
        #expect(problems.count == 8, "\(problems)")
        #expect(problems.contains { $0.hasPrefix("NZILA_DIRECT_URL is not set") })
        #expect(problems.contains { $0.hasPrefix("NZILA_PGBOUNCER_URL is not a postgres:// URL") })
        #expect(problems.contains { $0.contains("openssl rand -hex 32") })
        #expect(problems.contains { $0.hasPrefix("NZILA_DATA_PORT") } && problems.contains { $0.hasPrefix("NZILA_METRICS_TOKEN") })
    }
}
