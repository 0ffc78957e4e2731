import Ledger
import Foundation
import NzilaCore
import Remittance
import NzilaPartners
import Testing

@Suite("Remittance journals")
struct RemittanceJournalTests {
    static func id() -> AccountID { AccountID(UUID()) }
    static let accounts = RemittanceJournals.Accounts(
        clearingSend: id(), feeIncome: id(), cashSend: id(), cashReceive: id(), clearingReceive: id(), spreadIncome: id(), settlement: id())
    static let ngn = Currency(code: "NGN")!

    func member(balance: Int64, held: Int64 = 0) -> AccountSnapshot {
        AccountSnapshot(id: Self.id(), memberID: MemberID(UUID()), currency: .cad, status: .open, balanceMinor: balance, heldMinor: held, floorMinor: 0)
    }

    @Test("funding, conversion and delivery each balance per currency, and leave clearing at zero in both currencies")
    func lifecycle() throws {
        let payer = member(balance: 20_000)
        let send = Money(minorUnits: 10_000, currency: .cad)
        let fee = Money(minorUnits: 349, currency: .cad)
        let receive = Money(minorUnits: 11_142_364, currency: Self.ngn)
        let spread = Money(minorUnits: 169_681, currency: Self.ngn)
        let plans = [
            try RemittanceJournals.funding(payer: payer, send: send, fee: fee, accounts: Self.accounts, memo: "t"),
            RemittanceJournals.conversion(send: send, receive: receive, spread: spread, accounts: Self.accounts, memo: "t"),
            RemittanceJournals.delivery(receive: receive, accounts: Self.accounts, memo: "t"),
        ]
        var balances: [AccountID: [String: Int64]] = [:]
        for plan in plans {
            for currency in Set(plan.legs.map(\.amount.currency)) {
                #expect(plan.legs.filter { $0.amount.currency == currency }.reduce(0) { $0 + $1.amount.minorUnits } == 0, "\(plan.kind) balances in \(currency)")
            }
            for leg in plan.legs { balances[leg.account, default: [:]][leg.amount.currency.code, default: 0] += leg.amount.minorUnits }
        }
        #expect(balances[Self.accounts.clearingSend]?["CAD"] == 0 && balances[Self.accounts.clearingReceive]?["NGN"] == 0)
        #expect(balances[payer.id]?["CAD"] == -10_349 && balances[Self.accounts.feeIncome]?["CAD"] == 349)
        #expect(balances[Self.accounts.spreadIncome]?["NGN"] == 169_681 && balances[Self.accounts.settlement]?["NGN"] == 11_142_364)
        #expect(balances[Self.accounts.cashReceive]?["NGN"] == -(11_142_364 + 169_681), "cash pays out at the mid rate")
    }

    @Test("a payer below send + fee, with holds counted, or frozen, is refused; no fee leg when the fee is zero")
    func refusals() throws {
        let send = Money(minorUnits: 10_000, currency: .cad)
        let fee = Money(minorUnits: 349, currency: .cad)
        #expect(throws: PostingError.self) { try RemittanceJournals.funding(payer: member(balance: 10_348), send: send, fee: fee, accounts: Self.accounts, memo: "") }
        #expect(throws: PostingError.self) { try RemittanceJournals.funding(payer: member(balance: 20_000, held: 10_000), send: send, fee: fee, accounts: Self.accounts, memo: "") }
        let frozen = AccountSnapshot(id: Self.id(), memberID: nil, currency: .cad, status: .frozen, balanceMinor: 99_999, floorMinor: 0)
        #expect(throws: PostingError.self) { try RemittanceJournals.funding(payer: frozen, send: send, fee: fee, accounts: Self.accounts, memo: "") }
        let exact = try RemittanceJournals.funding(payer: member(balance: 10_349), send: send, fee: fee, accounts: Self.accounts, memo: "")
        #expect(exact.legs.count == 3)
        let free = try RemittanceJournals.funding(payer: member(balance: 10_000), send: send, fee: Money(minorUnits: 0, currency: .cad), accounts: Self.accounts, memo: "")
        #expect(free.legs.count == 2)
        let noSpread = RemittanceJournals.conversion(send: send, receive: Money(minorUnits: 5, currency: Self.ngn), spread: Money(minorUnits: 0, currency: Self.ngn), accounts: Self.accounts, memo: "")
        #expect(noSpread.legs.count == 4)
    }
}

@Suite("Circuit breaker")
struct CircuitBreakerTests {
    @Test("trips at the failure share once enough calls are known, stays open for its cooldown, then one trial call decides")
    func trips() {
        var breaker = CircuitBreaker(window: 10, minimumCalls: 4, thresholdBps: 5_000, cooldownMs: 1_000)
        for _ in 0..<3 { breaker.record(failure: true, nowMs: 0) }
        #expect(breaker.state == .closed, "three calls are too few to judge")
        breaker.record(failure: false, nowMs: 0)
        #expect(breaker.state == .open(untilMs: 1_000), "3 of 4 failed")
        var allowed = breaker.allows(nowMs: 999)
        #expect(!allowed)
        allowed = breaker.allows(nowMs: 1_000)
        #expect(allowed && breaker.state == .halfOpen)
        breaker.record(failure: true, nowMs: 1_000)
        #expect(breaker.state == .open(untilMs: 2_000), "the trial failed")
        allowed = breaker.allows(nowMs: 2_000)
        #expect(allowed)
        breaker.record(failure: false, nowMs: 2_000)
        allowed = breaker.allows(nowMs: 2_001)
        #expect(breaker.state == .closed && allowed)
    }

    @Test("under the threshold, and with old failures pushed out of the window, it stays closed")
    func window() {
        var breaker = CircuitBreaker(window: 4, minimumCalls: 4, thresholdBps: 7_500, cooldownMs: 1_000)
        for failure in [true, true, false, false, false, false, true, true] { breaker.record(failure: failure, nowMs: 0) }
        #expect(breaker.state == .closed && breaker.outcomes.count == 4, "2 of the last 4 is under 75%")
        breaker.record(failure: true, nowMs: 0)
        #expect(breaker.state == .open(untilMs: 1_000), "3 of the last 4")
    }
}

@Suite("Webhook signatures")
struct WebhookSignatureTests {
    let secret = "5e3c0a1f9b7d4e2a8c6b0f1e3d5a7c9b5e3c0a1f9b7d4e2a8c6b0f1e3d5a7c9b"
    let body = Data(#"{"event_id":"evt-1","remittance_id":"x","amount":10349,"currency":"CAD"}"#.utf8)

    @Test("a correct signature inside the window passes, at both edges of the window")
    func valid() {
        let header = WebhookSignature.header(secret: secret, timestamp: 1_700_000_000, body: body)
        for now: Int64 in [1_700_000_000, 1_700_000_300, 1_699_999_700] {
            #expect(WebhookSignature.verify(header: header, secret: secret, body: body, nowSeconds: now) == nil)
        }
    }

    @Test("forgery, another body, another secret, a stale timestamp, a malformed or missing header are refused")
    func refused() {
        let header = WebhookSignature.header(secret: secret, timestamp: 1_700_000_000, body: body)
        let check = { (header: String?, secret: String, body: Data, now: Int64) in WebhookSignature.verify(header: header, secret: secret, body: body, nowSeconds: now) }
        #expect(check(header, secret, Data("{}".utf8), 1_700_000_000) == .some(.mismatch))
        #expect(check(header, String(secret.reversed()), body, 1_700_000_000) == .some(.mismatch))
        #expect(check(header, secret, body, 1_700_000_301) == .some(.outsideWindow))
        #expect(check(header, secret, body, 1_699_999_699) == .some(.outsideWindow))
        #expect(check(nil, secret, body, 1_700_000_000) == .some(.missing))
        #expect(check("t=1700000000", secret, body, 1_700_000_000) == .some(.malformed))
        #expect(check("t=1700000000,v1=zz", secret, body, 1_700_000_000) == .some(.malformed))
        let retimed = header.replacingOccurrences(of: "t=1700000000", with: "t=1700000100")
        #expect(check(retimed, secret, body, 1_700_000_100) == .some(.mismatch), "the timestamp is signed too")
    }
}

@Suite("Sandbox partners and routing")
struct SandboxPartnerTests {
    func instruction(_ name: String) -> PayoutInstruction {
        PayoutInstruction(
            reference: UUID().uuidString, corridor: "CAD-NGN", amount: Money(minorUnits: 1_000, currency: Currency(code: "NGN")!),
            recipient: Recipient(name: name, method: "mobile_money", country: "NG", msisdn: "+2348031234567", mobileOperator: "mtn",
                                 bankCode: nil, accountNumber: nil, idType: nil, idNumber: nil))
    }

    @Test("behaviour by recipient name; each reference is paid at most once however often it is asked")
    func behaviour() async throws {
        let partner = SandboxPartner(name: "sandbox-test", methods: ["mobile_money"], failWord: "testfail")
        let plain = instruction("Ada Bello")
        guard case .paid = try await partner.disburse(plain) else { Issue.record("plain pays"); return }
        guard case .paid = try await partner.disburse(plain) else { Issue.record("asked again, same answer"); return }
        #expect(partner.paidCount == 1 && partner.calls(plain.reference) == 2)
        if case .declined = try await partner.disburse(instruction("Ada Testfail")) {} else { Issue.record("its fail word declines") }
        if case .declined = try await partner.disburse(instruction("Ada Declined")) {} else { Issue.record("declined declines") }
        let slow = instruction("Ada Slowpay")
        #expect(try await partner.disburse(slow) == .pending)
        if case .paid = try await partner.disburse(slow) {} else { Issue.record("pays on the second ask") }
        let lost = instruction("Ada Timeout")
        await #expect(throws: SandboxPartner.Unreachable.self) { try await partner.disburse(lost) }
        if case .paid = try await partner.disburse(lost) {} else { Issue.record("answers after the timeout") }
        #expect(partner.paidCount == 3)
    }

    @Test("routing follows the corridor's order, skips partners that do not serve the method, were tried, or are tripped")
    func routing() {
        let momo = SandboxPartner(name: "a", methods: ["mobile_money"], failWord: "x")
        let cash = SandboxPartner(name: "b", methods: ["mobile_money", "cash_pickup"], failWord: "y")
        let partners = PayoutPartners([momo, cash], breaker: CircuitBreaker(window: 2, minimumCalls: 2, thresholdBps: 10_000, cooldownMs: 60_000), clockMs: { 0 })
        #expect(partners.next(corridorPartners: ["a", "b"], method: "mobile_money", tried: [])?.name == "a")
        #expect(partners.next(corridorPartners: ["b", "a"], method: "mobile_money", tried: [])?.name == "b")
        #expect(partners.next(corridorPartners: ["a", "b"], method: "cash_pickup", tried: [])?.name == "b")
        #expect(partners.next(corridorPartners: ["a", "b"], method: "mobile_money", tried: ["a"])?.name == "b")
        #expect(partners.next(corridorPartners: ["a"], method: "mobile_money", tried: ["a"]) == nil)
        #expect(partners.next(corridorPartners: ["a", "z"], method: "bank_deposit", tried: []) == nil)
        partners.record("a", failure: true)
        partners.record("a", failure: true)
        #expect(partners.next(corridorPartners: ["a", "b"], method: "mobile_money", tried: [])?.name == "b", "a is tripped")
    }

    @Test("a connection the registry narrowed to other tenants is passed over for this one, as a tripped one is")
    func narrowed() {
        let momo = SandboxPartner(name: "flw-a", methods: ["mobile_money"], failWord: "x")
        let cash = SandboxPartner(name: "sandbox-cash", methods: ["mobile_money", "cash_pickup"], failWord: "y")
        let connection = PartnerConnection(
            name: "flw-a", kind: "transfers", baseURL: "https://api.example.com", credential: .environment("K"), methods: ["mobile_money"],
            timeoutMs: 1_000, attempts: 1, tenants: ["cu_one"])
        let partners = PayoutPartners([momo, cash], tenants: ConnectionTenants([connection]))
        #expect(partners.next(corridorPartners: ["flw-a", "sandbox-cash"], method: "mobile_money", tried: [], tenant: "cu_one")?.name == "flw-a")
        #expect(partners.next(corridorPartners: ["flw-a", "sandbox-cash"], method: "mobile_money", tried: [], tenant: "cu_two")?.name == "sandbox-cash")
        #expect(partners.next(corridorPartners: ["flw-a"], method: "mobile_money", tried: [], tenant: "cu_two") == nil)
    }

    @Test("a reload serves the registry's new connections; a partner keeps its breaker, a new one starts closed")
    func adopt() {
        let breaker = CircuitBreaker(window: 2, minimumCalls: 2, thresholdBps: 10_000, cooldownMs: 60_000)
        let a = SandboxPartner(name: "a", methods: ["mobile_money"], failWord: "x")
        let partners = PayoutPartners([a], breaker: breaker, clockMs: { 0 })
        partners.record("a", failure: true)
        partners.record("a", failure: true)
        let b = SandboxPartner(name: "b", methods: ["mobile_money"], failWord: "y")
        partners.adopt(PayoutPartners([a, b], callbackSecrets: ["b": "whsec"]))
        #expect(partners.next(corridorPartners: ["a", "b"], method: "mobile_money", tried: [])?.name == "b", "a is still tripped")
        #expect(partners.callbackSecret("b") == "whsec" && partners.names == ["a", "b"])
        // A removed connection is retired: never chosen again, still there for what is under way with it.
        partners.adopt(PayoutPartners([a]))
        #expect(partners.next(corridorPartners: ["b"], method: "mobile_money", tried: []) == nil && partners.names == ["a"])
        #expect(partners.partner(named: "b")?.name == "b", "an attempt in flight with b still reaches it")
        #expect(partners.callbackSecret("b") == "whsec", "and its callbacks still verify")
        // Back in the registry without a callback secret: the registry's word, no secret.
        partners.adopt(PayoutPartners([a, b]))
        #expect(partners.callbackSecret("b") == nil)
        // One the registry still names but this process could not build again keeps serving.
        let c = SandboxPartner(name: "c", methods: ["mobile_money"], failWord: "z")
        partners.adopt(PayoutPartners([c]))
        partners.adopt(PayoutPartners([]), keeping: ["c"])
        #expect(partners.next(corridorPartners: ["c"], method: "mobile_money", tried: [])?.name == "c")
    }
}
