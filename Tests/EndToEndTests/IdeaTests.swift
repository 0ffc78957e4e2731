import Foundation
import HTTPTypes
import NzilaCore
import NzilaDatabase
import NzilaValues
import Testing
import Trading

/// Trade ideas, comments, follows, the feed and moderation end to end. In the market suite: an idea's
/// order fills against the platform's quotes.
extension MarketTests {
    @Test("ideas: shared under a display name, commented, followed into a feed; an order's outcome once filled; staff hide with a reason; nobody else's")
    func ideas() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes(clock: MovableClock(frozenAt: MarketTests.noon)) { planes in
            let f = try await planes.provisionFixture(prefix: "id")
            let g = try await planes.provisionFixture(prefix: "ie")
            let tenant = try await planes.tenantRef(f)
            let (ada, ben) = (f.members[0], f.members[1])
            func call(_ method: HTTPRequest.Method, _ path: String, _ body: [String: Any]? = nil, token: String, tenant: String? = nil) async throws -> Planes.Reply {
                try await planes.data(method, path, token: token, tenant: tenant ?? f.slug, json: body, headers: [.idempotencyKey: UUID().uuidString])
            }
            _ = try #require(try await MarketTests.ingest(planes.data.marketIngestion))

            // No display name, no idea.
            let anonymous = try await call(.post, "/v1/trading/ideas", ["symbol": "DANGCEM", "direction": "long", "thesis": "Cement demand"], token: ada.token)
            #expect(anonymous.status == .conflict && anonymous.text.contains("profile-required"), "\(anonymous.text)")
            #expect(try await call(.put, "/v1/trading/profile", ["display_name": "Ada O."], token: ada.token).status == .ok)
            #expect(try await call(.put, "/v1/trading/profile", ["display_name": "Ben K."], token: ben.token).status == .ok)

            // Ada's idea stands on her own order, which fills.
            #expect(try await call(.post, "/v1/trading/account", [:], token: ada.token).status == .created)
            let order = try await call(.post, "/v1/trading/orders", ["symbol": "DANGCEM", "side": "buy", "type": "market", "qty": 10, "time_in_force": "day"], token: ada.token)
            let orderID = try #require(order.json["id"] as? String, "\(order.text)")
            let shared = try await call(
                .post, "/v1/trading/ideas", ["symbol": "DANGCEM", "direction": "long", "thesis": "  Housing across West Africa needs cement.  ", "order_id": orderID],
                token: ada.token)
            #expect(shared.status == .created && shared.json["author"] as? String == "Ada O." && shared.json["thesis"] as? String == "Housing across West Africa needs cement.",
                    "\(shared.text)")
            #expect(shared.json["outcome"] == nil, "not filled yet: \(shared.text)")
            let ideaID = try #require(shared.json["id"] as? String)
            #expect(await planes.data.orderMatcher.drain(tenant) == 1)
            let filled = try await call(.get, "/v1/trading/ideas/\(ideaID)", token: ben.token)
            let outcome = try #require((filled.json["idea"] as? [String: Any])?["outcome"] as? [String: Any], "\(filled.text)")
            let fills = try #require(try await call(.get, "/v1/trading/activities", token: ada.token).json["data"] as? [[String: Any]])
            #expect(outcome["status"] as? String == "filled" && outcome["filled_qty"] as? Int == 10 && outcome["average_fill_price"] as? String == fills.first?["price"] as? String,
                    "\(outcome) vs \(fills)")

            // Refusals name their field or rule; someone else's order is not Ada's to cite.
            for (body, words) in [
                (["symbol": "DANGCEM", "direction": "up", "thesis": ""], "direction"), (["symbol": "NOPE", "direction": "long", "thesis": "x"], "NOPE is not listed"),
                (["symbol": "NPN", "direction": "short", "thesis": "x", "order_id": orderID], "unknown-order"),
            ] {
                let refused = try await call(.post, "/v1/trading/ideas", body, token: ben.token)
                #expect(refused.status == .unprocessableContent && refused.text.contains(words), "\(body): \(refused.text)")
            }

            let otherSymbol = try await call(.post, "/v1/trading/ideas", ["symbol": "NPN", "direction": "long", "thesis": "x", "order_id": orderID], token: ada.token)
            #expect(otherSymbol.text.contains("unknown-order"), "an order in another symbol is no outcome of this idea: \(otherSymbol.text)")
            let ghost = try await call(.post, "/v1/trading/follows", ["member_id": ada.id, "follower_id": UUID().uuidString], token: f.staffToken)
            #expect(ghost.status == .unprocessableContent && ghost.text.contains("follower_id"), "\(ghost.text)")

            // Ben comments, follows Ada: her ideas fill his feed; his own feed is empty for her.
            let comment = try await call(.post, "/v1/trading/ideas/\(ideaID)/comments", ["body": "What about energy costs?"], token: ben.token)
            #expect(comment.status == .created && comment.json["author"] as? String == "Ben K.", "\(comment.text)")
            let commentID = try #require(comment.json["id"] as? String)
            #expect(try await call(.get, "/v1/trading/feed", token: ben.token).json["data"] as? [Any] != nil)
            #expect((try await call(.get, "/v1/trading/feed", token: ben.token).json["data"] as? [Any])?.isEmpty == true, "not following yet")
            let follows = try await call(.post, "/v1/trading/follows", ["member_id": ada.id], token: ben.token)
            #expect(follows.status == .created && (follows.json["data"] as? [[String: Any]])?.first?["display_name"] as? String == "Ada O.", "\(follows.text)")
            #expect(try await call(.post, "/v1/trading/follows", ["member_id": ben.id], token: ben.token).status == .unprocessableContent, "not oneself")
            let feed = try await call(.get, "/v1/trading/feed", token: ben.token)
            #expect((feed.json["data"] as? [[String: Any]])?.map { $0["id"] as? String } == [ideaID] && (feed.json["data"] as? [[String: Any]])?.first?["comments"] as? Int == 1,
                    "\(feed.text)")
            #expect((try await call(.get, "/v1/trading/feed", token: ada.token).json["data"] as? [Any])?.isEmpty == true)

            // Staff hide the comment, then the idea: members no longer see them; staff see why.
            #expect(try await call(.post, "/v1/trading/comments/\(commentID)/hide", ["reason": "Off topic"], token: ada.token).status == .forbidden)
            #expect(try await call(.post, "/v1/trading/comments/\(commentID)/hide", ["reason": "Off topic"], token: f.staffToken).status == .ok)
            let afterComment = try await call(.get, "/v1/trading/ideas/\(ideaID)", token: ben.token)
            #expect((afterComment.json["comments"] as? [Any])?.isEmpty == true && (afterComment.json["idea"] as? [String: Any])?["comments"] as? Int == 0, "\(afterComment.text)")
            let hidden = try await call(.post, "/v1/trading/ideas/\(ideaID)/hide", ["reason": "Misleading"], token: f.staffToken)
            #expect(hidden.status == .ok && (hidden.json["moderation"] as? [String: Any])?["reason"] as? String == "Misleading", "\(hidden.text)")
            #expect(try await call(.post, "/v1/trading/ideas/\(ideaID)/hide", ["reason": "Again"], token: f.staffToken).text.contains("already-hidden"))
            #expect(try await call(.get, "/v1/trading/ideas/\(ideaID)", token: ben.token).status == .notFound)
            #expect((try await call(.get, "/v1/trading/feed", token: ben.token).json["data"] as? [Any])?.isEmpty == true)
            #expect(try await call(.post, "/v1/trading/ideas/\(ideaID)/comments", ["body": "Still there?"], token: ben.token).status == .notFound)
            let staffView = try await call(.get, "/v1/trading/ideas/\(ideaID)", token: f.staffToken)
            #expect((staffView.json["comments"] as? [[String: Any]])?.first?["moderation"] != nil, "\(staffView.text)")
            let audit = try await planes.harness.owner.statement(
                "SELECT count(*)::int8 FROM control.audit_log WHERE tenant_id = \(f.tenantID)::uuid AND action LIKE 'POST /v1/trading/%/hide'", logger: planes.harness.logger
            ) { try await $0.first(Int64.self) }
            #expect(audit == 2, "both hidings are audited")

            // Unfollow; another tenant sees none of it.
            #expect(try await call(.delete, "/v1/trading/follows/\(ada.id)", token: ben.token).status == .noContent)
            #expect(try await call(.delete, "/v1/trading/follows/\(ada.id)", token: ben.token).status == .notFound)
            #expect((try await call(.get, "/v1/trading/ideas", token: g.members[0].token, tenant: g.slug).json["data"] as? [Any])?.isEmpty == true)
            #expect(try await call(.get, "/v1/trading/ideas/\(ideaID)", token: g.staffToken, tenant: g.slug).status == .notFound)
        }
    }
}
