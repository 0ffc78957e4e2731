@testable import DataPlane
import Foundation
import NzilaCore
import Testing

/// Tenant webhooks' pure rules: addresses a delivery may reach, URLs and event types an endpoint
/// may have, the retry schedule, the signature header.
@Suite("Webhook rules")
struct WebhookRulesTests {
    @Test("addresses: public ones deliverable; loopback only when allowed; private, CGNAT, link-local, metadata, ULA, multicast, reserved and v4 inside v6 never", arguments: [
        ("93.184.216.34", true, true), ("8.8.8.8", true, true), ("2606:4700::1111", true, true),
        ("127.0.0.1", false, true), ("127.8.9.10", false, true), ("::1", false, true), ("::ffff:127.0.0.1", false, true),
        ("10.0.0.1", false, false), ("172.16.0.1", false, false), ("172.31.255.255", false, false), ("192.168.1.1", false, false),
        ("100.64.0.1", false, false), ("169.254.169.254", false, false), ("0.0.0.0", false, false), ("224.0.0.1", false, false),
        ("255.255.255.255", false, false), ("198.18.0.1", false, false), ("192.0.2.10", false, false),
        ("fd00:ec2::254", false, false), ("fe80::1", false, false), ("ff02::1", false, false), ("::", false, false), ("2001:db8::1", false, false),
        ("::ffff:10.0.0.1", false, false), ("::ffff:169.254.169.254", false, false), ("64:ff9b::a9fe:a9fe", false, false), ("::ffff:8.8.8.8", true, true),
    ])
    func addresses(text: String, deliverable: Bool, withLoopback: Bool) throws {
        let address = try #require(NetworkAddress(text), "\(text) parses")
        #expect(address.isDeliverable(allowLoopback: false) == deliverable, "\(text)")
        #expect(address.isDeliverable(allowLoopback: true) == withLoopback, "\(text) with loopback allowed")
        #expect(NetworkAddress(address.description) == address)
    }

    @Test("172.15 and 172.32 are public; 172.16–172.31 private: the prefix length is honoured")
    func prefixes() {
        #expect(NetworkAddress("172.15.255.255")!.isDeliverable(allowLoopback: false))
        #expect(NetworkAddress("172.32.0.1")!.isDeliverable(allowLoopback: false))
        #expect(!NetworkAddress("172.20.1.1")!.isDeliverable(allowLoopback: false))
        #expect(NetworkAddress("100.63.255.255")!.isDeliverable(allowLoopback: false) && !NetworkAddress("100.127.0.1")!.isDeliverable(allowLoopback: false))
        #expect(NetworkAddress("not an address") == nil && NetworkAddress("300.1.1.1") == nil)
    }

    @Test("endpoint URLs: https with a host; http and loopback only in development; no credentials, fragments or private literals")
    func urls() throws {
        #expect(try WebhookRules.validate(url: "https://hooks.example.com/nzila?x=1", allowLoopback: false).host == "hooks.example.com")
        for bad in ["http://hooks.example.com/", "https://user:pw@example.com/", "https://example.com/#frag", "https://10.1.1.1/", "https://localhost/",
                    "https://api.localhost/", "https://127.0.0.1/", "ftp://example.com/", "example.com", "https:///nohost", String(repeating: "a", count: 3_000)] {
            #expect(throws: Problem.self, "\(bad.prefix(40))") { try WebhookRules.validate(url: bad, allowLoopback: false) }
        }
        #expect(try WebhookRules.validate(url: "http://127.0.0.1:9999/hook", allowLoopback: true).port == 9999)
        #expect(try WebhookRules.validate(url: "http://localhost:9999/hook", allowLoopback: true).host == "localhost")
        #expect(throws: Problem.self) { try WebhookRules.validate(url: "http://example.com/", allowLoopback: true) }
        #expect(throws: Problem.self) { try WebhookRules.validate(url: "https://192.168.0.1/", allowLoopback: true) }
    }

    @Test("event types: known types, <domain>.* of a known domain, or *; de-duplicated; 1 to 64")
    func eventTypes() throws {
        let known: Set = ["remittance.delivered.v1", "account.balance_changed.v1"]
        #expect(try WebhookRules.validate(eventTypes: ["remittance.delivered.v1", "account.*", "remittance.delivered.v1"], known: known) == ["remittance.delivered.v1", "account.*"])
        #expect(try WebhookRules.validate(eventTypes: ["*"], known: known) == ["*"])
        for bad in [[], ["remittance.teleported.v1"], ["loan.*"], ["remittance"], Array(repeating: "*", count: 65)] {
            #expect(throws: Problem.self, "\(bad.prefix(2))") { try WebhookRules.validate(eventTypes: bad, known: known) }
        }
        #expect(WebhookRules.wants(["account.*"], type: "account.balance_changed.v1") && WebhookRules.wants(["*"], type: "loan.closed.v1"))
        #expect(!WebhookRules.wants(["remittance.delivered.v1"], type: "remittance.failed.v1") && !WebhookRules.wants(["remit.*"], type: "remittance.failed.v1"))
    }

    @Test("retries: 30 s doubling to a 12 h cap, half of each wait jittered; dead once the next try would fall past 3 days")
    func schedule() {
        #expect(WebhookRules.retryDelay(afterAttempt: 1, random: 0) == 15 && WebhookRules.retryDelay(afterAttempt: 1, random: 1) == 30)
        #expect(WebhookRules.retryDelay(afterAttempt: 2, random: 0.5) == 45)
        #expect(WebhookRules.retryDelay(afterAttempt: 11, random: 1) == 30_720 && WebhookRules.retryDelay(afterAttempt: 12, random: 1) == 43_200)
        #expect(WebhookRules.retryDelay(afterAttempt: 40, random: 0) == 21_600 && WebhookRules.retryDelay(afterAttempt: 0, random: 1) == 30)
        for random in [0.0, 1.0] {
            // Attempts until dead, the clock moving to each retry as it falls due.
            let queued = Date(timeIntervalSince1970: 1_800_000_000)
            var now = queued
            var attempts = 1
            while case .retry(let at) = WebhookRules.afterFailure(attempt: attempts, queuedAt: queued, now: now, random: random) {
                now = at
                attempts += 1
            }
            #expect(now.timeIntervalSince(queued) <= WebhookRules.retryWindow)
            #expect((16...23).contains(attempts), "random \(random): \(attempts)")
        }
        let since = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(!WebhookRules.shouldDisable(failingSince: since, now: since.addingTimeInterval(3 * 86_400 - 1)))
        #expect(WebhookRules.shouldDisable(failingSince: since, now: since.addingTimeInterval(3 * 86_400)))
    }

    @Test("the outbound signature carries one v1 per signing secret; either secret verifies it, a third does not")
    func signature() {
        let body = Data(#"{"id":"e1"}"#.utf8)
        let header = WebhookSignature.header(secrets: ["whsec_new", "whsec_old"], timestamp: 1_800_000_000, body: body)
        #expect(header.hasPrefix("t=1800000000,v1=") && header.components(separatedBy: "v1=").count == 3)
        #expect(WebhookSignature.verify(header: header, secret: "whsec_new", body: body, nowSeconds: 1_800_000_010) == nil)
        #expect(WebhookSignature.verify(header: header, secret: "whsec_old", body: body, nowSeconds: 1_800_000_010) == nil)
        #expect(WebhookSignature.verify(header: header, secret: "whsec_other", body: body, nowSeconds: 1_800_000_010) == .mismatch)
        #expect(WebhookSignature.header(secrets: ["s"], timestamp: 5, body: body) == WebhookSignature.header(secret: "s", timestamp: 5, body: body))
    }

    @Test("the system resolver finds localhost on loopback (so a name is checked by what it resolves to)")
    func resolves() async throws {
        let addresses = try await WebhookSender.resolve("localhost", port: 443)
        #expect(!addresses.isEmpty && addresses.allSatisfy(\.isLoopback), "\(addresses)")
    }
}
