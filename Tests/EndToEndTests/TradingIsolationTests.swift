import Foundation
import HTTPTypes
import NzilaCore
import NzilaDatabase
import NzilaValues
import Testing
import Trading

/// Paper trading's tenants kept apart under concurrency. In the market suite: it needs the
/// platform's quotes.
extension MarketTests {
    @Test("400 trading requests from 8 concurrent clients alternating two tenants never see the other tenant's accounts, orders, lists, ideas, competitions or copies")
    func tradingIsolationUnderConcurrency() async throws {
        let harness = try await Harness.get()
        let clock = MovableClock(frozenAt: MarketTests.noon)
        try await harness.withPlanes(clock: clock) { planes in
            let a = try await planes.provisionFixture(prefix: "tr_iso_a")
            let b = try await planes.provisionFixture(prefix: "tr_iso_b")
            _ = try #require(try await MarketTests.ingest(planes.data.marketIngestion))
            func call(_ f: Planes.Fixture, _ method: HTTPRequest.Method, _ path: String, _ body: [String: Any]? = nil, token: String) async throws -> Planes.Reply {
                try await planes.data(method, path, token: token, tenant: f.slug, json: body, headers: [.idempotencyKey: UUID().uuidString])
            }
            // Each tenant: two accounts, a working order, a watchlist, an idea, a competition and a copy.
            var secrets: [String: [String]] = [:]
            for f in [a, b] {
                let (ada, ben) = (f.members[0], f.members[1])
                var ids: [String] = []
                for member in [ada, ben] {
                    let opened = try await call(f, .post, "/v1/trading/account", [:], token: member.token)
                    ids.append(try #require(opened.json["id"] as? String, "\(opened.text)"))
                }
                let placed = try await call(
                    f, .post, "/v1/trading/orders", ["symbol": "DANGCEM", "side": "buy", "type": "limit", "qty": 10, "limit_price": "620.00", "time_in_force": "gtc"],
                    token: ada.token)
                ids.append(try #require(placed.json["id"] as? String, "\(placed.text)"))
                let list = try await call(f, .post, "/v1/trading/watchlists", ["name": "Mine", "symbols": ["DANGCEM"]], token: ada.token)
                ids.append(try #require(list.json["id"] as? String, "\(list.text)"))
                #expect(try await call(f, .put, "/v1/trading/profile", ["display_name": "Ada \(f.slug.suffix(4))", "public": true, "copyable": true], token: ada.token).status == .ok)
                let idea = try await call(f, .post, "/v1/trading/ideas", ["symbol": "DANGCEM", "direction": "long", "thesis": "Cement"], token: ada.token)
                ids.append(try #require(idea.json["id"] as? String, "\(idea.text)"))
                let competition = try await call(
                    f, .post, "/v1/trading/competitions",
                    ["name": "Cup \(f.slug)", "starts_at": "2027-03-10T12:00:00Z", "ends_at": "2027-03-12T21:00:00Z", "starting_cash": ["amount": 100_000, "currency": "CAD"]],
                    token: f.staffToken)
                ids.append(try #require(competition.json["id"] as? String, "\(competition.text)"))
                let copy = try await call(
                    f, .post, "/v1/trading/copies", ["leader_member_id": ada.id, "amount": ["amount": 100_000, "currency": "CAD"], "stop_loss_pct": 50], token: ben.token)
                ids.append(try #require(copy.json["id"] as? String, "\(copy.text)"))
                ids.append(try #require(copy.json["account_id"] as? String))
                secrets[f.slug] = ids + [ada.id, ben.id]
            }
            let fixtures = [a, b]
            let secretsOf = secrets
            let violations = try await withThrowingTaskGroup(of: [String].self) { group in
                for client in 0..<8 {
                    group.addTask {
                        var problems: [String] = []
                        for request in 0..<50 {
                            let f = fixtures[(client + request) % 2]
                            let other = fixtures[(client + request + 1) % 2]
                            let (ada, ben) = (f.members[0], f.members[1])
                            let reply: Planes.Reply
                            switch request % 8 {
                            case 0: reply = try await call(f, .get, "/v1/trading/orders?status=all", token: f.staffToken)
                            case 1: reply = try await call(f, .get, "/v1/trading/account", token: ada.token)
                            case 2: reply = try await call(f, .get, "/v1/trading/watchlists", token: ada.token)
                            case 3: reply = try await call(f, .get, "/v1/trading/ideas", token: ben.token)
                            case 4: reply = try await call(f, .get, "/v1/trading/competitions", token: ben.token)
                            case 5: reply = try await call(f, .get, "/v1/trading/copies", token: f.staffToken)
                            case 6:
                                reply = try await call(
                                    f, .post, "/v1/trading/orders",
                                    ["symbol": "DANGCEM", "side": "buy", "type": "limit", "qty": 1, "limit_price": "620.00", "time_in_force": "day"], token: ben.token)
                            default: reply = try await call(f, .get, "/v1/academy/courses", token: ada.token)
                            }
                            if reply.status.code >= 500 || reply.status == .notFound || reply.status == .forbidden {
                                problems.append("\(f.slug) \(reply.status): \(reply.text)")
                            }
                            for id in secretsOf[other.slug]! where reply.text.contains(id) { problems.append("\(f.slug) saw \(other.slug)'s \(id)") }
                            if request % 10 == 0 {
                                let foreign = secretsOf[other.slug]!
                                let probe = try await call(f, .get, "/v1/trading/orders/\(foreign[2])", token: f.staffToken)
                                let competition = try await call(f, .get, "/v1/trading/competitions/\(foreign[5])", token: f.staffToken)
                                let copy = try await call(f, .get, "/v1/trading/copies/\(foreign[6])", token: f.staffToken)
                                for (what, r) in [("order", probe), ("competition", competition), ("copy", copy)] where r.status != .notFound {
                                    problems.append("\(f.slug) reached \(other.slug)'s \(what): \(r.status)")
                                }
                            }
                        }
                        return problems
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(violations.isEmpty, "\(violations.prefix(5))")
        }
    }
}
