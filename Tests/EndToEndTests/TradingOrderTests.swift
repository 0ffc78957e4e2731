import Foundation
import HTTPTypes
import NzilaCore
import NzilaDatabase
import Testing
import Trading

/// Paper accounts and orders end to end: placement against each exchange's rules, buying power and
/// holdings under concurrency, cancel, and another tenant seeing none of it. In the market suite:
/// its tests share the platform's one set of quotes, so they run one at a time.
extension MarketTests {
    static func amount(_ json: [String: Any], _ key: String) -> Int? { (json[key] as? [String: Any])?["amount"] as? Int }

    @Test("paper orders: open an account once; place, refuse and cancel orders; reservations follow; concurrent buys never overspend; another tenant sees nothing")
    func orders() async throws {
        let harness = try await Harness.get()
        let clock = MovableClock(frozenAt: MarketTests.noon)  // NGX trading, TSX not yet open
        try await harness.withPlanes(clock: clock) { planes in
            let f = try await planes.provisionFixture(prefix: "tr")
            let g = try await planes.provisionFixture(prefix: "tq")
            _ = try #require(try await MarketTests.ingest(planes.data.marketIngestion))
            let ada = f.members[0]
            func post(_ path: String, _ body: [String: Any], token: String? = nil, key: String = UUID().uuidString) async throws -> Planes.Reply {
                try await planes.data(.post, path, token: token ?? ada.token, tenant: f.slug, json: body, headers: [.idempotencyKey: key])
            }

            let opened = try await post("/v1/trading/account", [:])
            #expect(opened.status == .created && Self.amount(opened.json, "cash") == 10_000_000 && Self.amount(opened.json, "buying_power") == 10_000_000, "\(opened.text)")
            let again = try await post("/v1/trading/account", [:])
            #expect(again.status == .conflict && again.text.contains("account-exists"), "\(again.text)")

            // The market as it stands: DANGCEM's band and touch.
            let quote = try #require((try await planes.data(.get, "/v1/market/quotes?symbols=DANGCEM", token: ada.token, tenant: f.slug).json["data"] as? [[String: Any]])?.first)
            let low = try #require((quote["band_low"] as? String).flatMap(Price.init))
            let high = try #require((quote["band_high"] as? String).flatMap(Price.init))

            // A limit buy at the bottom of the band: it reserves its cost in CAD, and expires at NGX's close (14:20 Lagos).
            let buy: [String: Any] = ["symbol": "DANGCEM", "side": "buy", "type": "limit", "qty": 100, "limit_price": low.description, "time_in_force": "day",
                                      "client_order_id": "ada-1"]
            let placed = try await post("/v1/trading/orders", buy)
            #expect(placed.status == .created && placed.json["status"] as? String == "new", "\(placed.text)")
            let reserved = try #require(Self.amount(placed.json, "reserved"))
            #expect(reserved > 0 && placed.json["expires_at"] as? String == "2027-03-03T13:20:00.000Z", "\(placed.text)")
            let account = try await planes.data(.get, "/v1/trading/account", token: ada.token, tenant: f.slug)
            #expect(Self.amount(account.json, "reserved") == reserved && Self.amount(account.json, "buying_power") == 10_000_000 - reserved, "\(account.text)")
            let duplicate = try await post("/v1/trading/orders", buy)
            #expect(duplicate.status == .conflict && duplicate.text.contains("duplicate-client-order-id"), "\(duplicate.text)")

            // Refusals, each naming its rule and writing nothing.
            let refusals: [([String: Any], Int, String)] = [
                (["symbol": "RY", "side": "buy", "type": "limit", "qty": 150, "limit_price": "205.00", "time_in_force": "gtc"], 422, "board lot"),
                (["symbol": "DANGCEM", "side": "buy", "type": "limit", "qty": 10, "limit_price": Price(e4: low.e4 + 500).description, "time_in_force": "gtc"], 422, "tick grid"),
                (["symbol": "DANGCEM", "side": "buy", "type": "limit", "qty": 10, "limit_price": Price(e4: high.e4 + 1_000).description, "time_in_force": "gtc"], 422, "price band"),
                (["symbol": "DANGCEM", "side": "buy", "type": "limit", "qty": 10_000_000, "limit_price": low.description, "time_in_force": "gtc"], 422, "insufficient-buying-power"),
                (["symbol": "DANGCEM", "side": "sell", "type": "market", "qty": 10, "time_in_force": "day"], 422, "insufficient-holdings"),
                (["symbol": "NGXASI", "side": "buy", "type": "market", "qty": 1, "time_in_force": "day"], 422, "is an index"),
                (["symbol": "NOPE", "side": "buy", "type": "market", "qty": 1, "time_in_force": "day"], 422, "not listed"),
                (["symbol": "DANGCEM", "side": "buy", "type": "limit", "qty": 1, "time_in_force": "day"], 422, "limit_price"),
                (["symbol": "DANGCEM", "side": "buy", "type": "market", "qty": 1, "stop_price": "700", "time_in_force": "day"], 422, "stop_price"),
                (["symbol": "DANGCEM", "side": "short", "type": "market", "qty": 1, "time_in_force": "week"], 422, "time_in_force"),
            ]
            for (body, status, words) in refusals {
                let refused = try await post("/v1/trading/orders", body)
                #expect(refused.status.code == status && refused.text.contains(words), "\(body): \(refused.status) \(refused.text)")
            }
            #expect(Self.amount(try await planes.data(.get, "/v1/trading/account", token: ada.token, tenant: f.slug).json, "reserved") == reserved)

            // Cancel: the reservation comes back; a second cancel is a conflict naming the status.
            let id = try #require(placed.json["id"] as? String)
            let canceled = try await post("/v1/trading/orders/\(id)/cancel", [:])
            #expect(canceled.status == .ok && canceled.json["status"] as? String == "canceled" && Self.amount(canceled.json, "reserved") == 0, "\(canceled.text)")
            #expect(try await post("/v1/trading/orders/\(id)/cancel", [:]).status == .conflict)
            #expect(Self.amount(try await planes.data(.get, "/v1/trading/account", token: ada.token, tenant: f.slug).json, "buying_power") == 10_000_000)
            #expect(try await planes.outboxTopics(f, aggregate: id) == ["trading.order_new.v1", "trading.order_canceled.v1"])

            // Eight buys at once, each needing about 30% of the buying power: at most three fit, and
            // together they never reserve more than the cash.
            let perShare = try #require(Price(e4: low.e4))
            let rate = 0.000884  // NGN→CAD in the shipped rates: only to size the orders, never to check money
            let qty = Int64((3_000_000.0 / (Double(perShare.e4) / 10_000 * 100 * rate)).rounded(.down))
            let replies = try await withThrowingTaskGroup(of: Planes.Reply.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await post("/v1/trading/orders", ["symbol": "DANGCEM", "side": "buy", "type": "limit", "qty": qty, "limit_price": low.description, "time_in_force": "gtc"])
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let accepted = replies.filter { $0.status == .created }
            #expect(accepted.count == 3 && replies.filter { $0.text.contains("insufficient-buying-power") }.count == 5, "\(replies.map(\.status))")
            let after = try await planes.data(.get, "/v1/trading/account", token: ada.token, tenant: f.slug)
            let total = accepted.compactMap { Self.amount($0.json, "reserved") }.reduce(0, +)
            #expect(Self.amount(after.json, "reserved") == total && total <= 10_000_000, "\(after.text)")

            // Lists: open orders first; closed ones on asking.
            let open = try await planes.data(.get, "/v1/trading/orders", token: ada.token, tenant: f.slug)
            #expect((open.json["data"] as? [[String: Any]])?.count == 3)
            let closed = try await planes.data(.get, "/v1/trading/orders?status=closed", token: ada.token, tenant: f.slug)
            #expect((closed.json["data"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])
            #expect(try await planes.data(.get, "/v1/trading/orders?status=sideways", token: ada.token, tenant: f.slug).status == .unprocessableContent)

            // Another member and another tenant see none of it.
            let ben = f.members[1]
            #expect(try await planes.data(.get, "/v1/trading/orders/\(id)", token: ben.token, tenant: f.slug).status == .notFound)
            #expect(try await planes.data(.get, "/v1/trading/account", token: ben.token, tenant: f.slug).status == .notFound)
            let other = g.members[0]
            #expect(try await planes.data(.get, "/v1/trading/orders/\(id)", token: other.token, tenant: g.slug).status == .notFound)
            let theirs = try await planes.data(.get, "/v1/trading/orders?status=all", token: g.staffToken, tenant: g.slug)
            #expect((theirs.json["data"] as? [[String: Any]])?.isEmpty == true, "\(theirs.text)")
            #expect((try await planes.data(.get, "/v1/trading/orders?status=all", token: f.staffToken, tenant: f.slug).json["data"] as? [[String: Any]])?.count == 4)
        }
    }
}

extension MarketTests {
    @Test("paper fills: a market buy takes the shown size then the rest at the next quote; a sell realises; a day order expires at its close; the books balance")
    func fills() async throws {
        let harness = try await Harness.get()
        let clock = MovableClock(frozenAt: MarketTests.noon)
        // Tokens that outlive the afternoon the test moves through.
        let control = harness.controlPlane(clock: .movable(clock), adjust: { $0.tokenLifetimeSeconds = 86_400 })
        try await harness.withPlanes(control: control, data: { $0.tokenLifetimeSeconds = 86_400 }, clock: clock) { planes in
            let f = try await planes.provisionFixture(prefix: "tf")
            let tenant = try await planes.tenantRef(f)
            _ = try #require(try await MarketTests.ingest(planes.data.marketIngestion))
            let ada = f.members[0]
            func post(_ path: String, _ body: [String: Any]) async throws -> Planes.Reply {
                try await planes.data(.post, path, token: ada.token, tenant: f.slug, json: body, headers: [.idempotencyKey: UUID().uuidString])
            }
            func order(_ id: String) async throws -> [String: Any] {
                try await planes.data(.get, "/v1/trading/orders/\(id)", token: ada.token, tenant: f.slug).json
            }
            #expect(try await post("/v1/trading/account", [:]).status == .created)
            let quote = try #require((try await planes.data(.get, "/v1/market/quotes?symbols=DANGCEM", token: ada.token, tenant: f.slug).json["data"] as? [[String: Any]])?.first)
            let shown = try #require(quote["ask_size"] as? Int)

            // More than the ask shows: the shown size now, at the ask; the rest at the next quote.
            let buy = try await post("/v1/trading/orders", ["symbol": "DANGCEM", "side": "buy", "type": "market", "qty": shown + 1, "time_in_force": "day"])
            #expect(buy.status == .created, "\(buy.text)")
            let id = try #require(buy.json["id"] as? String)
            #expect(await planes.data.orderMatcher.drain(tenant) == 1)
            let partial = try await order(id)
            #expect(partial["status"] as? String == "partially_filled" && partial["filled_qty"] as? Int == shown, "\(partial)")
            #expect(await planes.data.orderMatcher.drain(tenant) == 0, "the same quote fills nothing more")
            clock.advance(seconds: 15)
            _ = try #require(try await MarketTests.ingest(planes.data.marketIngestion))
            #expect(await planes.data.orderMatcher.drain(tenant) == 1)
            let done = try await order(id)
            #expect(done["status"] as? String == "filled" && done["filled_qty"] as? Int == shown + 1 && Self.amount(done, "reserved") == 0, "\(done)")
            #expect(try await planes.outboxTopics(f, aggregate: id) == ["trading.order_new.v1", "trading.order_partial_fill.v1", "trading.order_fill.v1"])
            let account = try await planes.data(.get, "/v1/trading/account", token: ada.token, tenant: f.slug).json
            #expect(Self.amount(account, "reserved") == 0 && (Self.amount(account, "cash") ?? 0) < 10_000_000, "\(account)")

            let held = try #require((try await planes.data(.get, "/v1/trading/positions", token: ada.token, tenant: f.slug).json["data"] as? [[String: Any]])?.first)
            #expect(held["symbol"] as? String == "DANGCEM" && held["qty"] as? Int == shown + 1 && held["average_cost"] is String && held["realised_pl"] as? String == "0", "\(held)")
            #expect(Self.amount(held, "cost_basis_cad") == 10_000_000 - (Self.amount(account, "cash") ?? 0), "no commission by default: the cash paid is the basis")
            let fillsReply = try await planes.data(.get, "/v1/trading/activities", token: ada.token, tenant: f.slug)
            let activities = try #require(fillsReply.json["data"] as? [[String: Any]], "\(fillsReply.text)")
            #expect(activities.map { $0["qty"] as? Int } == [1, shown] && activities.first?["leaves_qty"] as? Int == 0 && activities.last?["cum_qty"] as? Int == shown)

            // A sell of everything, at the bid; a sell of one more share than held is refused.
            #expect(try await post("/v1/trading/orders", ["symbol": "DANGCEM", "side": "sell", "type": "market", "qty": shown + 2, "time_in_force": "day"]).status
                == .unprocessableContent)
            let sell = try await post("/v1/trading/orders", ["symbol": "DANGCEM", "side": "sell", "type": "market", "qty": shown + 1, "time_in_force": "gtc"])
            let sellID = try #require(sell.json["id"] as? String, "\(sell.text)")
            clock.advance(seconds: 15)
            _ = try #require(try await MarketTests.ingest(planes.data.marketIngestion))
            var rounds = 0
            while try await order(sellID)["status"] as? String != "filled", rounds < 20 {
                _ = await planes.data.orderMatcher.drain(tenant)
                clock.advance(seconds: 15)
                _ = try #require(try await MarketTests.ingest(planes.data.marketIngestion))
                rounds += 1
            }
            #expect(try await order(sellID)["status"] as? String == "filled")
            let closed = try #require((try await planes.data(.get, "/v1/trading/positions", token: ada.token, tenant: f.slug).json["data"] as? [[String: Any]])?.first)
            #expect(closed["qty"] as? Int == 0 && closed["cost_basis"] as? String == "0" && closed["realised_pl"] is String && closed["realised_pl_cad"] != nil, "\(closed)")

            // A day order far from the market works until NGX closes (14:20 Lagos), then expires, its money released.
            let band = try #require((try await planes.data(.get, "/v1/market/quotes?symbols=DANGCEM", token: ada.token, tenant: f.slug).json["data"] as? [[String: Any]])?.first)
            let low = try #require(band["band_low"] as? String)
            let waiting = try await post("/v1/trading/orders", ["symbol": "DANGCEM", "side": "buy", "type": "limit", "qty": 5, "limit_price": low, "time_in_force": "day"])
            let waitingID = try #require(waiting.json["id"] as? String, "\(waiting.text)")
            clock.advance(seconds: 2 * 3_600)
            _ = await planes.data.orderMatcher.drain(tenant)
            let expired = try await order(waitingID)
            #expect(expired["status"] as? String == "expired", "\(expired) at \(clock.now())")
            #expect(Self.amount(try await planes.data(.get, "/v1/trading/account", token: ada.token, tenant: f.slug).json, "reserved") == 0)
            #expect(try await planes.ledgerFindings(f).isEmpty, "paper cash = start + sells − buys − fees; positions = fills")
        }
    }
}

extension MarketTests {
    /// The platform's trigger index as the owner sees it: each working order's trigger, by tenant.
    static func indexed(_ planes: Planes, _ f: Planes.Fixture) async throws -> [String: String] {
        try await planes.harness.owner.statement(
            "SELECT order_id::text, trigger || coalesce(':' || price_e4, '') FROM trading_index.working_orders WHERE tenant_id = \(f.tenantID)::uuid",
            logger: planes.harness.logger
        ) { try await $0.all((String, String).self) }.reduce(into: [:]) { $0[$1.0] = $1.1 }
    }

    @Test("stops and stop-limits elect and fill; replace links both ways, keeps the money right, and is refused once filled; the index follows; the stream tells it in order")
    func stopsAndReplace() async throws {
        let harness = try await Harness.get()
        let clock = MovableClock(frozenAt: MarketTests.noon)
        try await harness.withPlanes(data: { $0.events.sweepInterval = .seconds(3_600) }, clock: clock, relay: true) { planes in
            let f = try await planes.provisionFixture(prefix: "ts")
            let g = try await planes.provisionFixture(prefix: "tu")
            let tenant = try await planes.tenantRef(f)
            _ = try #require(try await MarketTests.ingest(planes.data.marketIngestion))
            let ada = f.members[0]
            let stream = StreamTests.open(planes, f, token: ada.token, label: "ada")
            let theirs = StreamTests.open(planes, g, token: g.staffToken, label: "other tenant's staff")
            for s in [stream, theirs] {
                _ = try await s.wait(type: "stream.ready")
                try await s.subscribe(["orders"])
            }
            func post(_ path: String, _ body: [String: Any]) async throws -> Planes.Reply {
                try await planes.data(.post, path, token: ada.token, tenant: f.slug, json: body, headers: [.idempotencyKey: UUID().uuidString])
            }
            func order(_ id: String) async throws -> [String: Any] {
                try await planes.data(.get, "/v1/trading/orders/\(id)", token: ada.token, tenant: f.slug).json
            }
            func reserved() async throws -> Int? {
                Self.amount(try await planes.data(.get, "/v1/trading/account", token: ada.token, tenant: f.slug).json, "reserved")
            }
            #expect(try await post("/v1/trading/account", [:]).status == .created)
            let quote = try #require((try await planes.data(.get, "/v1/market/quotes?symbols=DANGCEM", token: ada.token, tenant: f.slug).json["data"] as? [[String: Any]])?.first)
            let low = try #require(quote["band_low"] as? String)

            // Replace: a new order with the changes, the old one replaced and linked both ways; the
            // account reserves for the new one only.
            let first = try await post("/v1/trading/orders", ["symbol": "DANGCEM", "side": "buy", "type": "limit", "qty": 100, "limit_price": low, "time_in_force": "day"])
            let firstID = try #require(first.json["id"] as? String, "\(first.text)")
            #expect(try await Self.indexed(planes, f) == [firstID: "buy_limit:\(Price(low)!.e4)"])
            let replaced = try await post("/v1/trading/orders/\(firstID)/replace", ["qty": 40, "time_in_force": "gtc", "client_order_id": "ada-r1"])
            #expect(replaced.status == .created && replaced.json["replaces"] as? String == firstID && replaced.json["qty"] as? Int == 40, "\(replaced.text)")
            let secondID = try #require(replaced.json["id"] as? String)
            #expect(replaced.json["time_in_force"] as? String == "gtc" && !(replaced.json["expires_at"] is String) && replaced.json["client_order_id"] as? String == "ada-r1")
            let old = try await order(firstID)
            #expect(old["status"] as? String == "replaced" && old["replaced_by"] as? String == secondID && Self.amount(old, "reserved") == 0, "\(old)")
            #expect(try await reserved() == Self.amount(replaced.json, "reserved"))
            #expect(try await Self.indexed(planes, f) == [secondID: "buy_limit:\(Price(low)!.e4)"], "the replaced order left the index")
            #expect(try await planes.outboxTopics(f, aggregate: firstID) == ["trading.order_new.v1", "trading.order_replaced.v1"])
            // Refusals: the replaced order, a change of nothing, more than the account can pay (which changes nothing).
            #expect(try await post("/v1/trading/orders/\(firstID)/replace", ["qty": 10]).status == .conflict)
            #expect(try await post("/v1/trading/orders/\(secondID)/replace", [:]).status == .unprocessableContent)
            let tooBig = try await post("/v1/trading/orders/\(secondID)/replace", ["qty": 10_000_000])
            #expect(tooBig.status == .unprocessableContent && tooBig.text.contains("insufficient-buying-power"), "\(tooBig.text)")
            #expect(try await post("/v1/trading/orders/\(secondID)/replace", ["limit_price": "0.001"]).text.contains("limit_price"))
            #expect(try await order(secondID)["status"] as? String == "new")
            #expect(try await planes.data(.post, "/v1/trading/orders/\(secondID)/replace", token: f.members[1].token, tenant: f.slug, json: ["qty": 10],
                                          headers: [.idempotencyKey: UUID().uuidString]).status == .notFound, "another member's order")

            // A buy stop at the band's low is reached at once: elected by the first quote, it fills as a
            // market order at the ask. Its replacement is then refused: it filled first.
            let stop = try await post("/v1/trading/orders", ["symbol": "DANGCEM", "side": "buy", "type": "stop", "qty": 10, "stop_price": low, "time_in_force": "day"])
            let stopID = try #require(stop.json["id"] as? String, "\(stop.text)")
            #expect(try await Self.indexed(planes, f)[stopID] == "buy_stop:\(Price(low)!.e4)")
            #expect(await planes.data.orderMatcher.drain(tenant) == 1)
            let stopped = try await order(stopID)
            let ask = try #require(quote["ask"] as? String)
            #expect(stopped["status"] as? String == "filled" && stopped["filled_qty"] as? Int == 10, "\(stopped)")
            let fill = try #require((try await planes.data(.get, "/v1/trading/activities", token: ada.token, tenant: f.slug).json["data"] as? [[String: Any]])?.first)
            #expect(fill["price"] as? String == ask && fill["order_id"] as? String == stopID, "at the ask: \(fill)")
            let late = try await post("/v1/trading/orders/\(stopID)/replace", ["qty": 20])
            #expect(late.status == .conflict && late.text.contains("order-filled"), "\(late.text)")

            // A stop-limit elected at once but limited below the ask: it now waits as a limit, in the
            // index too. A sell stop-limit above the market waits as a stop.
            let stopLimit = try await post("/v1/trading/orders", ["symbol": "DANGCEM", "side": "buy", "type": "stop_limit", "qty": 5, "stop_price": low, "limit_price": low,
                                                                 "time_in_force": "gtc"])
            let stopLimitID = try #require(stopLimit.json["id"] as? String, "\(stopLimit.text)")
            let sellStop = try await post("/v1/trading/orders", ["symbol": "DANGCEM", "side": "sell", "type": "stop_limit", "qty": 5, "stop_price": low, "limit_price": low,
                                                                "time_in_force": "gtc"])
            let sellStopID = try #require(sellStop.json["id"] as? String, "\(sellStop.text)")
            #expect(await planes.data.orderMatcher.drain(tenant) == 0)
            let index = try await Self.indexed(planes, f)
            #expect(index[stopLimitID] == "buy_limit:\(Price(low)!.e4)" && index[sellStopID] == "sell_stop:\(Price(low)!.e4)", "\(index)")
            #expect(try await order(stopLimitID)["status"] as? String == "new")
            #expect(await planes.data.orderMatcher.drain(tenant) == 0, "nothing is due again on the same quote")

            // The member's stream: every event of theirs, in commit order; the other tenant's none.
            for id in [secondID, stopLimitID, sellStopID] { #expect(try await post("/v1/trading/orders/\(id)/cancel", [:]).status == .ok) }
            #expect(try await Self.indexed(planes, f).isEmpty, "nothing working, nothing indexed")
            let events = try await stream.wait(for: "the last cancel") { events in
                events.filter { StreamTests.data($0, "order_id") as? String == sellStopID && $0["type"] as? String == "trading.order_canceled.v1" }.count == 1
            }.filter { $0["seq"] != nil }
            let seqs = StreamTests.seqs(events)
            #expect(seqs == seqs.sorted() && Set(seqs).count == seqs.count)
            let told = events.map { "\(StreamTests.data($0, "event") ?? "")" }
            #expect(told == ["new", "replaced", "new", "new", "fill", "new", "new", "canceled", "canceled", "canceled"], "\(told)")
            #expect(events.allSatisfy { $0["topic"] as? String == "orders" && StreamTests.data($0, "member_id") as? String == ada.id })
            let replacedEvent = try #require(events.first { StreamTests.data($0, "event") as? String == "replaced" })
            #expect(StreamTests.data(replacedEvent, "replaced_by") as? String == secondID)
            let fillEvent = try #require(events.first { StreamTests.data($0, "event") as? String == "fill" })
            #expect(StreamTests.data(fillEvent, "fill_qty") as? Int == 10 && StreamTests.data(fillEvent, "fill_price") as? String == ask
                && StreamTests.data(fillEvent, "position_qty") as? Int == 10)
            // The other tenant's own order comes after all of that: once its event arrives, nothing of
            // Ada's can still be on its way to them.
            func postG(_ path: String, _ body: [String: Any]) async throws -> Planes.Reply {
                try await planes.data(.post, path, token: g.members[0].token, tenant: g.slug, json: body, headers: [.idempotencyKey: UUID().uuidString])
            }
            #expect(try await postG("/v1/trading/account", [:]).status == .created)
            let gOrder = try await postG("/v1/trading/orders", ["symbol": "DANGCEM", "side": "buy", "type": "limit", "qty": 1, "limit_price": low, "time_in_force": "gtc"])
            let gID = try #require(gOrder.json["id"] as? String, "\(gOrder.text)")
            let seen = try await theirs.waitEvents(1)
            #expect(seen.count == 1 && StreamTests.data(seen[0], "order_id") as? String == gID, "\(seen)")
            let gIndexed = try await Self.indexed(planes, g)
            let fIndexed = try await Self.indexed(planes, f)
            #expect(gIndexed.keys.sorted() == [gID] && fIndexed.isEmpty)
            #expect(!(try await stream.waitEvents(10)).contains { StreamTests.data($0, "order_id") as? String == gID })
            #expect(try await planes.ledgerFindings(f).isEmpty)
        }
    }
}
