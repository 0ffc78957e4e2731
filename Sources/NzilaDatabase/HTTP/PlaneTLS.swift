import Foundation
import HummingbirdCore
import HummingbirdTLS
import NIOSSL
import NzilaCore

/// TLS for a plane's listener: TLS 1.3 only, from a PEM certificate chain and private key (`NZILA_TLS_CERT`,
/// `NZILA_TLS_KEY`). Without them a plane serves plain HTTP, as `nzila dev` does on loopback (a deployment behind a
/// terminating proxy may too). The files are read and the context is built when the plane starts, so a bad
/// certificate stops the start with a clear error instead of failing every handshake.
public enum PlaneTLS {
    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// The server configuration for `certificate` (the chain, leaf first) and `key`, checked by building a context.
    public static func configuration(certificate: String, key: String) throws -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        let privateKey: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificate)
        } catch {
            throw Invalid(description: "NZILA_TLS_CERT \(certificate) is not a PEM certificate chain: \(error)")
        }
        do {
            privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
        } catch {
            throw Invalid(description: "NZILA_TLS_KEY \(key) is not a PEM private key: \(error)")
        }
        guard !chain.isEmpty else { throw Invalid(description: "NZILA_TLS_CERT \(certificate) holds no certificate") }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey))
        configuration.minimumTLSVersion = .tlsv13
        do {
            _ = try NIOSSLContext(configuration: configuration)
        } catch {
            throw Invalid(description: "the TLS certificate and key do not make a server context (does the key match?): \(error)")
        }
        return configuration
    }

    /// From `NZILA_TLS_CERT` and `NZILA_TLS_KEY`: nil when neither is set; one without the other is an error.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> TLSConfiguration? {
        let certificate = environment["NZILA_TLS_CERT"].flatMap { $0.isEmpty ? nil : $0 }
        let key = environment["NZILA_TLS_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        switch (certificate, key) {
        case (nil, nil): return nil
        case (let certificate?, let key?): return try configuration(certificate: certificate, key: key)
        default: throw Invalid(description: "TLS needs both NZILA_TLS_CERT and NZILA_TLS_KEY")
        }
    }

    /// `base` behind TLS when a configuration is given.
    static func server(_ base: HTTPServerBuilder, tls: TLSConfiguration?) -> HTTPServerBuilder {
        guard let tls else { return base }
        do {
            return try .tls(base, tlsConfiguration: tls)
        } catch {
            // `configuration(certificate:key:)` built a context from the same configuration when the plane was set up.
            preconditionFailure("a TLS configuration checked at start failed: \(error)")
        }
    }
}
