import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NzilaCore
import NzilaPartners
import Synchronization

/// An identity verification provider in the shape of Stripe Identity: a **verification session** (document + matching
/// selfie) the member completes in the provider's hosted flow or app SDK; the provider's signed events say when it is
/// verified, and the verified report is then read back with the document's details.
///
/// - `POST {base}/v1/identity/verification_sessions` form-encoded: `type=document`,
///   `options[document][require_matching_selfie]=true`, `metadata[verification_id]`, `metadata[member_id]`, with the
///   secret key as Bearer and the verification id as `Idempotency-Key` → `{id, url, client_secret, status}`.
/// - `GET {base}/v1/identity/verification_sessions/{id}?expand[]=last_verification_report&expand[]=last_verification_report.document.number`
///   → the session with its report: `document {status, type, number, issuing_country, expiration_date {day, month, year}}`
///   and `selfie {status}`.
/// - Events `identity.verification_session.verified | requires_input | canceled | processing`, signed
///   `Stripe-Signature: t=…,v1=…` (HMAC-SHA256 of `t.body`) with the endpoint's secret.
public struct StripeIdentityProvider: PartnerCheck {
    public let name: String
    let baseURL: String
    let http: PartnerHTTP

    public init(name: String, baseURL: String, secretKey: String, timeout: TimeAmount = .seconds(10), attempts: Int = 3, client: HTTPClient = .shared) {
        self.name = name
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.http = PartnerHTTP(name: name, authorization: "Bearer \(secretKey)", timeout: timeout, attempts: attempts, client: client)
    }

    /// A session the member completes: its id, the hosted flow's link, and the secret the member's app opens it with.
    public struct Session: Decodable, Sendable, Equatable {
        public let id: String
        public let url: String?
        public let clientSecret: String?
        public let status: String
    }

    /// What the provider verified, read back once the session is verified.
    public struct Verified: Sendable, Equatable {
        /// The report's id: the provider's reference the evidence keeps.
        public let report: String
        public let kind: KYCEvidence
        public let number: String?
        public let issuingCountry: String?
        public let expiresOn: String?
        public let selfieMatched: Bool
        /// The images the report was made from, by KYC file kind (`id_front`, `id_back`, `selfie`) and the provider's
        /// file id, read with `file(_:limit:)`.
        public var files: [(kind: String, id: String)] = []

        public static func == (lhs: Verified, rhs: Verified) -> Bool {
            lhs.report == rhs.report && lhs.kind == rhs.kind && lhs.number == rhs.number && lhs.issuingCountry == rhs.issuingCountry
                && lhs.expiresOn == rhs.expiresOn && lhs.selfieMatched == rhs.selfieMatched && lhs.files.map(\.id) == rhs.files.map(\.id)
                && lhs.files.map(\.kind) == rhs.files.map(\.kind)
        }
    }

    public struct Event: Sendable, Equatable {
        public let id: String
        public let type: String
        public let session: String
    }

    struct Report: Decodable {
        struct SessionReport: Decodable {
            struct Document: Decodable {
                struct Day: Decodable {
                    let day: Int
                    let month: Int
                    let year: Int
                }

                let status: String
                let type: String?
                let number: String?
                let issuingCountry: String?
                let expirationDate: Day?
                /// The document's images, front first.
                let files: [String]?
            }

            struct Selfie: Decodable {
                let status: String
                /// The selfie's image.
                let selfie: String?
            }

            let id: String
            let document: Document?
            let selfie: Selfie?
        }

        let id: String
        let status: String
        let lastVerificationReport: SessionReport?
    }

    struct SessionObject: Decodable, Sendable {
        let id: String
    }

    public func start(verification: UUID, member: UUID) async throws -> Session {
        let form = [
            ("type", "document"), ("options[document][require_matching_selfie]", "true"), ("options[document][require_live_capture]", "true"),
            ("metadata[verification_id]", verification.lowercased), ("metadata[member_id]", member.lowercased),
        ].map { "\(PartnerHTTP.formEscape($0.0))=\(PartnerHTTP.formEscape($0.1))" }.joined(separator: "&")
        let (status, body) = try await http.call(
            .POST, "\(baseURL)/v1/identity/verification_sessions", body: Data(form.utf8), idempotencyKey: verification.lowercased,
            contentType: "application/x-www-form-urlencoded")
        guard (200..<300).contains(status), let session = try? PartnerHTTP.decoder.decode(Session.self, from: body) else {
            throw PartnerUnavailable(description: "\(name) did not open a verification session (HTTP \(status))")
        }
        return session
    }

    /// The verified result of a session; nil when the session is not verified (or its document or selfie is not).
    public func verified(session: String) async throws -> Verified? {
        let query = "expand[]=last_verification_report&expand[]=last_verification_report.document.number"
            .replacingOccurrences(of: "[", with: "%5B").replacingOccurrences(of: "]", with: "%5D")
        let path = session.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "_-"))) ?? session
        let (status, body) = try await http.call(.GET, "\(baseURL)/v1/identity/verification_sessions/\(path)?\(query)", body: nil)
        guard status == 200, let read = try? PartnerHTTP.decoder.decode(Report.self, from: body) else {
            throw PartnerUnavailable(description: "\(name) did not answer the verification session (HTTP \(status))")
        }
        guard read.status == "verified", let report = read.lastVerificationReport, let document = report.document, document.status == "verified",
            let kind = Self.kind(document.type)
        else { return nil }
        let expires = document.expirationDate.map { String(format: "%04d-%02d-%02d", $0.year, $0.month, $0.day) }
        // What is recorded must fit the evidence's columns: a report the columns cannot hold is the provider's failure
        // (unknown outcome, the event is sent again), never a failed request.
        let country = document.issuingCountry.map { $0.uppercased() }
        guard (1...200).contains(report.id.count), country.map({ $0.range(of: #"^[A-Z]{2}$"#, options: .regularExpression) != nil }) ?? true,
            expires.map({ CalendarDay.parse($0) != nil }) ?? true, (document.number?.count ?? 0) <= 100
        else { throw PartnerUnavailable(description: "\(name) answered a verification report this platform cannot record") }
        var files: [(kind: String, id: String)] = zip(["id_front", "id_back"], document.files ?? []).map { ($0, $1) }
        if let selfie = report.selfie?.selfie { files.append(("selfie", selfie)) }
        return Verified(
            report: report.id, kind: kind, number: document.number, issuingCountry: country, expiresOn: expires,
            selfieMatched: report.selfie?.status == "verified", files: files.filter { (1...200).contains($0.id.count) })
    }

    /// A file's bytes, at most `limit` of them: Stripe serves file contents from its files host (`files.stripe.com`
    /// beside `api.stripe.com`); any other base (a stand-in, a gateway) serves them itself.
    public func file(_ id: String, limit: Int) async throws -> Data {
        let filesBase = baseURL.replacingOccurrences(of: "://api.stripe.com", with: "://files.stripe.com")
        let path = id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "_-"))) ?? id
        let (status, body) = try await http.call(.GET, "\(filesBase)/v1/files/\(path)/contents", body: nil, limit: limit)
        guard status == 200 else { throw PartnerUnavailable(description: "\(name) did not serve file \(id.prefix(40)) (HTTP \(status))") }
        return body
    }

    /// The event in a webhook's raw body, if its `Stripe-Signature` is good.
    public func event(headers: [String: String], body: Data, secret: String, nowSeconds: Int64) throws -> Event {
        let event = try StripeEvent<SessionObject>.verified(headers: headers, body: body, secret: secret, nowSeconds: nowSeconds)
        return Event(id: event.id, type: event.type, session: event.data.object.id)
    }

    public func check() async throws -> Int {
        try await http.call(.GET, "\(baseURL)/v1/balance", body: nil).status
    }

    /// The evidence a document type is.
    static func kind(_ type: String?) -> KYCEvidence? {
        switch type {
        case "passport": .passport
        case "driving_license": .driversLicence
        case "id_card": .nationalID
        default: nil
        }
    }
}

/// The identity providers a data plane verifies members with, by connection name, each with its webhook secret.
public final class IdentityProviders: Sendable {
    struct Connections: Sendable {
        var providers: [String: (provider: StripeIdentityProvider, secret: String?)]
        var tenants: ConnectionTenants
        /// Replaced or removed by a reload: kept for the events of sessions they opened.
        var retired: [String: (provider: StripeIdentityProvider, secret: String?)] = [:]
    }

    let connections: Mutex<Connections>
    var tenants: ConnectionTenants { connections.withLock { $0.tenants } }

    public init(_ providers: [(StripeIdentityProvider, String?)] = [], tenants: ConnectionTenants = ConnectionTenants()) {
        connections = Mutex(Connections(providers: Dictionary(uniqueKeysWithValues: providers.map { ($0.0.name, ($0.0, $0.1)) }), tenants: tenants))
    }

    /// Serves `other`'s connections from now on (the registry changed); `keeping` as `PayoutPartners.adopt`.
    public func adopt(_ other: IdentityProviders, keeping: Set<String> = []) {
        let fresh = other.connections.withLock { $0 }
        connections.withLock { current in
            var next = fresh
            for name in keeping where next.providers[name] == nil { next.providers[name] = current.providers[name] }
            next.retired = current.retired.merging(current.providers) { $1 }.filter { next.providers[$0.key] == nil }
            current = next
        }
    }

    public var names: Set<String> { connections.withLock { Set($0.providers.keys) } }

    /// A current connection, or one a reload retired (the events of sessions it opened are still applied; a session is
    /// found only under the connection that opened it).
    public func provider(_ name: String) -> StripeIdentityProvider? { connections.withLock { ($0.providers[name] ?? $0.retired[name])?.provider } }

    /// The provider, if the tenant (its slug) may use the connection.
    public func provider(_ name: String, for tenant: String) -> StripeIdentityProvider? {
        connections.withLock { $0.tenants.allows(name, tenant: tenant) ? $0.providers[name]?.provider : nil }
    }
    public func secret(_ name: String) -> String? { connections.withLock { ($0.providers[name] ?? $0.retired[name])?.secret } }

    /// The registry's identity connections, credentials resolved; one whose credential is missing is left out and
    /// said in the log (by reference), as payout partners are.
    public static func configured(
        _ connections: [PartnerConnection], environment: [String: String], client: HTTPClient = .shared, logger: Logger
    ) -> IdentityProviders {
        var built: [(StripeIdentityProvider, String?)] = []
        for connection in connections where connection.kind == "identity" {
            do {
                let provider = try connection.identityProvider(environment: environment, client: client)
                built.append((provider, try? connection.callbackSecret?.resolve(environment: environment)))
            } catch {
                logger.error("identity connection left out", metadata: ["partner": "\(connection.name)", "error": "\(error)"])
            }
        }
        return IdentityProviders(built, tenants: ConnectionTenants(connections))
    }
}

extension PartnerConnection {
    public func identityProvider(environment: [String: String], client: HTTPClient = .shared) throws -> StripeIdentityProvider {
        StripeIdentityProvider(
            name: name, baseURL: baseURL, secretKey: try credential.resolve(environment: environment), timeout: .milliseconds(Int64(timeoutMs)),
            attempts: attempts, client: client)
    }
}
