import Foundation
import HTTPTypes
import NzilaCore
import NzilaDatabase
import NzilaValues
import Testing
import Trading

/// Daily snapshots over thirty-odd trading days on the test clock, the history and analytics read
/// from them, recomputed here from the values the history returns. In the market suite: it moves
/// the platform's one set of quotes and bars.
extension MarketTests {
    /// The formulas, written out plainly (not PortfolioAnalytics): what the answer must agree with.
    static func recomputed(_ values: [Double], _ bench: [Double], rf annual: Double) -> [String: Double] {
        let r = (1..<values.count).map { values[$0] / values[$0 - 1] - 1 }
        let b = (1..<bench.count).map { bench[$0] / bench[$0 - 1] - 1 }
        let n = Double(r.count)
        let rf = pow(1 + annual, 1.0 / 252) - 1
        func mean(_ x: [Double]) -> Double { x.reduce(0, +) / Double(x.count) }
        func std(_ x: [Double]) -> Double { let m = mean(x); return (x.map { ($0 - m) * ($0 - m) }.reduce(0, +) / (Double(x.count) - 1)).squareRoot() }
        let excess = r.map { $0 - rf }
        var peak = values[0]
        var drawdown = 0.0
        for v in values { peak = max(peak, v); drawdown = min(drawdown, v / peak - 1) }
        let mb = mean(b)
        let beta = mean(zip(r, b).map { $0 * ($1 - mb) }) / mean(b.map { ($0 - mb) * ($0 - mb) })
        return [
            "period_return": r.reduce(1) { $0 * (1 + $1) } - 1,
            "annual_return": pow(r.reduce(1) { $0 * (1 + $1) }, 252 / n) - 1,
            "annual_volatility": std(r) * 252.0.squareRoot(),
            "sharpe": mean(excess) / std(excess) * 252.0.squareRoot(),
            "sortino": mean(excess) * 252 / ((excess.map { min(0, $0) * min(0, $0) }.reduce(0, +) / n).squareRoot() * 252.0.squareRoot()),
            "max_drawdown": drawdown,
            "beta": beta,
            "alpha": pow(1 + mean(zip(r, b).map { ($0 - rf) - beta * ($1 - rf) }), 252) - 1,
        ]
    }

    @Test("snapshots: thirty trading days of values, a missed week caught up, a late fill undone; history and analytics agree with the formulas; another tenant sees none of it")
    func portfolioHistory() async throws {
        let harness = try await Harness.get()
        let clock = MovableClock(frozenAt: MarketTests.noon)
        let lifetime = 60 * 86_400
        let control = harness.controlPlane(clock: .movable(clock), adjust: { $0.tokenLifetimeSeconds = lifetime })
        try await harness.withPlanes(control: control, data: { $0.tokenLifetimeSeconds = lifetime }, clock: clock) { planes in
            let f = try await planes.provisionFixture(prefix: "ph")
            let g = try await planes.provisionFixture(prefix: "pg")
            let tenant = try await planes.tenantRef(f)
            let ada = f.members[0]
            // The credit union's risk-free rate: 2.25%.
            let current = try await planes.control(.get, "/v1/tenants/\(f.slug)/config", token: f.staffToken)
            var config = try #require(current.json["config"] as? [String: Any])
            config["trading"] = ["risk_free_bps": 225]
            let put = try await planes.control(
                .put, "/v1/tenants/\(f.slug)/config", token: f.staffToken, json: ["config": config, "reason": "Risk-free rate for analytics"],
                headers: [HTTPField.Name("If-Match")!: "\"1\""])
            #expect(put.status == .ok, "\(put.text)")

            func post(_ path: String, _ body: [String: Any]) async throws -> Planes.Reply {
                try await planes.data(.post, path, token: ada.token, tenant: f.slug, json: body, headers: [.idempotencyKey: UUID().uuidString])
            }
            func get(_ path: String, token: String? = nil, tenant: String? = nil) async throws -> Planes.Reply {
                try await planes.data(.get, path, token: token ?? ada.token, tenant: tenant ?? f.slug)
            }
            func cash() async throws -> Int { try #require(Self.amount(try await get("/v1/trading/account").json, "cash")) }
            func trade(_ symbol: String, _ side: String, _ qty: Int) async throws {
                let placed = try await post("/v1/trading/orders", ["symbol": symbol, "side": side, "type": "market", "qty": qty, "time_in_force": "day"])
                let id = try #require(placed.json["id"] as? String, "\(placed.text)")
                var rounds = 0
                while try await get("/v1/trading/orders/\(id)").json["status"] as? String != "filled", rounds < 10 {
                    if rounds > 0 {
                        // The rest at the next quote.
                        clock.advance(seconds: 15)
                        _ = try #require(try await MarketTests.ingest(planes.data.marketIngestion))
                    }
                    _ = await planes.data.orderMatcher.drain(tenant)
                    rounds += 1
                }
                #expect(try await get("/v1/trading/orders/\(id)").json["status"] as? String == "filled", "\(symbol) \(side) \(qty)")
            }

            _ = try #require(try await MarketTests.ingest(planes.data.marketIngestion))
            #expect(try await post("/v1/trading/account", [:]).status == .created)
            // Lagos (NGN) and Johannesburg (ZAc): two currencies, one quoted in cents.
            try await trade("DANGCEM", "buy", 200)
            try await trade("NPN", "buy", 20)
            #expect(await planes.data.portfolioSnapshotter.drain(tenant) == 0, "Wednesday's cutoff has not passed")

            // Noon each day: the market moves, orders fill, yesterday's snapshot is taken.
            var written = 0
            var lateFillChecked = false
            var day = 0
            while written < 31, day < 60 {
                day += 1
                clock.advance(seconds: 86_400)
                _ = try #require(try await MarketTests.ingest(planes.data.marketIngestion))
                let weekday = PortfolioSnapshot.weekday(Day(utc: clock.now())!)
                if day == 8 {
                    // Thursday: a fill before Wednesday's snapshot is taken; the snapshot must not see it.
                    #expect(weekday == 3)
                    let before = try await cash()
                    try await trade("DANGCEM", "sell", 100)
                    written += try #require(await planes.data.portfolioSnapshotter.drain(tenant))
                    let wednesday = try await get("/v1/trading/portfolio/history?from=2027-03-10&to=2027-03-10")
                    let point = try #require((wednesday.json["days"] as? [[String: Any]])?.first, "\(wednesday.text)")
                    let after = try await cash()
                    #expect(Self.amount(point, "cash") == before && before < after, "\(point)")
                    lateFillChecked = true
                    continue
                }
                // Thursday 18 to Monday 22 March the plane is down; on Tuesday it catches up
                // Wednesday's, Thursday's, Friday's and Monday's.
                if (15...19).contains(day) { continue }
                let taken = try #require(await planes.data.portfolioSnapshotter.drain(tenant))
                if day == 20 { #expect(weekday == 1 && taken == 4, "the missed days are caught up: \(taken)") }
                written += taken
                if day == 27 { try await trade("NPN", "sell", 10) }  // Tuesday 30 March
            }
            #expect(lateFillChecked && written >= 31, "\(written) snapshots in \(day) days")

            // The history: each day's value is its cash and holdings; returns chain from the opening's starting cash.
            let history = try await get("/v1/trading/portfolio/history")
            #expect(history.status == .ok, "\(history.text)")
            let start = try #require(history.json["start"] as? [String: Any])
            #expect(start["source"] as? String == "opening" && Self.amount(start, "value") == 10_000_000 && start["day"] as? String == "2027-03-02", "\(start)")
            let points = try #require(history.json["days"] as? [[String: Any]])
            #expect(points.count == written)
            var values = [10_000_000.0]
            var days = ["2027-03-02"]
            var growth = 1.0
            for p in points {
                let value = Double(try #require(Self.amount(p, "value")))
                #expect(Self.amount(p, "value") == (Self.amount(p, "cash") ?? 0) + (Self.amount(p, "holdings") ?? 0))
                let r = value / values.last! - 1
                growth *= 1 + r
                #expect(abs((p["daily_return"] as? Double ?? .nan) - r) <= 1e-12 && abs((p["cumulative_return"] as? Double ?? .nan) - (growth - 1)) <= 1e-12, "\(p)")
                let d = try #require(p["day"] as? String)
                #expect(PortfolioSnapshot.isTradingDay(try #require(Day(d))) && d > days.last!, "one snapshot per trading day, in order")
                values.append(value)
                days.append(d)
            }
            #expect(Set(points.compactMap { ($0["holdings"] as? [String: Any])?["amount"] as? Int }).count > 5, "the market moved the holdings")

            // The analytics against the NGX All-Share, recomputed from those values and the index's bars.
            let analytics = try await get("/v1/trading/portfolio/analytics?benchmark=NGXASI")
            #expect(analytics.status == .ok, "\(analytics.text)")
            let bars = try #require(try await get("/v1/market/bars?symbol=NGXASI&from=\(days.first!)&to=\(days.last!)").json["data"] as? [[String: Any]])
            let closeByDay = Dictionary(bars.compactMap { b in (b["day"] as? String).flatMap { d in (b["close"] as? String).flatMap(Price.init).map { (d, Double($0.e4)) } } },
                                        uniquingKeysWith: { a, _ in a })
            let bench = try days.map { try #require(closeByDay[$0], "NGXASI has a bar on \($0)") }
            let expected = Self.recomputed(values, bench, rf: 0.0225)
            #expect(analytics.json["days"] as? Int == written && analytics.json["risk_free_rate"] as? Double == 0.0225, "\(analytics.text)")
            let benchmark = try #require(analytics.json["benchmark"] as? [String: Any])
            #expect((benchmark["missing_days"] as? [Any])?.isEmpty == true)
            for (key, want) in expected {
                let got = (["beta", "alpha"].contains(key) ? benchmark[key] : analytics.json[key]) as? Double
                #expect(got.map { abs($0 - want) <= 1e-9 * max(abs(want), 1e-12) } == true, "\(key): \(String(describing: got)) vs \(want)")
            }
            #expect((analytics.json["conventions"] as? String)?.contains("n − 1") == true)

            // A window inside: it starts from the snapshot before it.
            let inside = try await get("/v1/trading/portfolio/history?from=\(days[11])&to=\(days[20])")
            let insideStart = try #require(inside.json["start"] as? [String: Any])
            #expect(insideStart["source"] as? String == "snapshot" && insideStart["day"] as? String == days[10] && (inside.json["days"] as? [Any])?.count == 10,
                    "\(inside.text)")
            let short = try await get("/v1/trading/portfolio/analytics?from=\(days[11])&to=\(days[20])")
            #expect(short.json["days"] as? Int == 10 && short.json["annual_return"] == nil && short.json["period_return"] is Double, "\(short.text)")

            // Bad questions are problems; staff read a member's; nobody else does.
            for bad in ["from=2027-13-01", "from=2027-04-01&to=2027-03-01", "benchmark=DANGCEM", "benchmark=nope!"] {
                let refused = try await get("/v1/trading/portfolio/analytics?\(bad)")
                #expect(refused.status == .unprocessableContent && refused.headers[.contentType] == "application/problem+json", "\(bad): \(refused.text)")
            }
            let staff = try await get("/v1/trading/portfolio/history?member_id=\(ada.id)", token: f.staffToken)
            #expect((staff.json["days"] as? [Any])?.count == written)
            #expect(try await get("/v1/trading/portfolio/history", token: f.members[1].token).status == .notFound)
            #expect(try await get("/v1/trading/portfolio/history?member_id=\(ada.id)", token: g.staffToken, tenant: g.slug).status == .notFound)
            #expect(try await get("/v1/trading/portfolio/analytics", token: g.members[0].token, tenant: g.slug).status == .notFound)
            #expect(try await planes.ledgerFindings(f).isEmpty)
        }
    }
}
