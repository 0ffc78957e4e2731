import Foundation
import HTTPTypes
import NzilaCore
import NzilaDatabase
import NzilaValues
import Testing
import Trading

/// The academy and competitions end to end, on the test clock. In the market suite: they move the
/// platform's one set of quotes.
extension MarketTests {
    static let academyRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Content/academy")

    @Test("academy: lessons in both languages, quizzes graded by the server, completion after a pass, scenario replays; staff act for a member they name")
    func academy() async throws {
        let harness = try await Harness.get()
        let clock = MovableClock(frozenAt: MarketTests.noon)
        try await harness.withPlanes(clock: clock) { planes in
            let f = try await planes.provisionFixture(prefix: "ac")
            let g = try await planes.provisionFixture(prefix: "ad")
            let ada = f.members[0]
            func call(_ method: HTTPRequest.Method, _ path: String, _ body: [String: Any]? = nil, token: String? = nil, tenant: String? = nil) async throws -> Planes.Reply {
                try await planes.data(method, path, token: token ?? ada.token, tenant: tenant ?? f.slug, json: body)
            }
            let courses = try await call(.get, "/v1/academy/courses")
            let course = try #require((courses.json["data"] as? [[String: Any]])?.first { $0["id"] as? String == "order-mechanics" }, "\(courses.text)")
            #expect((course["lessons"] as? [Any])?.count == 5 && course["completed"] as? Bool == false)
            let french = try await call(.get, "/v1/academy/lessons/stop-that-gaps?lang=fr")
            #expect(french.json["title"] as? String == "Un stop qui saute" && (french.json["body"] as? String)?.contains("## À vous") == true, "\(french.text)")
            let quiz = try #require(french.json["quiz"] as? [String: Any])
            #expect(!french.text.contains("\"answer\""), "answers never leave the server: \(french.text)")
            #expect(((quiz["questions"] as? [[String: Any]])?.first?["choices"] as? [String])?.first == "À 660,00, le prix du stop")
            #expect(try await call(.get, "/v1/academy/lessons/stop-that-gaps?lang=de").status == .unprocessableContent)
            #expect(try await call(.get, "/v1/academy/lessons/no-such-lesson").status == .notFound)

            // A wrong attempt is kept and not passed; completing needs a pass.
            let content = try Academy.courses(root: Self.academyRoot).get().first { $0.id == "order-mechanics" }!
            let lesson = content.lessons[1]
            let right = lesson.quiz!.questions.map(\.answer)
            let wrong = right.map { $0 == 0 ? 1 : 0 }
            let failed = try await call(.post, "/v1/academy/quizzes/\(lesson.id)/attempts", ["answers": wrong])
            #expect(failed.status == .created && failed.json["passed"] as? Bool == false && failed.json["score"] as? Int == 0, "\(failed.text)")
            #expect(try await call(.post, "/v1/academy/lessons/\(lesson.id)/complete").problemCode == "quiz-not-passed")
            #expect(try await call(.post, "/v1/academy/quizzes/\(lesson.id)/attempts", ["answers": [0]]).status == .unprocessableContent)
            #expect(try await call(.post, "/v1/academy/quizzes/\(lesson.id)/attempts", ["answers": right.map { _ in 9 }]).status == .unprocessableContent)
            try await Self.completeCourse(content, token: ada.token, tenant: f.slug, planes: planes)
            let done = try await call(.get, "/v1/academy/courses/order-mechanics")
            #expect(done.json["completed"] as? Bool == true && done.json["completed_lessons"] as? Int == 5, "\(done.text)")

            // The scenario replays the same way each time, with the member's changes; bad changes are named.
            let run = try await call(.post, "/v1/academy/lessons/stop-that-gaps/scenario/runs", [:])
            #expect(run.status == .created, "\(run.text)")
            let result = try #require(run.json["result"] as? [String: Any])
            let steps = try #require(result["steps"] as? [[String: Any]])
            #expect(steps.count == 10 && steps.first { $0["elected"] as? Bool == true }?["step"] as? Int == 4, "\(steps)")
            let again = try await call(.post, "/v1/academy/lessons/stop-that-gaps/scenario/runs", [:])
            #expect((again.json["result"] as? [String: Any]).map { NSDictionary(dictionary: $0) } == NSDictionary(dictionary: result))
            let changed = try await call(.post, "/v1/academy/lessons/lots-and-bands/scenario/runs", ["qty": 200])
            #expect((changed.json["result"] as? [String: Any])?["filled_qty"] as? Int == 200, "\(changed.text)")
            #expect(try await call(.post, "/v1/academy/lessons/lots-and-bands/scenario/runs", ["qty": 0]).status == .unprocessableContent)
            #expect(try await call(.post, "/v1/academy/lessons/lots-and-bands/scenario/runs", ["side": "hold"]).status == .unprocessableContent)

            // Staff read the courses and act for a member they name; another tenant's member starts afresh.
            #expect(try await call(.get, "/v1/academy/courses", token: f.staffToken).status == .ok)
            #expect(try await call(.post, "/v1/academy/lessons/market-vs-limit/complete", token: f.staffToken).status == .unprocessableContent)
            #expect(try await call(.post, "/v1/academy/quizzes/partial-fills/attempts", ["answers": [1], "member_id": UUID().uuidString], token: f.staffToken).status
                == .unprocessableContent)
            let forBen = try await call(.post, "/v1/academy/quizzes/partial-fills/attempts", ["answers": [1], "member_id": f.members[1].id], token: f.staffToken)
            #expect(forBen.json["passed"] as? Bool == true, "\(forBen.text)")
            let benLesson = try await call(.get, "/v1/academy/lessons/partial-fills", token: f.members[1].token)
            #expect(benLesson.json["quiz_passed"] as? Bool == true && benLesson.json["completed"] as? Bool == false, "\(benLesson.text)")
            let other = try await call(.get, "/v1/academy/courses/order-mechanics", token: g.members[0].token, tenant: g.slug)
            #expect(other.json["completed_lessons"] as? Int == 0, "\(other.text)")
        }
    }

    /// Passes every quiz of the course and completes every lesson, as a member.
    static func completeCourse(_ course: Academy.Course, token: String, tenant: String, planes: Planes) async throws {
        for lesson in course.lessons {
            if let quiz = lesson.quiz {
                let passed = try await planes.data(.post, "/v1/academy/quizzes/\(lesson.id)/attempts", token: token, tenant: tenant, json: ["answers": quiz.questions.map(\.answer)])
                #expect(passed.json["passed"] as? Bool == true, "\(passed.text)")
            }
            let completed = try await planes.data(.post, "/v1/academy/lessons/\(lesson.id)/complete", token: token, tenant: tenant, json: nil)
            #expect(completed.json["completed"] as? Bool == true, "\(completed.text)")
        }
    }

    @Test("competitions: a required course, profiles, separate accounts, the position cap, orders only while it runs, a board that freezes; another tenant sees none")
    func competitions() async throws {
        let harness = try await Harness.get()
        let clock = MovableClock(frozenAt: MarketTests.noon)
        let lifetime = 30 * 86_400
        let control = harness.controlPlane(clock: .movable(clock), adjust: { $0.tokenLifetimeSeconds = lifetime })
        try await harness.withPlanes(control: control, data: { $0.tokenLifetimeSeconds = lifetime }, clock: clock) { planes in
            let f = try await planes.provisionFixture(prefix: "cm")
            let g = try await planes.provisionFixture(prefix: "cn")
            let tenant = try await planes.tenantRef(f)
            let (ada, ben) = (f.members[0], f.members[1])
            func call(_ method: HTTPRequest.Method, _ path: String, _ body: [String: Any]? = nil, token: String, tenant: String? = nil) async throws -> Planes.Reply {
                try await planes.data(method, path, token: token, tenant: tenant ?? f.slug, json: body, headers: [.idempotencyKey: UUID().uuidString])
            }
            let quietID = try await planes.enrolQuietMember(f)
            _ = try #require(try await MarketTests.ingest(planes.data.marketIngestion))
            // Wednesday 12:10 to Friday 12:00 UTC: its final day is Friday.
            let body: [String: Any] = [
                "name": "March Madness", "starts_at": "2027-03-03T12:10:00Z", "ends_at": "2027-03-05T12:00:00Z",
                "starting_cash": ["amount": 10_000_000, "currency": "CAD"], "max_position_pct": 50, "required_course": "order-mechanics",
            ]
            #expect(try await call(.post, "/v1/trading/competitions", body, token: ada.token).status == .forbidden)
            var bad = body
            bad["ends_at"] = "2027-03-03T12:00:00Z"
            bad["starting_cash"] = ["amount": 10, "currency": "NGN"]
            bad["max_position_pct"] = 0
            let refused = try await call(.post, "/v1/trading/competitions", bad, token: f.staffToken)
            #expect(refused.status == .unprocessableContent && ["ends_at", "starting_cash.currency", "starting_cash.amount", "max_position_pct"].allSatisfy(refused.text.contains), "\(refused.text)")
            bad = body
            bad["required_course"] = "no-such-course"
            #expect(try await call(.post, "/v1/trading/competitions", bad, token: f.staffToken).status == .unprocessableContent)
            let created = try await call(.post, "/v1/trading/competitions", body, token: f.staffToken)
            #expect(created.status == .created && created.json["phase"] as? String == "upcoming" && created.json["final_day"] as? String == "2027-03-05", "\(created.text)")
            let id = try #require(created.json["id"] as? String)

            // The course first, then a profile; then each gets a separate account with the competition's cash.
            #expect(try await call(.post, "/v1/trading/competitions/\(id)/join", [:], token: ada.token).problemCode == "course-required")
            let course = try Academy.courses(root: Self.academyRoot).get().first { $0.id == "order-mechanics" }!
            for member in [ada, ben] { try await Self.completeCourse(course, token: member.token, tenant: f.slug, planes: planes) }
            #expect(try await call(.post, "/v1/trading/competitions/\(id)/join", [:], token: ada.token).problemCode == "profile-required")
            var accounts: [String: String] = [:]
            for (member, name) in [(ada, "Ada O."), (ben, "Ben K.")] {
                #expect(try await call(.put, "/v1/trading/profile", ["display_name": name, "public": true], token: member.token).status == .ok)
                let joined = try await call(.post, "/v1/trading/competitions/\(id)/join", [:], token: member.token)
                #expect(joined.status == .created && joined.json["kind"] as? String == "competition", "\(joined.text)")
                #expect((joined.json["cash"] as? [String: Any])?["amount"] as? Int == 10_000_000)
                accounts[member.id] = try #require(joined.json["id"] as? String)
            }
            #expect(try await call(.post, "/v1/trading/competitions/\(id)/join", [:], token: ada.token).problemCode == "already-joined")
            let adaAccount = try #require(accounts[ada.id]), benAccount = try #require(accounts[ben.id])
            #expect(try await call(.get, "/v1/trading/account?account_id=\(adaAccount)", token: ben.token).status == .notFound)
            #expect(try await call(.get, "/v1/trading/account", token: ada.token).status == .notFound, "no main account was opened")

            // Not before the start.
            func order(_ token: String, _ account: String, _ fields: [String: Any]) async throws -> Planes.Reply {
                var o: [String: Any] = ["side": "buy", "type": "market", "time_in_force": "day", "account_id": account]
                o.merge(fields) { $1 }
                return try await call(.post, "/v1/trading/orders", o, token: token)
            }
            #expect(try await order(ada.token, adaAccount, ["symbol": "DANGCEM", "qty": 500]).problemCode == "competition-not-running")

            // Running: late entry is closed; the cap refuses a buy worth more than half the equity.
            clock.advance(seconds: 15 * 60)
            _ = try #require(try await MarketTests.ingest(planes.data.marketIngestion))
            #expect(try await call(.post, "/v1/trading/competitions/\(id)/join", ["member_id": quietID], token: f.staffToken).problemCode == "late-entry-closed")
            let capped = try await order(ada.token, adaAccount, ["symbol": "DANGCEM", "qty": 100_000])
            #expect(capped.problemCode == "position-limit" && capped.text.contains("50%"), "\(capped.text)")
            let placed = [
                try await order(ada.token, adaAccount, ["symbol": "DANGCEM", "qty": 500]), try await order(ben.token, benAccount, ["symbol": "NPN", "qty": 3]),
            ]
            let ids = try placed.map { try #require($0.json["id"] as? String, "\($0.text)") }
            let quote = try await call(.get, "/v1/market/quotes?symbols=DANGCEM", token: ada.token)
            let lastText = try #require((quote.json["data"] as? [[String: Any]])?.first?["last"] as? String, "\(quote.text)")
            let last = try #require(Price(lastText))
            let low = Price(e4: last.e4 * 93 / 100 / 1_000 * 1_000).description
            let gtc = try await order(ada.token, adaAccount, ["symbol": "DANGCEM", "qty": 100, "type": "limit", "limit_price": low, "time_in_force": "gtc"])
            #expect(gtc.status == .created && gtc.json["expires_at"] as? String == "2027-03-05T12:00:00.000Z", "a gtc order ends with the competition: \(gtc.text)")
            let gtcID = try #require(gtc.json["id"] as? String)
            // Working buys count toward the cap: two of about a fifth of the equity pass, a third does not.
            var resting: [String] = []
            for _ in 0..<2 {
                let buy = try await order(ada.token, adaAccount, ["symbol": "DANGCEM", "qty": 40_000, "type": "limit", "limit_price": low])
                resting.append(try #require(buy.json["id"] as? String, "\(buy.text)"))
            }
            #expect(try await order(ada.token, adaAccount, ["symbol": "DANGCEM", "qty": 40_000, "type": "limit", "limit_price": low]).problemCode == "position-limit")
            for id in resting { #expect(try await call(.post, "/v1/trading/orders/\(id)/cancel", [:], token: ada.token).status == .ok) }
            #expect(try await planes.work(zip(ids, [ada.token, ben.token]).map { ($0, $1) }, tenant: tenant, slug: f.slug, clock: clock))
            for (id, token) in zip(ids, [ada.token, ben.token]) { #expect(try await call(.get, "/v1/trading/orders/\(id)", token: token).json["status"] as? String == "filled") }
            let positions = try await call(.get, "/v1/trading/positions?account_id=\(adaAccount)", token: ada.token)
            #expect((positions.json["data"] as? [[String: Any]])?.first?["qty"] as? Int == 500, "\(positions.text)")

            // Thursday: a provisional board from Wednesday's snapshots.
            clock.advance(seconds: 86_400)
            _ = try #require(try await MarketTests.ingest(planes.data.marketIngestion))
            _ = try #require(await planes.data.portfolioSnapshotter.drain(tenant))
            let provisional = try await call(.get, "/v1/trading/competitions/\(id)/leaderboard", token: ben.token)
            let rows = try #require(provisional.json["data"] as? [[String: Any]], "\(provisional.text)")
            #expect(rows.count == 2 && rows.allSatisfy { $0["final"] as? Bool == false && $0["as_of"] as? String == "2027-03-03" }, "\(provisional.text)")

            // Friday after the end: no more orders; the gtc order expired at the end.
            clock.advance(seconds: 86_400)
            _ = try #require(try await MarketTests.ingest(planes.data.marketIngestion))
            _ = await planes.data.orderMatcher.drain(tenant)
            _ = try #require(await planes.data.portfolioSnapshotter.drain(tenant))
            #expect(try await call(.get, "/v1/trading/orders/\(gtcID)", token: ada.token).json["status"] as? String == "expired")
            #expect(try await order(ben.token, benAccount, ["symbol": "NPN", "qty": 1]).problemCode == "competition-not-running")
            #expect(try await call(.get, "/v1/trading/competitions/\(id)", token: ada.token).json["phase"] as? String == "ended")

            // Saturday: Friday's snapshots are taken and the results frozen, ranked by Friday's values.
            clock.advance(seconds: 86_400)
            _ = try #require(try await MarketTests.ingest(planes.data.marketIngestion))
            _ = try #require(await planes.data.portfolioSnapshotter.drain(tenant))
            let board = try await call(.get, "/v1/trading/competitions/\(id)/leaderboard", token: ada.token)
            let final = try #require(board.json["data"] as? [[String: Any]], "\(board.text)")
            var expected: [(String, Int)] = []
            for (member, account) in [(ada, adaAccount), (ben, benAccount)] {
                let history = try await call(.get, "/v1/trading/portfolio/history?account_id=\(account)", token: member.token)
                let day = try #require((history.json["days"] as? [[String: Any]])?.last, "\(history.text)")
                #expect(day["day"] as? String == "2027-03-05")
                expected.append((member.id, try #require((day["value"] as? [String: Any])?["amount"] as? Int)))
            }
            expected.sort { $0.1 > $1.1 }
            #expect(final.compactMap { $0["member_id"] as? String } == expected.map(\.0), "\(final) vs \(expected)")
            #expect(final.compactMap { ($0["value"] as? [String: Any])?["amount"] as? Int } == expected.map(\.1))
            #expect(final.allSatisfy { $0["final"] as? Bool == true && $0["as_of"] as? String == "2027-03-05" } && final.first?["rank"] as? Int == 1)
            let frozen = try await call(.get, "/v1/trading/competitions", token: ada.token)
            let listed = try #require((frozen.json["data"] as? [[String: Any]])?.first, "\(frozen.text)")
            #expect(listed["phase"] as? String == "final" && listed["participants"] as? Int == 2 && listed["account_id"] as? String == adaAccount, "\(listed)")
            // Closed: neither orders nor joins; the values stay as they were frozen.
            #expect(try await call(.get, "/v1/trading/account?account_id=\(adaAccount)", token: ada.token).json["closed_at"] != nil)
            #expect(try await call(.post, "/v1/trading/competitions/\(id)/join", ["member_id": quietID], token: f.staffToken).problemCode == "competition-ended")
            clock.advance(seconds: 3 * 86_400)
            _ = try #require(try await MarketTests.ingest(planes.data.marketIngestion))
            _ = await planes.data.portfolioSnapshotter.drain(tenant)
            let later = try await call(.get, "/v1/trading/competitions/\(id)/leaderboard", token: ada.token)
            #expect((later.json["data"] as? [[String: Any]])?.compactMap { ($0["value"] as? [String: Any])?["amount"] as? Int } == expected.map(\.1))
            // Competition accounts are not on the credit union's leaderboard.
            #expect(((try await call(.get, "/v1/trading/leaderboard?period=all", token: ada.token)).json["data"] as? [Any])?.isEmpty == true)

            // Another tenant sees none of it.
            let other = g.members[0]
            #expect(try await call(.get, "/v1/trading/competitions/\(id)", token: other.token, tenant: g.slug).status == .notFound)
            #expect(((try await call(.get, "/v1/trading/competitions", token: other.token, tenant: g.slug)).json["data"] as? [Any])?.isEmpty == true)
            #expect(try await call(.post, "/v1/trading/competitions/\(id)/join", [:], token: other.token, tenant: g.slug).status == .notFound)
        }
    }
}
