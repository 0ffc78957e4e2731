import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Ledger
import NIOCore
import NzilaCore
import NzilaPartners
import PostgresNIO
import Remittance
import Synchronization
import Testing

/// Issue 25: the FX fallback. A Wise-style quote API (a stand-in) prices a quote when the platform's reference rate is
/// older than its bound; the quote records where its rate came from; with no current rate to be had, no quote.
@Suite("FX fallback")
struct FXFallbackTests {
    final class WiseStandIn: Sendable {
        static let token = "wise-token-77c1"
        let calls = Mutex(0)
        let failures = Mutex(0)
        /// The raw rate text answered (a JSON number, as Wise writes it).
        let rate = Mutex("1140.123456789")
        let wrongPair = Mutex(false)

        var application: some ApplicationProtocol {
            let router = Router()
            router.post("/v3/quotes") { request, _ -> Response in
                guard request.headers[.authorization] == "Bearer \(Self.token)" else { return StandIns.json(401, ["error": "unauthorized"]) }
                self.calls.withLock { $0 += 1 }
                if self.failures.withLock({ count in
                    defer { count = max(0, count - 1) }
                    return count > 0
                }) { return StandIns.json(503, ["error": "unavailable"]) }
                let body = (try? JSONSerialization.jsonObject(with: Data(buffer: try await request.body.collect(upTo: 1 << 16)))) as? [String: Any] ?? [:]
                let source = body["sourceCurrency"] as? String ?? ""
                let target = self.wrongPair.withLock { $0 } ? "EUR" : body["targetCurrency"] as? String ?? ""
                let raw = #"{"id":"\#(UUID().uuidString.lowercased())","sourceCurrency":"\#(source)","targetCurrency":"\#(target)","sourceAmount":1000,"rate":\#(self.rate.withLock { $0 }),"rateType":"FIXED","createdTime":"2026-12-07T20:00:00Z"}"#
                return StandIns.json(200, Data(raw.utf8))
            }
            router.get("/v1/rates") { request, _ -> Response in
                request.headers[.authorization] == "Bearer \(Self.token)" ? StandIns.json(200, [["rate": 0.73, "source": "CAD", "target": "USD"]]) : StandIns.json(401, [:])
            }
            return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        }
    }

    @Test("a stale reference rate is replaced by the fallback's, recorded as the quote's source; none to be had is a 503 and no quote")
    func staleRate() async throws {
        let harness = try await Harness.get()
        let standIn = WiseStandIn()
        try await standIn.application.test(.live) { api in
            let provider = WiseRateProvider(name: "wise-test", baseURL: "http://127.0.0.1:\(api.port!)", token: WiseStandIn.token, timeout: .seconds(30), attempts: 2)
            #expect(try await provider.check() == 200)
            #expect(try await provider.rate(from: .cad, to: Currency(code: "NGN")!) == FXRate(decimal: "1140.123456789"))
            let fallback = RateFallback(staleAfter: 600, provider: provider)
            // The test's clock starts a second after the reference rate was taken (however long the suite has run).
            let age: Double? = try await harness.owner.statement(
                "SELECT extract(epoch FROM clock_timestamp() - as_of)::float8 FROM reference.fx_rates WHERE base = 'CAD' AND quote = 'NGN'",
                logger: harness.logger) { try await $0.first(Double.self) }
            let clock = MovableClock(offsetSeconds: 1 - (age ?? 0))
            try await harness.withPlanes(rateFallback: fallback, clock: clock) { planes in
                let f = try await planes.provisionFixture(prefix: "fxf")
                func quote() async throws -> Planes.Reply {
                    try await planes.data(
                        .post, "/v1/quotes", token: f.members[0].token, tenant: f.slug,
                        json: ["corridor": "CAD-NGN", "method": "mobile_money", "send_amount": 10_000])
                }
                let before = standIn.calls.withLock { $0 }
                // Fresh: the reference rate, its source recorded; the provider is not asked.
                let fresh = try await quote()
                #expect(fresh.status == .created && fresh.json["rate_source"] as? String == "file:fx_rates.csv", "\(fresh.text)")
                #expect((fresh.json["quote"] as? [String: Any])?["mid_rate"] as? String == "1131.2045000000")
                #expect(standIn.calls.withLock { $0 } == before)

                // Eleven minutes on (within the tokens' lifetime), the reference rate is stale: the provider's rate prices
                // the quote (one 503 tried again).
                clock.advance(seconds: 660)
                standIn.failures.withLock { $0 = 1 }
                let stale = try await quote()
                #expect(stale.status == .created && stale.json["rate_source"] as? String == "fx-quotes:wise-test", "\(stale.text)")
                let q = stale.json["quote"] as? [String: Any] ?? [:]
                #expect(q["mid_rate"] as? String == "1140.1234567890", "read from the number's own digits: \(q)")
                #expect((q["customer_rate"] as? String)?.hasPrefix("1123.021604937") == true, "150 bps below the fallback's mid: \(q)")
                let id = try #require(stale.json["id"] as? String)
                let read = try await planes.data(.get, "/v1/quotes/\(id)", token: f.members[0].token, tenant: f.slug)
                #expect(read.json["rate_source"] as? String == "fx-quotes:wise-test")
                // Reused for a minute: a second quote asks nothing.
                let calls = standIn.calls.withLock { $0 }
                #expect(try await quote().json["rate_source"] as? String == "fx-quotes:wise-test")
                #expect(standIn.calls.withLock { $0 } == calls)

                // A minute later the provider is down: no quote, a 503 to retry, nothing recorded.
                clock.advance(seconds: 61)
                standIn.failures.withLock { $0 = 10 }
                let down = try await quote()
                #expect(down.status == .serviceUnavailable && down.problemCode == "fx-rate-stale" && down.headers[.retryAfter] == "60", "\(down.text)")
                standIn.failures.withLock { $0 = 0 }
                // An answer for another pair, or a rate that is not one, is not used either.
                standIn.wrongPair.withLock { $0 = true }
                #expect(try await quote().status == .serviceUnavailable)
                standIn.wrongPair.withLock { $0 = false }
                standIn.rate.withLock { $0 = "-3" }
                #expect(try await quote().status == .serviceUnavailable)
                standIn.rate.withLock { $0 = "1.5e3" }
                #expect(try await quote().status == .serviceUnavailable)
                let quotes = try await harness.owner.transaction(logger: harness.logger) { connection in
                    try await connection.query("SELECT set_config('app.tenant_id', \(f.tenantID), true)", logger: harness.logger)
                    return try await connection.query(PostgresQuery(unsafeSQL: "SELECT count(*)::int FROM t_\(f.slug).quotes"), logger: harness.logger).first(Int.self)
                }
                #expect(quotes == 3, "only the three priced quotes were recorded")
            }
            // Without a provider, a stale rate prices nothing.
            let clockAlone = MovableClock()
            try await harness.withPlanes(rateFallback: RateFallback(staleAfter: 600, provider: nil), clock: clockAlone) { planes in
                let f = try await planes.provisionFixture(prefix: "fxn")
                clockAlone.advance(seconds: 660)
                let refused = try await planes.data(
                    .post, "/v1/quotes", token: f.members[0].token, tenant: f.slug, json: ["corridor": "CAD-NGN", "method": "mobile_money", "send_amount": 10_000])
                #expect(refused.status == .serviceUnavailable && refused.problemCode == "fx-rate-stale")
            }
        }
    }

    @Test("freshness is no older than the bound")
    func freshness() {
        let asOf = Date(timeIntervalSince1970: 1_000_000)
        #expect(RateFreshness.isFresh(asOf: asOf, now: asOf.addingTimeInterval(3_600), bound: 3_600))
        #expect(!RateFreshness.isFresh(asOf: asOf, now: asOf.addingTimeInterval(3_601), bound: 3_600))
        #expect(RateFreshness.isFresh(asOf: asOf, now: asOf.addingTimeInterval(-5), bound: 3_600), "a rate stamped ahead of the clock is fresh")
    }
}
