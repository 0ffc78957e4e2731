import Foundation
import HTTPTypes
import NzilaCore
import NzilaDatabase
import Testing

/// What the paper-trading tests do again and again, on the test clock.
extension Planes {
    /// Runs the order matcher and the copy guard — moving the clock 15 s and storing fresh quotes between rounds — until
    /// none of `orders` is working any more (filled, canceled or expired), at most `rounds` times.
    /// True when they all stopped working.
    @discardableResult
    func work(_ orders: [(id: String, token: String)], tenant: TenantRef, slug: String, clock: MovableClock, rounds: Int = 30) async throws -> Bool {
        func done() async throws -> Bool {
            for (id, token) in orders {
                let status = try await data(.get, "/v1/trading/orders/\(id)", token: token, tenant: slug).json["status"] as? String
                if status == nil || status == "new" || status == "partially_filled" { return false }
            }
            return true
        }
        var round = 0
        while try await !done(), round < rounds {
            if round > 0 {
                clock.advance(seconds: 15)
                _ = try #require(try await MarketTests.ingest(data.marketIngestion))
            }
            _ = await data.orderMatcher.drain(tenant)
            // Copied leaders' fills are mirrored by the copy guard.
            _ = await data.copyGuard.drain(tenant)
            round += 1
        }
        return try await done()
    }

    /// Sets the tenant's `trading` configuration section (a fixture's first change: version 1).
    func configureTrading(_ f: Fixture, _ section: [String: Any], reason: String) async throws {
        let current = try await control(.get, "/v1/tenants/\(f.slug)/config", token: f.staffToken)
        var config = try #require(current.json["config"] as? [String: Any])
        config["trading"] = section
        let put = try await control(
            .put, "/v1/tenants/\(f.slug)/config", token: f.staffToken, json: ["config": config, "reason": reason],
            headers: [HTTPField.Name("If-Match")!: "\"1\""])
        #expect(put.status == .ok, "\(put.text)")
    }

    /// Enrols a third member with no device or phone (staff act for them): their id.
    func enrolQuietMember(_ f: Fixture) async throws -> String {
        let quiet = try await data(
            .post, "/v1/members", token: f.staffToken, tenant: f.slug,
            json: ["email": "quiet@\(f.slug).test", "full_name": "Quiet Member", "password": "member password 7!"])
        return try #require(quiet.json["id"] as? String, "\(quiet.text)")
    }
}
