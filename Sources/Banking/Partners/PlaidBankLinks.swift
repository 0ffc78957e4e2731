import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NzilaCore
import NzilaPartners
import Synchronization

/// A bank-linking provider in the shape of Plaid: the member's app opens the provider's Link flow with a **link token**,
/// the member signs in to their bank there, and the app hands back a one-time **public token**, which is exchanged for
/// the item's **access token** (sealed at rest, never shown) to read the item's accounts and their live balances.
///
/// - `POST {base}/link/token/create` `{client_name, language, country_codes, user {client_user_id}, products}` → `{link_token, expiration}`
/// - `POST {base}/item/public_token/exchange` `{public_token}` → `{access_token, item_id}`
/// - `POST {base}/accounts/get` and `POST {base}/accounts/balance/get` `{access_token, options {account_ids}}` →
///   `{accounts [{account_id, name, mask, type, subtype, balances {available, current, iso_currency_code}}]}`
/// - `POST {base}/item/remove` `{access_token}`
///
/// Every call carries the credential (`CLIENT_ID:SECRET`) in `PLAID-CLIENT-ID` and `PLAID-SECRET`. A 4xx answer is the
/// provider's refusal (`{error_type, error_code, error_message}`), said to the caller; connection failures, timeouts
/// and 5xx are tried again and then thrown as `PartnerUnavailable`. Balances arrive as JSON numbers in major units: they
/// are read from the number's own digits, never through a floating-point value, and refused if they have more decimals
/// than the currency.
public struct PlaidBankLinks: PartnerCheck {
    public let name: String
    let baseURL: String
    let clientID: String
    let secret: String
    let timeout: TimeAmount
    let attempts: Int
    let client: HTTPClient

    public init(
        name: String, baseURL: String, credential: String, timeout: TimeAmount = .seconds(10), attempts: Int = 3, client: HTTPClient = .shared
    ) throws {
        let pair = credential.split(separator: ":", maxSplits: 1).map(String.init)
        guard pair.count == 2, !pair[0].isEmpty, !pair[1].isEmpty else {
            throw PartnerUnavailable(description: "\(name): the credential must be CLIENT_ID:SECRET")
        }
        self.name = name
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.clientID = pair[0]
        self.secret = pair[1]
        self.timeout = timeout
        self.attempts = attempts
        self.client = client
    }

    /// The provider refused the call: its error code (`INVALID_PUBLIC_TOKEN`, `ITEM_LOGIN_REQUIRED`, …) and message.
    public struct BankLinkRefused: Error, Equatable, CustomStringConvertible {
        public let code: String
        public let message: String
        public var loginRequired: Bool { code == "ITEM_LOGIN_REQUIRED" }
        /// The provider no longer knows the item or its token: nothing is left to end there.
        public var itemGone: Bool { ["ITEM_NOT_FOUND", "INVALID_ACCESS_TOKEN"].contains(code) }
        public var description: String { "\(code): \(message)" }
    }

    public struct LinkToken: Decodable, Sendable, Equatable {
        public let linkToken: String
        public let expiration: String
    }

    public struct Item: Sendable, Equatable {
        public let accessToken: String
        public let itemID: String
    }

    /// An account of a linked item as recorded and listed: what it is, never its balance (balances are read live).
    public struct LinkedAccount: Codable, Sendable, Equatable {
        public let id: String
        public let name: String
        public let mask: String?
        public let type: String
        public let subtype: String?
        public let currency: String
    }

    /// An account of a linked item; balances in minor units of `currency` (nil where the bank gives none).
    public struct Account: Codable, Sendable, Equatable {
        public let id: String
        public let name: String
        public let mask: String?
        public let type: String
        public let subtype: String?
        public let currency: String
        public let available: Int64?
        public let current: Int64?

        /// The account without its balances.
        public var linked: LinkedAccount { LinkedAccount(id: id, name: name, mask: mask, type: type, subtype: subtype, currency: currency) }
    }

    struct ErrorBody: Decodable {
        let errorCode: String
        let errorMessage: String?
    }

    struct Exchanged: Decodable {
        let accessToken: String
        let itemId: String
    }

    struct Accounts: Decodable {
        struct Raw: Decodable {
            struct Balances: Decodable {
                let available: String?
                let current: String?
                let isoCurrencyCode: String?
            }

            let accountId: String
            let name: String
            let mask: String?
            let type: String
            let subtype: String?
            let balances: Balances
        }

        let accounts: [Raw]
    }

    /// `once`: a call that must not be sent twice (the public-token exchange succeeds once; a retry after a lost answer
    /// would be refused while the first exchange's item lives on with a token nobody holds).
    func post(_ path: String, _ object: [String: Any], once: Bool = false) async throws -> Data {
        let body = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        let (status, answer) = try await PartnerHTTP.tried(name: name, attempts: once ? 1 : attempts, timeout: timeout, client: client) {
            var request = HTTPClientRequest(url: "\(baseURL)\(path)")
            request.method = .POST
            request.headers.add(name: "PLAID-CLIENT-ID", value: clientID)
            request.headers.add(name: "PLAID-SECRET", value: secret)
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "Accept", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
            return request
        }
        guard (200..<300).contains(status) else {
            if let refused = try? PartnerHTTP.decoder.decode(ErrorBody.self, from: answer) {
                throw BankLinkRefused(code: String(refused.errorCode.prefix(100)), message: String((refused.errorMessage ?? "").prefix(300)))
            }
            throw PartnerUnavailable(description: "\(name) answered HTTP \(status)")
        }
        return answer
    }

    /// A link token for this member's app (the member's id as the provider's user id).
    public func linkToken(member: UUID, clientName: String) async throws -> LinkToken {
        let answer = try await post("/link/token/create", [
            "client_name": String(clientName.prefix(30)), "language": "en", "country_codes": ["CA"], "products": ["auth"],
            "user": ["client_user_id": member.lowercased],
        ])
        guard let token = try? PartnerHTTP.decoder.decode(LinkToken.self, from: answer), (1...500).contains(token.linkToken.count) else {
            throw PartnerUnavailable(description: "\(name) answered a link token this platform cannot use")
        }
        return token
    }

    /// The item a public token stands for. A public token is good once: after a lost answer, the member links again.
    public func exchange(publicToken: String) async throws -> Item {
        let answer = try await post("/item/public_token/exchange", ["public_token": publicToken], once: true)
        guard let item = try? PartnerHTTP.decoder.decode(Exchanged.self, from: answer), (1...2000).contains(item.accessToken.count),
            (1...200).contains(item.itemId.count)
        else { throw PartnerUnavailable(description: "\(name) answered an exchange this platform cannot use") }
        return Item(accessToken: item.accessToken, itemID: item.itemId)
    }

    /// The item's accounts: with `live`, balances asked of the bank now (`/accounts/balance/get`); else as last cached.
    public func accounts(accessToken: String, live: Bool) async throws -> [Account] {
        let answer = try await post(live ? "/accounts/balance/get" : "/accounts/get", ["access_token": accessToken])
        guard let read = try? PartnerHTTP.decoder.decode(Accounts.self, from: PartnerHTTP.numbersAsText(answer, keys: ["available", "current", "limit"])) else {
            throw PartnerUnavailable(description: "\(name) answered accounts this platform cannot read")
        }
        return try read.accounts.map { raw in
            guard let code = raw.balances.isoCurrencyCode, let currency = Currency(code: code), (1...200).contains(raw.accountId.count) else {
                throw PartnerUnavailable(description: "\(name) answered an account in a currency this platform does not hold")
            }
            func minor(_ text: String?) throws -> Int64? {
                guard let text else { return nil }
                do {
                    return try Money.parse(text, currency: currency).minorUnits
                } catch {
                    throw PartnerUnavailable(description: "\(name) answered a balance that is not an amount of \(code)")
                }
            }
            return Account(
                id: raw.accountId, name: String(raw.name.prefix(100)), mask: raw.mask.map { String($0.suffix(4)) }, type: String(raw.type.prefix(40)),
                subtype: raw.subtype.map { String($0.prefix(40)) }, currency: code, available: try minor(raw.balances.available),
                current: try minor(raw.balances.current))
        }
    }

    /// Ends the item at the provider: its access token is no longer good.
    public func remove(accessToken: String) async throws {
        _ = try await post("/item/remove", ["access_token": accessToken])
    }

    /// The credential is good: the provider lists one institution.
    public func check() async throws -> Int {
        do {
            _ = try await post("/institutions/get", ["count": 1, "offset": 0, "country_codes": ["CA"]])
            return 200
        } catch let refused as BankLinkRefused {
            return refused.code == "INVALID_API_KEYS" ? 401 : 400
        }
    }
}

/// The bank-linking providers a data plane links members' external accounts with, by connection name.
public final class BankLinkProviders: Sendable {
    struct Connections: Sendable {
        var providers: [String: PlaidBankLinks]
        var tenants: ConnectionTenants
    }

    let connections: Mutex<Connections>
    public var tenants: ConnectionTenants { connections.withLock { $0.tenants } }

    public init(_ providers: [PlaidBankLinks] = [], tenants: ConnectionTenants = ConnectionTenants()) {
        connections = Mutex(Connections(providers: Dictionary(uniqueKeysWithValues: providers.map { ($0.name, $0) }), tenants: tenants))
    }

    /// Serves `other`'s connections from now on (the registry changed); `keeping` as `PayoutPartners.adopt`.
    public func adopt(_ other: BankLinkProviders, keeping: Set<String> = []) {
        let fresh = other.connections.withLock { $0 }
        connections.withLock { current in
            var next = fresh
            for name in keeping where next.providers[name] == nil { next.providers[name] = current.providers[name] }
            current = next
        }
    }

    public var names: Set<String> { connections.withLock { Set($0.providers.keys) } }

    public func provider(_ name: String) -> PlaidBankLinks? { connections.withLock { $0.providers[name] } }

    /// The registry's `bank-links` connections, credentials resolved; one whose credential is missing is left out and
    /// said in the log (by reference).
    public static func configured(
        _ connections: [PartnerConnection], environment: [String: String], client: HTTPClient = .shared, logger: Logger
    ) -> BankLinkProviders {
        var built: [PlaidBankLinks] = []
        for connection in connections where connection.kind == "bank-links" {
            do {
                built.append(try connection.bankLinks(environment: environment, client: client))
            } catch {
                logger.error("bank-link connection left out", metadata: ["partner": "\(connection.name)", "error": "\(error)"])
            }
        }
        return BankLinkProviders(built, tenants: ConnectionTenants(connections))
    }
}

extension PartnerConnection {
    public func bankLinks(environment: [String: String], client: HTTPClient = .shared) throws -> PlaidBankLinks {
        try PlaidBankLinks(
            name: name, baseURL: baseURL, credential: try credential.resolve(environment: environment), timeout: .milliseconds(Int64(timeoutMs)),
            attempts: attempts, client: client)
    }
}
