import AsyncHTTPClient
import Foundation
import Ledger
import Logging
import NIOCore
import NzilaCore
import NzilaPartners
import Synchronization

/// A rate provider in the shape of Wise's quote API, the FX fallback when the platform's own mid rate is stale:
/// `POST {base}/v3/quotes {sourceCurrency, targetCurrency, sourceAmount}` with the API token as Bearer →
/// `{id, sourceCurrency, targetCurrency, rate, rateType, createdTime}`. The rate is a JSON number: it is read from its own
/// digits (at most 10 decimals, as every rate here), never through a floating-point value.
public struct WiseRateProvider: PartnerCheck {
    public let name: String
    let baseURL: String
    let http: PartnerHTTP

    public init(name: String, baseURL: String, token: String, timeout: TimeAmount = .seconds(5), attempts: Int = 2, client: HTTPClient = .shared) {
        self.name = name
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.http = PartnerHTTP(name: name, authorization: "Bearer \(token)", timeout: timeout, attempts: attempts, client: client)
    }

    struct Quote: Decodable {
        let sourceCurrency: String
        let targetCurrency: String
        let rate: String
    }

    /// The provider's current rate from `base` to `quote`.
    public func rate(from base: Currency, to quote: Currency) async throws -> FXRate {
        let body = try JSONSerialization.data(withJSONObject: [
            "sourceCurrency": base.code, "targetCurrency": quote.code, "sourceAmount": 1000, "payOut": "BALANCE",
        ], options: [.sortedKeys])
        let (status, answer) = try await http.call(.POST, "\(baseURL)/v3/quotes", body: body)
        let decoder = JSONDecoder()
        guard status == 200, let read = try? decoder.decode(Quote.self, from: PartnerHTTP.numbersAsText(answer, keys: ["rate"])) else {
            throw PartnerUnavailable(description: "\(name) did not quote \(base.code)-\(quote.code) (HTTP \(status))")
        }
        guard read.sourceCurrency == base.code, read.targetCurrency == quote.code, let rate = FXRate(decimal: read.rate) else {
            throw PartnerUnavailable(description: "\(name) answered a rate this platform cannot use")
        }
        return rate
    }

    public func check() async throws -> Int {
        try await http.call(.GET, "\(baseURL)/v1/rates?source=CAD&target=USD", body: nil).status
    }
}

/// When the platform's mid rate for a corridor is older than `staleAfter` seconds (business time), a quote takes the
/// fallback provider's rate instead, recorded as the quote's rate source; without a provider, or when it cannot answer,
/// the quote is refused (503) rather than priced on a stale rate. A fallback rate is reused for a minute per pair.
public final class RateFallback: Sendable {
    public let staleAfter: TimeInterval
    let current: Mutex<WiseRateProvider?>
    public var provider: WiseRateProvider? { current.withLock { $0 } }
    let cache = Mutex<[String: (rate: FXRate, at: Date)]>([:])
    /// How long a fallback rate is reused (business time).
    static let reuse: TimeInterval = 60

    public init(staleAfter: TimeInterval, provider: WiseRateProvider?) {
        precondition(staleAfter > 0, "a positive bound")
        self.staleAfter = staleAfter
        self.current = Mutex(provider)
    }

    /// Asks `other`'s provider from now on (the registry changed); rates the previous one gave are not reused.
    /// `keeping`: the registry still names the provider but this process could not build it again; it stays.
    public func adopt(_ other: RateFallback, keeping: Bool = false) {
        if other.provider == nil && keeping { return }
        let provider = other.provider
        current.withLock { $0 = provider }
        cache.withLock { $0.removeAll() }
    }


    /// The source a quote records for a rate the provider gave.
    public var source: String? { provider.map { "fx-quotes:\($0.name)" } }

    public func rate(from base: Currency, to quote: Currency, now: Date) async throws -> FXRate {
        let pair = "\(base.code)-\(quote.code)"
        if let known = cache.withLock({ $0[pair] }), RateFreshness.isFresh(asOf: known.at, now: now, bound: Self.reuse) { return known.rate }
        guard let provider else { throw PartnerUnavailable(description: "no FX fallback provider") }
        let rate = try await provider.rate(from: base, to: quote)
        cache.withLock { $0[pair] = (rate, now) }
        return rate
    }

    /// `NZILA_FX_STALE_AFTER` (seconds; unset: rates never go stale) and `NZILA_FX_FALLBACK` (the name of a registry
    /// connection of kind `fx-quotes`); nil when no bound is set.
    public static func configured(
        _ connections: [PartnerConnection], environment: [String: String], client: HTTPClient = .shared, logger: Logger
    ) -> RateFallback? {
        guard let bound = environment["NZILA_FX_STALE_AFTER"].flatMap(Int.init), bound > 0 else { return nil }
        var provider: WiseRateProvider?
        if let name = environment["NZILA_FX_FALLBACK"] {
            if let connection = connections.first(where: { $0.name == name && $0.kind == "fx-quotes" }) {
                do {
                    provider = try connection.rateProvider(environment: environment, client: client)
                } catch {
                    logger.error("FX fallback connection left out", metadata: ["partner": "\(name)", "error": "\(error)"])
                }
            } else {
                logger.error("FX fallback connection not in the registry", metadata: ["partner": "\(name)"])
            }
        }
        return RateFallback(staleAfter: TimeInterval(bound), provider: provider)
    }
}

extension PartnerConnection {
    public func rateProvider(environment: [String: String], client: HTTPClient = .shared) throws -> WiseRateProvider {
        WiseRateProvider(
            name: name, baseURL: baseURL, token: try credential.resolve(environment: environment), timeout: .milliseconds(Int64(timeoutMs)),
            attempts: attempts, client: client)
    }
}
