import Foundation
import HTTPTypes
import NzilaCore
import NzilaDatabase
import NzilaValues
import Testing
import Trading

/// Watchlists and price alerts end to end. In the market suite: the alerts follow the platform's one
/// set of quotes, which the test moves on its clock.
extension MarketTests {
    @Test("watchlists: named, ordered, several per member; symbols added, placed and removed; bad input named; nobody else's")
    func watchlists() async throws {
        let harness = try await Harness.get()
        let clock = MovableClock(frozenAt: MarketTests.noon)
        try await harness.withPlanes(clock: clock) { planes in
            let f = try await planes.provisionFixture(prefix: "wl")
            let g = try await planes.provisionFixture(prefix: "wm")
            let ada = f.members[0]
            func call(_ method: HTTPRequest.Method, _ path: String, _ body: [String: Any]? = nil, token: String? = nil, tenant: String? = nil) async throws -> Planes.Reply {
                try await planes.data(method, path, token: token ?? ada.token, tenant: tenant ?? f.slug, json: body)
            }
            let africa = try await call(.post, "/v1/trading/watchlists", ["name": "Africa", "symbols": ["DANGCEM", "NPN", "SNTS"]])
            #expect(africa.status == .created && africa.json["symbols"] as? [String] == ["DANGCEM", "NPN", "SNTS"], "\(africa.text)")
            let id = try #require(africa.json["id"] as? String)
            // A second later (the clock stands still otherwise, and lists come oldest first).
            clock.advance(seconds: 1)
            #expect(try await call(.post, "/v1/trading/watchlists", ["name": "North America", "symbols": ["RY", "AAPL"]]).status == .created)
            #expect(try await call(.post, "/v1/trading/watchlists", ["name": "Africa"]).text.contains("watchlist-exists"))

            // Add at a place, add twice (once kept), remove; the order is the member's.
            let placed = try await call(.post, "/v1/trading/watchlists/\(id)/symbols", ["symbol": "J203", "position": 1])
            #expect(placed.json["symbols"] as? [String] == ["DANGCEM", "J203", "NPN", "SNTS"], "\(placed.text)")
            #expect(try await call(.post, "/v1/trading/watchlists/\(id)/symbols", ["symbol": "NPN"]).json["symbols"] as? [String] == ["DANGCEM", "J203", "NPN", "SNTS"])
            let appended = try await call(.post, "/v1/trading/watchlists/\(id)/symbols", ["symbol": "SCOM"])
            #expect(appended.json["symbols"] as? [String] == ["DANGCEM", "J203", "NPN", "SNTS", "SCOM"], "\(appended.text)")
            let removed = try await call(.delete, "/v1/trading/watchlists/\(id)/symbols/NPN")
            #expect(removed.json["symbols"] as? [String] == ["DANGCEM", "J203", "SNTS", "SCOM"], "\(removed.text)")
            #expect(try await call(.delete, "/v1/trading/watchlists/\(id)/symbols/NPN").status == .notFound)
            let renamed = try await call(.put, "/v1/trading/watchlists/\(id)", ["name": "Lagos & Jo'burg", "symbols": ["NPN", "DANGCEM"]])
            #expect(renamed.json["name"] as? String == "Lagos & Jo'burg" && renamed.json["symbols"] as? [String] == ["NPN", "DANGCEM"], "\(renamed.text)")
            #expect(try await call(.put, "/v1/trading/watchlists/\(id)", ["name": "North America", "symbols": []]).text.contains("watchlist-exists"))
            let lists = try await call(.get, "/v1/trading/watchlists")
            #expect((lists.json["data"] as? [[String: Any]])?.map { $0["name"] as? String } == ["Lagos & Jo'burg", "North America"], "\(lists.text)")

            // Bad input: every problem named, nothing written.
            let bad = try await call(.post, "/v1/trading/watchlists", ["name": "", "symbols": ["RY", "ry", "RY"]])
            let fields = Set((bad.json["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String })
            #expect(bad.status == .unprocessableContent && fields == ["name", "symbols[1]", "symbols[2]"], "\(bad.text)")
            let unlisted = try await call(.post, "/v1/trading/watchlists", ["name": "Dreams", "symbols": ["RY", "NOPE"]])
            #expect(unlisted.status == .unprocessableContent && unlisted.text.contains("NOPE is not listed"), "\(unlisted.text)")
            #expect(try await call(.post, "/v1/trading/watchlists/\(id)/symbols", ["symbol": "RY", "position": -1]).status == .unprocessableContent)
            #expect((try await call(.get, "/v1/trading/watchlists").json["data"] as? [Any])?.count == 2)

            // Another member, another tenant: not found; staff read a member's.
            #expect(try await call(.get, "/v1/trading/watchlists/\(id)", token: f.members[1].token).status == .notFound)
            #expect(try await call(.delete, "/v1/trading/watchlists/\(id)", token: f.members[1].token).status == .notFound)
            #expect(try await call(.get, "/v1/trading/watchlists/\(id)", token: g.staffToken, tenant: g.slug).status == .notFound)
            #expect((try await call(.get, "/v1/trading/watchlists?member_id=\(ada.id)", token: f.staffToken).json["data"] as? [Any])?.count == 2)
            #expect(try await call(.delete, "/v1/trading/watchlists/\(id)").status == .noContent)
            #expect(try await call(.get, "/v1/trading/watchlists/\(id)").status == .notFound)
        }
    }

    @Test("price alerts: fire once on a fresh crossing, not when already beyond; re-arm; on the alerts stream and as a notification; another tenant sees none")
    func priceAlerts() async throws {
        let harness = try await Harness.get()
        let clock = MovableClock(frozenAt: MarketTests.noon)
        try await harness.withPlanes(data: { $0.events.sweepInterval = .seconds(3_600) }, clock: clock, relay: true) { planes in
            let f = try await planes.provisionFixture(prefix: "pa")
            let g = try await planes.provisionFixture(prefix: "pb")
            let tenant = try await planes.tenantRef(f)
            let ada = f.members[0]
            let device = try await planes.data(.post, "/v1/devices", token: ada.token, tenant: f.slug, json: ["platform": "fcm", "token": "fcm-token-ada-alerts-0001"])
            #expect(device.status == .created, "\(device.text)")
            let stream = StreamTests.open(planes, f, token: ada.token, label: "ada")
            let theirs = StreamTests.open(planes, g, token: g.staffToken, label: "other tenant's staff")
            for s in [stream, theirs] {
                _ = try await s.wait(type: "stream.ready")
                try await s.subscribe(["alerts", "orders"])
            }
            func call(_ method: HTTPRequest.Method, _ path: String, _ body: [String: Any]? = nil) async throws -> Planes.Reply {
                try await planes.data(method, path, token: ada.token, tenant: f.slug, json: body)
            }
            _ = try #require(try await MarketTests.ingest(planes.data.marketIngestion))

            // The seeded market replays exactly: the next two hours of DANGCEM's last trades, from
            // the feed itself, decide the levels.
            let instrument = try #require(try await MarketReference.instruments(client: planes.harness.owner, logger: planes.harness.logger).first { $0.symbol == "DANGCEM" })
            let start = clock.now()
            var path: [Price] = []
            for k in 0...480 { path.append(try #require(try await planes.data.marketFeed.quotes([instrument], at: start.addingTimeInterval(Double(15 * k))).first).last) }
            let p0 = path[0]
            // The first new high after now: an alert just there crosses, exactly at that quote.
            let upAt = try #require(path.indices.dropFirst().first { path[$0] > p0 }, "the price never rises above \(p0) in two hours")
            let up = path[upAt]
            #expect(PriceAlerts.firing(.crossesAbove, level: up, armedAt: p0, then: Array(path.dropFirst())) == upAt - 1)
            // At the price now, crosses_below is beyond already: it must not fire until the price has
            // been above and comes back.
            let downExpected = PriceAlerts.firing(.crossesBelow, level: p0, armedAt: p0, then: Array(path.dropFirst()))

            let above = try await call(.post, "/v1/trading/alerts", ["symbol": "DANGCEM", "condition": "crosses_above", "price": up.description])
            #expect(above.status == .created && above.json["status"] as? String == "armed" && above.json["beyond"] as? Bool == false, "\(above.text)")
            let below = try await call(.post, "/v1/trading/alerts", ["symbol": "DANGCEM", "condition": "crosses_below", "price": p0.description])
            #expect(below.status == .created && below.json["beyond"] as? Bool == true, "\(below.text)")
            let aboveID = try #require(above.json["id"] as? String)
            let belowID = try #require(below.json["id"] as? String)
            for (body, words) in [
                (["symbol": "DANGCEM", "condition": "sideways", "price": "1"], "condition"), (["symbol": "DANGCEM", "condition": "crosses_above", "price": "-1"], "price"),
                (["symbol": "NOPE", "condition": "crosses_above", "price": "1"], "NOPE is not listed"),
            ] {
                let refused = try await call(.post, "/v1/trading/alerts", body)
                #expect(refused.status == .unprocessableContent && refused.text.contains(words), "\(body): \(refused.text)")
            }

            // Quote by quote: each alert fires when the pure rule says, once.
            var firedAt: [String: Int] = [:]
            for k in 1...max(upAt, downExpected.map { $0 + 1 } ?? 0, upAt + 20) where k <= 480 {
                clock.advance(seconds: 15)
                _ = try #require(try await MarketTests.ingest(planes.data.marketIngestion))
                let sweep = await planes.data.alertWatcher.drain(tenant)
                for id in [aboveID, belowID] where firedAt[id] == nil {
                    if try await call(.get, "/v1/trading/alerts/\(id)").json["status"] as? String == "triggered" { firedAt[id] = k }
                }
                #expect(sweep.fired <= 2)
            }
            #expect(firedAt[aboveID] == upAt, "crosses_above at quote \(upAt): \(firedAt)")
            #expect(firedAt[belowID] == downExpected.map { $0 + 1 }, "crosses_below: \(String(describing: downExpected)) vs \(firedAt)")
            let fired = try await call(.get, "/v1/trading/alerts/\(aboveID)")
            #expect(fired.json["triggered_price"] as? String == up.description, "\(fired.text)")
            #expect(try await call(.post, "/v1/trading/alerts/\(belowID)/rearm").status == (firedAt[belowID] == nil ? .conflict : .ok))

            // One event per firing, on the alerts topic, in order; a notification in her words.
            let events = try await stream.wait(for: "the alert events") { messages in
                messages.filter { $0["type"] as? String == TradingAlertEvent.type }.count == firedAt.count
            }
            let alertEvents = events.filter { $0["type"] as? String == TradingAlertEvent.type }
            #expect(alertEvents.allSatisfy { $0["topic"] as? String == "alerts" }, "\(alertEvents)")
            #expect(alertEvents.compactMap { ($0["data"] as? [String: Any])?["alert_id"] as? String }.first == [aboveID, belowID].min { (firedAt[$0] ?? .max) < (firedAt[$1] ?? .max) })
            let told = try await NotificationTests.waitFor(planes, f, member: ada.id, template: "price_alert_above")
            #expect(told.count == 1 && told[0]["title"] as? String == "DANGCEM above \(up.description)", "\(told)")

            // Price alerts are a category of their own in the member's choices.
            let quiet = try await planes.data(
                .put, "/v1/members/\(ada.id)/notification-preferences", token: ada.token, tenant: f.slug,
                json: ["categories": ["price_alerts": ["push": false, "sms": false, "email": false]]])
            #expect(quiet.status == .ok && (quiet.json["categories"] as? [String: [String: Bool]])?["price_alerts"]?["push"] == false, "\(quiet.text)")

            // Re-armed with the price beyond its level: it waits for a fresh crossing.
            let rearmed = try await call(.post, "/v1/trading/alerts/\(aboveID)/rearm")
            #expect(rearmed.status == .ok && rearmed.json["status"] as? String == "armed", "\(rearmed.text)")
            #expect(try await call(.post, "/v1/trading/alerts/\(aboveID)/rearm").text.contains("alert-armed"))
            let armed = try await call(.get, "/v1/trading/alerts?status=armed")
            #expect((armed.json["data"] as? [[String: Any]])?.contains { $0["id"] as? String == aboveID } == true, "\(armed.text)")
            #expect(try await call(.delete, "/v1/trading/alerts/\(aboveID)").status == .noContent)
            #expect(try await call(.get, "/v1/trading/alerts/\(aboveID)").status == .notFound)
            let indexed = try await planes.harness.owner.statement(
                "SELECT count(*)::int8 FROM trading_index.alerts WHERE tenant_id = \(f.tenantID)::uuid AND alert_id = \(aboveID)::uuid", logger: planes.harness.logger
            ) { try await $0.first(Int64.self) }
            #expect(indexed == 0, "a deleted alert leaves the index")

            // Nobody else's.
            #expect(try await planes.data(.get, "/v1/trading/alerts/\(belowID)", token: f.members[1].token, tenant: f.slug).status == .notFound)
            #expect(try await planes.data(.get, "/v1/trading/alerts/\(belowID)", token: g.staffToken, tenant: g.slug).status == .notFound)
            // The other tenant's own order reaches its staff's stream: anything of Ada's would have by then.
            let bo = g.members[0]
            #expect(try await planes.data(.post, "/v1/trading/account", token: bo.token, tenant: g.slug, json: [:], headers: [.idempotencyKey: UUID().uuidString]).status == .created)
            let band = try #require((try await planes.data(.get, "/v1/market/quotes?symbols=DANGCEM", token: bo.token, tenant: g.slug).json["data"] as? [[String: Any]])?.first)
            let order = try await planes.data(
                .post, "/v1/trading/orders", token: bo.token, tenant: g.slug,
                json: ["symbol": "DANGCEM", "side": "buy", "type": "limit", "qty": 1, "limit_price": try #require(band["band_low"] as? String), "time_in_force": "gtc"],
                headers: [.idempotencyKey: UUID().uuidString])
            #expect(order.status == .created, "\(order.text)")
            try await theirs.wait(for: "their own order") { $0.contains { $0["type"] as? String == "trading.order_new.v1" } }
            #expect(!theirs.events.contains { $0["type"] as? String == TradingAlertEvent.type }, "\(theirs.transcript)")
        }
    }
}
