import Foundation
import HTTPTypes
import NzilaCore
import Testing

@Suite("Rate limits per tenant and per caller")
struct RateLimitEndToEndTests {
    @Test("a tenant's lowered limits answer 429 with Retry-After and RateLimit-*; its other callers and other tenants are not slowed")
    func limits() async throws {
        let harness = try await Harness.get()
        // Time stands still unless the test moves it: buckets refill only when it does, whatever the machine's speed.
        try await harness.withPlanes(data: { $0.rateLimitConfigSeconds = 0 }, clock: MovableClock(frozenAt: Date())) { planes in
            let f = try await planes.provisionFixture(prefix: "rl")
            let other = try await planes.provisionFixture(prefix: "rl_other")
            let path = "/v1/tenants/\(f.slug)/config"
            let current = try await planes.control(.get, path, token: f.staffToken)
            var config = try #require(current.json["config"] as? [String: Any])
            config["rate_limits"] = ["member_per_second": 1, "member_burst": 3]
            let put = try await planes.control(
                .put, path, token: f.staffToken, json: ["config": config, "reason": "Throttle the member app"],
                headers: [HTTPField.Name("If-Match")!: current.headers[HTTPField.Name("ETag")!] ?? ""])
            #expect(put.status == .ok, "\(put.text)")
            config["rate_limits"] = ["member_burst": 0]
            let refused = try await planes.control(
                .put, path, token: f.staffToken, json: ["config": config, "reason": "Bad"], headers: [HTTPField.Name("If-Match")!: "\"2\""])
            #expect(refused.status == .unprocessableContent && refused.text.contains("config.rate_limits.member_burst"))

            // Ten at once against a burst of three refilling one a second: most are refused, whatever the machine's speed.
            let replies = try await withThrowingTaskGroup(of: Planes.Reply.self) { group in
                for _ in 0..<10 { group.addTask { try await planes.data(.get, "/v1/accounts", token: f.members[0].token, tenant: f.slug) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let statuses = replies.map(\.status)
            #expect(statuses.filter { $0 == .ok }.count <= 5 && statuses.filter { $0 == .tooManyRequests }.count >= 5, "\(statuses)")
            #expect(statuses.allSatisfy { $0 == .ok || $0 == .tooManyRequests })
            let limited = replies.first { $0.status == .tooManyRequests }
            let reply = try #require(limited)
            #expect(reply.problemCode == "rate-limited" && reply.headers[.contentType] == "application/problem+json")
            #expect(Int(reply.headers[.retryAfter] ?? "") ?? 0 >= 1 && reply.headers[HTTPField.Name("RateLimit-Remaining")!] == "0")
            #expect(reply.headers[HTTPField.Name("RateLimit-Limit")!] == "3" && reply.headers[HTTPField.Name("RateLimit-Reset")!] != nil)
            // Another member of the same tenant, and another tenant's member, still pass.
            #expect(try await planes.data(.get, "/v1/accounts", token: f.members[1].token, tenant: f.slug).status == .ok)
            for _ in 0..<6 { #expect(try await planes.data(.get, "/v1/accounts", token: other.members[0].token, tenant: other.slug).status == .ok) }
            // The bucket refills at one a second (of platform time).
            planes.clock.advance(seconds: 1.1)
            #expect(try await planes.data(.get, "/v1/accounts", token: f.members[0].token, tenant: f.slug).status == .ok)
        }
    }
}

@Suite("Rate limits before password hashing")
struct LoginFloodTests {
    @Test("a flood of member logins from one address is refused per tenant and address before Argon2id runs; other tenants and token routes pass")
    func loginFlood() async throws {
        let harness = try await Harness.get()
        let work = PasswordHasher.Work()
        // Time stands still: the address's bucket refills only when the test moves the clock.
        try await harness.withPlanes(data: { $0.rateLimitConfigSeconds = 0 }, clock: MovableClock(frozenAt: Date()), hasher: PasswordHasher(work: work)) {
            planes in
            let f = try await planes.provisionFixture(prefix: "flood")
            let other = try await planes.provisionFixture(prefix: "flood_other")
            let path = "/v1/tenants/\(f.slug)/config"
            let current = try await planes.control(.get, path, token: f.staffToken)
            var config = try #require(current.json["config"] as? [String: Any])
            config["rate_limits"] = ["address_per_second": 1, "address_burst": 3]
            let put = try await planes.control(
                .put, path, token: f.staffToken, json: ["config": config, "reason": "Logins from one address"],
                headers: [HTTPField.Name("If-Match")!: current.headers[HTTPField.Name("ETag")!] ?? ""])
            #expect(put.status == .ok, "\(put.text)")

            let slug = f.slug
            @Sendable func login() async throws -> Planes.Reply {
                try await planes.data(.post, "/v1/auth/login", tenant: slug, json: ["email": "member0@\(slug).test", "password": "member password 0!"])
            }
            let before = work.count
            let replies = try await withThrowingTaskGroup(of: Planes.Reply.self) { group in
                for _ in 0..<30 { group.addTask { try await login() } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let statuses = replies.map(\.status)
            // A burst of three passes (and each checks one password); the other 27 are refused at the gate.
            #expect(statuses.filter { $0 == .ok }.count == 3 && statuses.filter { $0 == .tooManyRequests }.count == 27, "\(statuses)")
            #expect(work.count - before == 3, "Argon2id ran \(work.count - before) times for 3 admitted logins")
            let refused = try #require(replies.first { $0.status == .tooManyRequests })
            #expect(refused.problemCode == "rate-limited" && refused.text.contains("per-address") && refused.headers[.retryAfter] != nil)
            // Registration and refresh share the bucket: refused too, without hashing.
            let register = try await planes.data(
                .post, "/v1/auth/register", tenant: f.slug, json: ["email": "new@\(f.slug).test", "full_name": "New Member", "password": "a long password 1"])
            #expect(register.status == .tooManyRequests && work.count - before == 3)
            #expect(try await planes.data(.post, "/v1/auth/refresh", tenant: f.slug, json: ["refresh_token": "x"]).status == .tooManyRequests)
            // A member with a token, and another tenant's logins, are not slowed.
            #expect(try await planes.data(.get, "/v1/accounts", token: f.members[0].token, tenant: f.slug).status == .ok)
            let elsewhere = try await planes.data(
                .post, "/v1/auth/login", tenant: other.slug, json: ["email": "member0@\(other.slug).test", "password": "member password 0!"])
            #expect(elsewhere.status == .ok)
            // One second of platform time refills one login.
            planes.clock.advance(seconds: 1.1)
            #expect(try await login().status == .ok)
            #expect(try await login().status == .tooManyRequests)
        }
    }
}

extension LoginFloodTests {
    @Test("a flood of staff logins from one address is refused on the control plane before Argon2id runs")
    func staffLoginFlood() async throws {
        let harness = try await Harness.get()
        let work = PasswordHasher.Work()
        let clock = MovableClock(frozenAt: Date())
        let control = harness.controlPlane(clock: .movable(clock), hasher: PasswordHasher(work: work)) {
            $0.addressRateLimit = RateLimit(perSecond: 1, burst: 3)
        }
        try await harness.withPlanes(control: control, clock: clock) { planes in
            // A fresh email each run: four failures stay under the login lockout (LoginThrottle.freeFailures).
            let email = "nobody-\(UUID().uuidString.lowercased())@nowhere.test"
            @Sendable func login() async throws -> Planes.Reply {
                try await planes.control(.post, "/v1/auth/login", json: ["email": email, "password": "a wrong password"])
            }
            let before = work.count
            let replies = try await withThrowingTaskGroup(of: Planes.Reply.self) { group in
                for _ in 0..<20 { group.addTask { try await login() } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let statuses = replies.map(\.status)
            #expect(statuses.filter { $0 == .unauthorized }.count == 3 && statuses.filter { $0 == .tooManyRequests }.count == 17, "\(statuses)")
            #expect(work.count - before == 3, "Argon2id ran \(work.count - before) times for 3 admitted logins")
            #expect(replies.first { $0.status == .tooManyRequests }?.text.contains("per-address") == true)
            planes.clock.advance(seconds: 1.1)
            #expect(try await login().status == .unauthorized)
        }
    }
}
