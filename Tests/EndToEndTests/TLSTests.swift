import AsyncHTTPClient
import ControlPlane
import DataPlane
import Foundation
import HummingbirdTesting
import NIOCore
import NIOSSL
import NzilaDatabase
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
}
