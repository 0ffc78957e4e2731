import Foundation
import HTTPTypes
import NzilaCore
import NzilaDatabase
import NzilaValues
import Testing
import Trading

/// Profiles and leaderboards end to end, over a week of snapshots on the test clock. In the market
/// suite: it moves the platform's one set of quotes.
extension MarketTests {
    @Test("leaderboards: only members who opted in, ranked by the period return their history gives, with risk; names unique; paged; another tenant sees none")
    func leaderboards() async throws {
        let harness = try await Harness.get()
        let clock = MovableClock(frozenAt: MarketTests.noon)
        let lifetime = 30 * 86_400
        let control = harness.controlPlane(clock: .movable(clock), adjust: { $0.tokenLifetimeSeconds = lifetime })
        try await harness.withPlanes(control: control, data: { $0.tokenLifetimeSeconds = lifetime }, clock: clock) { planes in
            let f = try await planes.provisionFixture(prefix: "lb")
            let g = try await planes.provisionFixture(prefix: "lc")
            let tenant = try await planes.tenantRef(f)
            let (ada, ben) = (f.members[0], f.members[1])
            let quietID = try await planes.enrolQuietMember(f)
            func call(_ method: HTTPRequest.Method, _ path: String, _ body: [String: Any]? = nil, token: String, tenant: String? = nil) async throws -> Planes.Reply {
                try await planes.data(method, path, token: token, tenant: tenant ?? f.slug, json: body, headers: [.idempotencyKey: UUID().uuidString])
            }
            // A small starting cash, so one holding can weigh.
            try await planes.configureTrading(f, ["starting_cash_minor": 150_000], reason: "Small paper accounts")
            _ = try #require(try await MarketTests.ingest(planes.data.marketIngestion))
            for token in [ada.token, ben.token] { #expect(try await call(.post, "/v1/trading/account", [:], token: token).status == .created) }
            #expect(try await call(.post, "/v1/trading/account", ["member_id": quietID], token: f.staffToken).status == .created)
            // Ada puts most of her 1,500.00 CAD in one share (about 900 CAD); Ben a little in another.
            var ids: [String] = []
            for (token, symbol, qty) in [(ada.token, "DANGCEM", 1_500), (ben.token, "NPN", 1)] {
                let placed = try await call(.post, "/v1/trading/orders", ["symbol": symbol, "side": "buy", "type": "market", "qty": qty, "time_in_force": "day"], token: token)
                ids.append(try #require(placed.json["id"] as? String, "\(placed.text)"))
            }
            #expect(try await planes.work(zip(ids, [ada.token, ben.token]).map { ($0, $1) }, tenant: tenant, slug: f.slug, clock: clock, rounds: 20))
            for (id, token) in zip(ids, [ada.token, ben.token]) { #expect(try await call(.get, "/v1/trading/orders/\(id)", token: token).json["status"] as? String == "filled") }

            // Profiles: opt in; one name per person; copyable only in public.
            let adaProfile = try await call(.put, "/v1/trading/profile", ["display_name": "Ada O.", "public": true, "copyable": true], token: ada.token)
            #expect(adaProfile.status == .ok && adaProfile.json["copyable"] as? Bool == true, "\(adaProfile.text)")
            #expect(try await call(.put, "/v1/trading/profile", ["display_name": " ada o. ", "public": true], token: ben.token).text.contains("display-name-taken"))
            let hidden = try await call(.put, "/v1/trading/profile", ["display_name": "Ben K.", "public": false, "copyable": true], token: ben.token)
            #expect(hidden.status == .unprocessableContent && hidden.text.contains("copyable"), "\(hidden.text)")
            #expect(try await call(.put, "/v1/trading/profile", ["display_name": "Ben K.", "public": true], token: ben.token).status == .ok)
            #expect(try await call(.get, "/v1/trading/profile", token: ben.token).json["display_name"] as? String == "Ben K.")
            #expect(try await call(.get, "/v1/trading/profile?member_id=\(quietID)", token: f.staffToken).status == .notFound)

            // Eight days: six trading days of snapshots.
            for _ in 0..<8 {
                clock.advance(seconds: 86_400)
                _ = try #require(try await MarketTests.ingest(planes.data.marketIngestion))
                _ = try #require(await planes.data.portfolioSnapshotter.drain(tenant))
            }

            // Every period: only Ada and Ben, in the order of the period return their history gives.
            for period in ["1w", "all"] {
                let board = try await call(.get, "/v1/trading/leaderboard?period=\(period)", token: ben.token)
                let rows = try #require(board.json["data"] as? [[String: Any]], "\(board.text)")
                #expect(Set(rows.compactMap { $0["display_name"] as? String }) == ["Ada O.", "Ben K."], "\(board.text)")
                var expected: [(String, Double)] = []
                for member in [ada, ben] {
                    let history = try await call(.get, "/v1/trading/portfolio/history?member_id=\(member.id)", token: f.staffToken)
                    let points = try #require(history.json["days"] as? [[String: Any]])
                    let last = try #require(points.last?["day"] as? String)
                    let boundary = period == "1w" ? Leaderboard.boundary(.week, asOf: try #require(Day(last)))!.description : ""
                    let start = points.last { ($0["day"] as? String ?? "") <= boundary }.flatMap { Self.amount($0, "value") } ?? 150_000
                    let end = try #require(Self.amount(points.last!, "value"))
                    expected.append((member.id, Double(end) / Double(start) - 1))
                }
                let order = expected.sorted { $0.1 > $1.1 }.map(\.0)
                #expect(rows.compactMap { $0["member_id"] as? String } == order, "\(period): \(rows) vs \(expected)")
                #expect(rows.map { $0["rank"] as? Int } == [1, 2])
                for row in rows {
                    let want = try #require(expected.first { $0.0 == row["member_id"] as? String }).1
                    #expect(abs((row["period_return"] as? Double ?? .nan) - want) <= 1e-9 * max(abs(want), 1e-12), "\(period) \(row) vs \(want)")
                }
                let adaRow = try #require(rows.first { $0["member_id"] as? String == ada.id })
                #expect((adaRow["risk_score"] as? Int ?? 0) >= 2 && adaRow["copyable"] as? Bool == true, "a concentrated account: \(adaRow)")
            }

            // Paged by rank; a period that does not exist is a problem; another tenant sees none of it.
            let first = try await call(.get, "/v1/trading/leaderboard?period=all&limit=1", token: ada.token)
            let cursor = try #require(first.json["next_cursor"] as? String, "\(first.text)")
            let second = try await call(.get, "/v1/trading/leaderboard?period=all&limit=1&cursor=\(cursor)", token: ada.token)
            #expect((second.json["data"] as? [[String: Any]])?.first?["rank"] as? Int == 2 && second.json["next_cursor"] as? String == nil, "\(second.text)")
            #expect(try await call(.get, "/v1/trading/leaderboard?period=2y", token: ada.token).status == .unprocessableContent)
            #expect(((try await call(.get, "/v1/trading/leaderboard?period=all", token: g.members[0].token, tenant: g.slug)).json["data"] as? [Any])?.isEmpty == true)
            // Leaving the board takes effect at once.
            #expect(try await call(.put, "/v1/trading/profile", ["display_name": "Ben K.", "public": false], token: ben.token).status == .ok)
            let after = try await call(.get, "/v1/trading/leaderboard?period=all", token: ada.token)
            #expect((after.json["data"] as? [[String: Any]])?.compactMap { $0["display_name"] as? String } == ["Ada O."], "\(after.text)")
        }
    }
}
