import AsyncHTTPClient
import Foundation
import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NzilaCore
import Synchronization

/// Sends one webhook delivery over HTTP, safely: the endpoint's host is resolved at send time and
/// **every** address it resolves to must be deliverable (`NetworkAddress.isDeliverable`); the
/// connection then goes to the address that was checked (the client's DNS is pinned to it, so a
/// name cannot resolve to something else between the check and the connect), TLS still verifies
/// the certificate for the name, redirects are not followed, and the whole exchange has 10 s.
final class WebhookSender: Sendable {
    struct Outcome: Sendable, Equatable {
        /// The HTTP status, when one came back.
        var statusCode: Int?
        /// Why it failed, when it did (no status, or refused before sending).
        var error: String?
        var milliseconds: Int

        var succeeded: Bool { statusCode.map { (200..<300).contains($0) } ?? false }
    }

    struct Refused: Error, CustomStringConvertible {
        let description: String
    }

    let allowLoopback: Bool
    /// Name resolution: the system's (getaddrinfo) unless a test gives DNS answers of its own.
    let resolver: @Sendable (String, Int) async throws -> [NetworkAddress]
    let logger: Logger
    /// One client per (host, checked address): its DNS pinned to that address.
    let clients = Mutex<[String: HTTPClient]>([:])
    let maximumClients = 256

    init(allowLoopback: Bool, resolver: (@Sendable (String, Int) async throws -> [NetworkAddress])? = nil, logger: Logger) {
        self.allowLoopback = allowLoopback
        self.resolver = resolver ?? { try await WebhookSender.resolve($0, port: $1) }
        self.logger = logger
    }

    /// POSTs `body` to `url` with `headers`. Never throws: every failure is an outcome.
    func send(url: URL, body: Data, headers: [(String, String)]) async -> Outcome {
        let started = ContinuousClock.now
        func elapsed() -> Int {
            let duration = ContinuousClock.now - started
            return Int(duration.components.seconds * 1_000 + duration.components.attoseconds / 1_000_000_000_000_000)
        }
        do {
            let client = try await client(for: url)
            var request = HTTPClientRequest(url: url.absoluteString)
            request.method = .POST
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            request.body = .bytes(ByteBuffer(bytes: body))
            let response = try await client.execute(request, timeout: .seconds(WebhookRules.timeoutSeconds))
            // The answer's body is not used; read a little so the connection can be reused.
            _ = try? await response.body.collect(upTo: 64 << 10)
            return Outcome(statusCode: Int(response.status.code), error: nil, milliseconds: elapsed())
        } catch let refused as Refused {
            return Outcome(statusCode: nil, error: refused.description, milliseconds: elapsed())
        } catch {
            return Outcome(statusCode: nil, error: Self.describe(error), milliseconds: elapsed())
        }
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout: return "timed out after \(WebhookRules.timeoutSeconds) s"
            default: return "HTTP error: \(error)".prefix(300).description
            }
        }
        return "\(error)".prefix(300).description
    }

    /// The client for this URL's host, pinned to an address checked just now.
    func client(for url: URL) async throws -> HTTPClient {
        guard let host = url.host?.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), !host.isEmpty else { throw Refused(description: "the URL has no host") }
        let scheme = url.scheme?.lowercased() ?? ""
        let addresses: [NetworkAddress]
        if let literal = NetworkAddress(host) {
            addresses = [literal]
        } else {
            addresses = try await resolver(host, url.port ?? (scheme == "https" ? 443 : 80))
        }
        guard let first = addresses.first else { throw Refused(description: "\(host) does not resolve") }
        if let bad = addresses.first(where: { !$0.isDeliverable(allowLoopback: allowLoopback) }) {
            throw Refused(description: "refused: \(host) resolves to \(bad), a loopback, private, link-local or reserved address")
        }
        if scheme != "https" && !(allowLoopback && addresses.allSatisfy(\.isLoopback)) {
            throw Refused(description: "refused: only https:// is delivered")
        }
        let key = "\(host)|\(first)"
        if let client = clients.withLock({ $0[key] }) { return client }
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: .seconds(WebhookRules.timeoutSeconds), read: .seconds(WebhookRules.timeoutSeconds)))
        if NetworkAddress(host) == nil { configuration.dnsOverride = [host: first.description] }
        configuration.connectionPool = .init(idleTimeout: .seconds(60))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let (kept, evicted) = clients.withLock { clients -> (HTTPClient, [HTTPClient]) in
            if let existing = clients[key] { return (existing, [client]) }
            var evicted: [HTTPClient] = []
            if clients.count >= maximumClients, let oldest = clients.keys.first { evicted.append(clients.removeValue(forKey: oldest)!) }
            clients[key] = client
            return (client, evicted)
        }
        for client in evicted { try? await client.shutdown() }
        return kept
    }

    /// Every address `host` resolves to (getaddrinfo, on the thread pool).
    static func resolve(_ host: String, port: Int) async throws -> [NetworkAddress] {
        try await NIOThreadPool.singleton.runIfActive {
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var result: UnsafeMutablePointer<addrinfo>?
            let status = getaddrinfo(host, String(port), &hints, &result)
            guard status == 0, let first = result else { throw Refused(description: "\(host.prefix(100)) does not resolve") }
            defer { freeaddrinfo(first) }
            var addresses: [NetworkAddress] = []
            var cursor: UnsafeMutablePointer<addrinfo>? = first
            while let entry = cursor {
                if let sockaddr = entry.pointee.ai_addr {
                    switch Int32(sockaddr.pointee.sa_family) {
                    case AF_INET:
                        sockaddr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                            var address = $0.pointee.sin_addr
                            if let parsed = NetworkAddress(bytes: withUnsafeBytes(of: &address) { Array($0) }) { addresses.append(parsed) }
                        }
                    case AF_INET6:
                        sockaddr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                            var address = $0.pointee.sin6_addr
                            if let parsed = NetworkAddress(bytes: withUnsafeBytes(of: &address) { Array($0) }) { addresses.append(parsed) }
                        }
                    default: break
                    }
                }
                cursor = entry.pointee.ai_next
            }
            return addresses
        }
    }

    func shutdown() async {
        let all = clients.withLock { clients in
            defer { clients.removeAll() }
            return Array(clients.values)
        }
        for client in all { try? await client.shutdown() }
    }
}
