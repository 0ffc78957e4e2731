import AsyncHTTPClient
import ControlPlane
import DataPlane
import Foundation
import HummingbirdTesting
import NIOCore
import NIOSSL
import NzilaDatabase
import PostgresNIO
import Testing

/// Issue 26: both planes serve TLS 1.3 when given a certificate; a client that offers only TLS 1.2 is refused, and one
/// that does not trust the certificate gets no answer. The certificate is made here with openssl (ops/install-deps.sh).
@Suite("TLS")
struct TLSTests {
    /// A self-signed P-256 certificate for 127.0.0.1 and localhost, and its key, in a fresh folder.
    static func certificate() throws -> (cert: String, key: String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nzila-tls-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let (cert, key) = ("\(folder)/cert.pem", "\(folder)/key.pem")
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ]
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        try #require(openssl.terminationStatus == 0, "openssl made no certificate")
        return (cert, key)
    }

    static func get(_ url: String, trusting cert: String?, maximum: TLSVersion? = nil) async throws -> Int {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let cert { tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(cert)) }
        if let maximum { tls.maximumTLSVersion = maximum }
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
        do {
            let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(60))
            _ = try await response.body.collect(upTo: 1 << 20)
            try await client.shutdown()
            return Int(response.status.code)
        } catch {
            try await client.shutdown()
            throw error
        }
    }

    @Test("the control and data planes answer over TLS 1.3 with the configured certificate; TLS 1.2 and an untrusted certificate get nothing")
    func planesServeTLS() async throws {
        let harness = try await Harness.get()
        let (cert, key) = try Self.certificate()
        let tls = try PlaneTLS.configuration(certificate: cert, key: key)
        let control = harness.controlPlane(adjust: { $0.tls = tls })
        try await buildControlPlaneApplication(control).test(.live) { api in
            let url = "https://127.0.0.1:\(api.port!)/health"
            #expect(try await Self.get(url, trusting: cert) == 200)
            await #expect(throws: (any Error).self, "TLS 1.2 is not offered") { _ = try await Self.get(url, trusting: cert, maximum: .tlsv12) }
            await #expect(throws: (any Error).self, "an untrusted certificate") { _ = try await Self.get(url, trusting: nil) }
            let data = harness.dataPlane(jwksPort: api.port!, adjust: { $0.tls = tls })
            try await buildDataPlaneApplication(data).test(.live) { dp in
                let status = try await Self.get("https://127.0.0.1:\(dp.port!)/health", trusting: cert)
                #expect(status == 200)
            }
        }
        // Half a configuration, or a key that is not one, stops the start with a clear error.
        #expect(throws: PlaneTLS.Invalid.self) { _ = try PlaneTLS.fromEnvironment(["NZILA_TLS_CERT": cert]) }
        #expect(throws: PlaneTLS.Invalid.self) { _ = try PlaneTLS.configuration(certificate: cert, key: cert) }
        let none = try PlaneTLS.fromEnvironment([:])
        #expect(none == nil)
    }

    /// The test stack's servers (ops/stack.sh) offer TLS with a certificate from their own CA, for 127.0.0.1 and localhost.
    @Test("database URLs take sslmode=verify-full: PostgreSQL and PgBouncer answer over verified TLS; another CA is refused; plain stays plain")
    func databaseTLS() async throws {
        let harness = try await Harness.get()
        let ca = try #require(ProcessInfo.processInfo.environment["NZILA_TEST_DATABASE_CA"], "run the suite with ops/test.sh")
        func url(_ base: DatabaseURL, host: String = "127.0.0.1", _ query: String) throws -> DatabaseURL {
            try #require(DatabaseURL("postgres://\(base.user):\(base.password ?? "")@\(host):\(base.port)/\(base.database)?\(query)"))
        }
        // Direct: the session itself says it is encrypted, at TLS 1.2 or newer; the name checked is the address or localhost.
        for host in ["127.0.0.1", "localhost"] {
            let direct = try url(harness.directURL, host: host, "sslmode=verify-full&sslrootcert=\(ca)")
            #expect(direct.redacted.hasSuffix("?sslmode=verify-full&sslrootcert=\(ca)") && !direct.redacted.contains(harness.directURL.password ?? "-"))
            let connection = try await direct.connect(applicationName: "nzila-tests-tls", logger: harness.logger)
            let row = try await connection.query("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()", logger: harness.logger)
                .first((Bool, String).self)
            try await connection.close()
            #expect(row?.0 == true && ["TLSv1.2", "TLSv1.3"].contains(row?.1 ?? ""), "\(String(describing: row))")
        }
        let plain = try await harness.directURL.connect(applicationName: "nzila-tests-plain", logger: harness.logger)
        let plainSSL = try await plain.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", logger: harness.logger).first(Bool.self)
        try await plain.close()
        #expect(plainSSL == false, "a URL without sslmode stays plaintext, as nzila dev on loopback")

        // Through PgBouncer (transaction mode), as the data plane's pools connect.
        let bouncer = try url(harness.bouncerURL, "sslmode=verify-full&sslrootcert=\(ca)")
        let pool = bouncer.makeClient(maximumConnections: 2, applicationName: "nzila-tests-tls", logger: harness.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await pool.run() }
            let one = try await pool.statement("SELECT 1", logger: harness.logger) { try await $0.first(Int.self) }
            #expect(one == 1)
            group.cancelAll()
        }

        // A certificate from another CA: neither server is trusted, so nothing is sent to it.
        let (other, _) = try Self.certificate()
        await #expect(throws: (any Error).self) {
            let connection = try await url(harness.directURL, "sslmode=verify-full&sslrootcert=\(other)").connect(applicationName: "nzila-tests-tls", logger: harness.logger)
            try await connection.close()
        }
        await #expect(throws: (any Error).self) {
            let connection = try await url(harness.bouncerURL, "sslmode=verify-ca&sslrootcert=\(other)").connect(applicationName: "nzila-tests-tls", logger: harness.logger)
            try await connection.close()
        }
        // Unverified TLS is still TLS.
        let required = try await url(harness.bouncerURL, "sslmode=require").connect(applicationName: "nzila-tests-tls", logger: harness.logger)
        let answer = try await required.query("SELECT 2", logger: harness.logger).first(Int.self)
        try await required.close()
        #expect(answer == 2)
        #expect(DatabaseURL("postgres://a:b@h/d?sslmode=allow") == nil && DatabaseURL("postgres://a:b@h/d?application_name=x") == nil)
    }
}
