import Foundation
import HTTPTypes
import NzilaCore
import NzilaDatabase
import NzilaValues
import Testing
import Trading

/// Copy trading end to end, on the test clock. In the market suite: it moves the platform's one set
/// of quotes.
extension MarketTests {
    @Test("copy trading: open positions copied in proportion, each leader fill mirrored scaled and rounded down, a stop loss, the leader leaving, a stop that settles")
    func copies() async throws {
        let harness = try await Harness.get()
        let clock = MovableClock(frozenAt: MarketTests.noon)
        try await harness.withPlanes(clock: clock) { planes in
            let f = try await planes.provisionFixture(prefix: "cp")
            let g = try await planes.provisionFixture(prefix: "cq")
            let tenant = try await planes.tenantRef(f)
            let (ada, ben) = (f.members[0], f.members[1])
            func call(_ method: HTTPRequest.Method, _ path: String, _ body: [String: Any]? = nil, token: String, tenant: String? = nil) async throws -> Planes.Reply {
                try await planes.data(method, path, token: token, tenant: tenant ?? f.slug, json: body, headers: [.idempotencyKey: UUID().uuidString])
            }
            // A heavy minimum commission, so a small copy loses a tenth of its money on its first trade.
            try await planes.configureTrading(f, ["commission": ["bps": 10, "min_minor": 10_000]], reason: "Costly trading")
            let quietID = try await planes.enrolQuietMember(f)
            _ = try #require(try await MarketTests.ingest(planes.data.marketIngestion))
            for token in [ada.token, ben.token] { #expect(try await call(.post, "/v1/trading/account", [:], token: token).status == .created) }
            #expect(try await call(.post, "/v1/trading/account", ["member_id": quietID], token: f.staffToken).status == .created)

            func settle(_ orders: [(id: String, token: String)]) async throws {
                #expect(try await planes.work(orders, tenant: tenant, slug: f.slug, clock: clock), "orders still working: \(orders.map(\.id))")
            }
            func order(_ token: String, _ fields: [String: Any]) async throws -> String {
                var o: [String: Any] = ["type": "market", "time_in_force": "day"]
                o.merge(fields) { $1 }
                let placed = try await call(.post, "/v1/trading/orders", o, token: token)
                return try #require(placed.json["id"] as? String, "\(placed.text)")
            }
            func equity(_ token: String, _ account: String? = nil) async throws -> Int {
                let suffix = account.map { "?account_id=\($0)" } ?? ""
                let cash = try #require((try await call(.get, "/v1/trading/account\(suffix)", token: token).json["cash"] as? [String: Any])?["amount"] as? Int)
                let positions = try await call(.get, "/v1/trading/positions\(suffix)", token: token).json["data"] as? [[String: Any]] ?? []
                return cash + positions.reduce(0) { $0 + ((($1["market_value_cad"] as? [String: Any])?["amount"] as? Int) ?? 0) }
            }
            func held(_ token: String, _ account: String?, _ symbol: String) async throws -> Int {
                let suffix = account.map { "?account_id=\($0)" } ?? ""
                let positions = try await call(.get, "/v1/trading/positions\(suffix)", token: token).json["data"] as? [[String: Any]] ?? []
                return positions.first { $0["symbol"] as? String == symbol }?["qty"] as? Int ?? 0
            }

            // Ada holds 600 DANGCEM before anyone copies her.
            try await settle([(try await order(ada.token, ["symbol": "DANGCEM", "side": "buy", "qty": 600]), ada.token)])
            let copyBody: [String: Any] = ["leader_member_id": ada.id, "amount": ["amount": 5_000_000, "currency": "CAD"], "stop_loss_pct": 50, "copy_open_positions": true]
            #expect(try await call(.post, "/v1/trading/copies", copyBody, token: ben.token).problemCode == "not-copyable")
            #expect(try await call(.put, "/v1/trading/profile", ["display_name": "Ada O.", "public": true, "copyable": true], token: ada.token).status == .ok)
            var bad = copyBody
            bad["leader_member_id"] = ben.id
            bad["stop_loss_pct"] = 99
            bad["amount"] = ["amount": 5, "currency": "USD"]
            let refused = try await call(.post, "/v1/trading/copies", bad, token: ben.token)
            #expect(refused.status == .unprocessableContent && ["leader_member_id", "stop_loss_pct", "amount.currency", "amount.amount"].allSatisfy(refused.text.contains), "\(refused.text)")
            var tooMuch = copyBody
            tooMuch["amount"] = ["amount": 10_000_001, "currency": "CAD"]
            #expect(try await call(.post, "/v1/trading/copies", tooMuch, token: ben.token).problemCode == "insufficient-buying-power")

            // Ben copies with a quarter of his cash: Ada's holding is bought in her proportion of equity.
            let leaderEquity = try await equity(ada.token)
            let started = try await call(.post, "/v1/trading/copies", copyBody, token: ben.token)
            #expect(started.status == .created && started.json["state"] as? String == "active", "\(started.text)")
            let copyID = try #require(started.json["id"] as? String)
            let copyAccount = try #require(started.json["account_id"] as? String)
            #expect(try await call(.post, "/v1/trading/copies", copyBody, token: ben.token).problemCode == "already-copying")
            let main = try await call(.get, "/v1/trading/account", token: ben.token)
            #expect((main.json["allocated"] as? [String: Any])?["amount"] as? Int == 5_000_000, "\(main.text)")
            #expect((main.json["buying_power"] as? [String: Any])?["amount"] as? Int == 5_000_000, "held back, not moved: \(main.text)")
            let opening = try await call(.get, "/v1/trading/orders?account_id=\(copyAccount)", token: ben.token)
            let openingOrder = try #require((opening.json["data"] as? [[String: Any]])?.first, "\(opening.text)")
            #expect(openingOrder["qty"] as? Int == 600 * 5_000_000 / leaderEquity && openingOrder["side"] as? String == "buy", "\(openingOrder) vs \(leaderEquity)")
            try await settle([(try #require(openingOrder["id"] as? String), ben.token)])
            #expect(try await call(.post, "/v1/trading/orders", ["symbol": "NPN", "side": "buy", "type": "market", "qty": 1, "time_in_force": "day", "account_id": copyAccount],
                                   token: ben.token).problemCode == "copy-account")

            // Ada buys: the fill is mirrored, scaled by the copy's equity over hers, copied_from her order.
            let npn = try await order(ada.token, ["symbol": "NPN", "side": "buy", "qty": 40])
            try await settle([(npn, ada.token)])
            let (adaEquity, copyEquity) = (try await equity(ada.token), try await equity(ben.token, copyAccount))
            // Ada's order may fill in slices (the size shown): the copy's orders add up to her whole order scaled, to within a share.
            let mirrored = try await call(.get, "/v1/trading/orders?account_id=\(copyAccount)&symbol=NPN&status=all", token: ben.token)
            let mirrors = try #require(mirrored.json["data"] as? [[String: Any]], "\(mirrored.text)")
            let total = mirrors.reduce(0) { $0 + ($1["qty"] as? Int ?? 0) }
            #expect(mirrors.allSatisfy { $0["copied_from"] as? String == npn } && abs(total - 40 * copyEquity / adaEquity) <= 1, "\(mirrors) with \(copyEquity)/\(adaEquity)")
            try await settle(try mirrors.map { (try #require($0["id"] as? String), ben.token) })

            // Ada sells half her DANGCEM: the copy sells half of its own.
            let copyHeld = try await held(ben.token, copyAccount, "DANGCEM")
            try await settle([(try await order(ada.token, ["symbol": "DANGCEM", "side": "sell", "qty": 300]), ada.token)])
            let sells = try await call(.get, "/v1/trading/orders?account_id=\(copyAccount)&symbol=DANGCEM&status=all", token: ben.token)
            let sell = try #require((sells.json["data"] as? [[String: Any]])?.first { $0["side"] as? String == "sell" }, "\(sells.text)")
            #expect(sell["qty"] as? Int == copyHeld / 2, "\(sell) of \(copyHeld)")
            try await settle([(try #require(sell["id"] as? String), ben.token)])

            // A small copy (staff acting for a member) loses a tenth to the commission on its first trade: its stop loss closes it.
            let small: [String: Any] = [
                "leader_member_id": ada.id, "amount": ["amount": 100_000, "currency": "CAD"], "stop_loss_pct": 5, "copy_open_positions": true, "member_id": quietID,
            ]
            let quietCopy = try await call(.post, "/v1/trading/copies", small, token: f.staffToken)
            let quietCopyID = try #require(quietCopy.json["id"] as? String, "\(quietCopy.text)")
            let quietAccount = try #require(quietCopy.json["account_id"] as? String)
            let quietOrders = try await call(.get, "/v1/trading/orders?member_id=\(quietID)&account_id=\(quietAccount)", token: f.staffToken)
            try await settle(try (quietOrders.json["data"] as? [[String: Any]] ?? []).map { (try #require($0["id"] as? String), f.staffToken) })
            _ = await planes.data.copyGuard.drain(tenant)
            let stopped = try await call(.get, "/v1/trading/copies/\(quietCopyID)", token: f.staffToken)
            #expect(stopped.json["state"] as? String == "stopped" && stopped.json["stop_reason"] as? String == "stop_loss", "\(stopped.text)")
            let closing = try await call(.get, "/v1/trading/orders?member_id=\(quietID)&account_id=\(quietAccount)&status=open", token: f.staffToken)
            let closingOrders = try (closing.json["data"] as? [[String: Any]] ?? []).map { (try #require($0["id"] as? String), f.staffToken) }
            #expect(!closingOrders.isEmpty && (closing.json["data"] as? [[String: Any]])?.allSatisfy { $0["side"] as? String == "sell" } == true, "\(closing.text)")
            try await settle(closingOrders)
            _ = await planes.data.copyGuard.drain(tenant)
            #expect(try await call(.get, "/v1/trading/copies/\(quietCopyID)", token: f.staffToken).json["settled_at"] != nil)
            let quietMain = try await call(.get, "/v1/trading/account?member_id=\(quietID)", token: f.staffToken)
            #expect((quietMain.json["allocated"] as? [String: Any])?["amount"] as? Int == 0, "\(quietMain.text)")
            let log = try await call(.get, "/v1/trading/copies/\(quietCopyID)/log", token: f.staffToken)
            #expect((log.json["data"] as? [[String: Any]])?.compactMap { $0["event"] as? String }.first == "started"
                && (log.json["data"] as? [[String: Any]])?.last?["event"] as? String == "settled", "\(log.text)")

            // Ada stops being copyable: Ben's copy stops mirroring and says why; a later fill is not copied.
            #expect(try await call(.put, "/v1/trading/profile", ["display_name": "Ada O.", "public": true, "copyable": false], token: ada.token).status == .ok)
            #expect(try await call(.get, "/v1/trading/copies/\(copyID)", token: ben.token).json["state"] as? String == "leader_left")
            try await settle([(try await order(ada.token, ["symbol": "NPN", "side": "buy", "qty": 40]), ada.token)])
            let after = try await call(.get, "/v1/trading/orders?account_id=\(copyAccount)&symbol=NPN&status=all", token: ben.token)
            #expect((after.json["data"] as? [Any])?.count == mirrors.count, "\(after.text)")

            // Ben stops it and sells: once nothing is held it settles and his buying power is whole again.
            let stop = try await call(.post, "/v1/trading/copies/\(copyID)/stop", ["close_positions": true], token: ben.token)
            #expect(stop.json["state"] as? String == "stopped" && stop.json["stop_reason"] as? String == "member", "\(stop.text)")
            #expect(try await call(.post, "/v1/trading/copies/\(copyID)/stop", [:], token: ben.token).problemCode == "copy-stopped")
            let open = try await call(.get, "/v1/trading/orders?account_id=\(copyAccount)&status=open", token: ben.token)
            try await settle(try (open.json["data"] as? [[String: Any]] ?? []).map { (try #require($0["id"] as? String), ben.token) })
            _ = await planes.data.copyGuard.drain(tenant)
            #expect(try await call(.get, "/v1/trading/copies/\(copyID)", token: ben.token).json["settled_at"] != nil)
            let whole = try await call(.get, "/v1/trading/account", token: ben.token)
            #expect((whole.json["allocated"] as? [String: Any])?["amount"] as? Int == 0 && (whole.json["buying_power"] as? [String: Any])?["amount"] as? Int == 10_000_000,
                    "\(whole.text)")
            let listed = try await call(.get, "/v1/trading/copies", token: ben.token)
            #expect((listed.json["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [copyID], "\(listed.text)")

            // Nobody else sees it.
            #expect(try await call(.get, "/v1/trading/copies/\(copyID)", token: ada.token).status == .notFound)
            #expect(try await call(.get, "/v1/trading/copies/\(copyID)", token: g.members[0].token, tenant: g.slug).status == .notFound)
        }
    }
}
