import NzilaCore
import Remittance
import Testing

@Suite("Remittance order states")
struct OrderStateTests {
    static let legal: Set<String> = [
        "created>awaiting_funding", "created>cancelled", "awaiting_funding>funded", "awaiting_funding>cancelled", "funded>screening",
        "screening>held", "screening>converting", "held>released", "held>rejected", "held>cancelled", "released>converting",
        "rejected>refunded", "converting>disbursing", "converting>failed", "disbursing>delivered", "disbursing>failed", "failed>refunded",
    ]

    @Test("every pair of states: exactly DOMAIN.md's transitions are legal", arguments: OrderState.allCases)
    func table(from: OrderState) {
        for to in OrderState.allCases {
            let legal = Self.legal.contains("\(from.rawValue)>\(to.rawValue)")
            switch from.transition(to: to) {
            case .success: #expect(legal, "\(from) → \(to) should be refused")
            case .failure(let refusal): #expect(!legal && refusal == .illegal(from: from, to: to), "\(from) → \(to) should be legal")
            }
        }
    }

    @Test("refunds: a rejection and a failure end refunded; cancelling a held order refunds; finals go nowhere; events are named")
    func refunds() throws {
        #expect(try OrderState.held.transition(to: .cancelled).get().refund)
        #expect(try !OrderState.awaitingFunding.transition(to: .cancelled).get().refund)
        #expect(try OrderState.rejected.transition(to: .refunded).get().refund && OrderState.failed.transition(to: .refunded).get().refund)
        #expect(OrderState.allCases.filter(\.isFinal) == [.delivered, .refunded, .cancelled])
        #expect(!OrderState.awaitingFunding.fundsMoved && OrderState.funded.fundsMoved && OrderState.held.fundsMoved)
        #expect(OrderState.awaitingFunding.event == "remittance.awaiting_funding.v1")
    }
}

@Suite("Recipients per payout method")
struct RecipientTests {
    func validate(method: String, currency: String = "NGN", country: String? = "NG", msisdn: String? = nil, op: String? = nil, bank: String? = nil,
                  account: String? = nil, idType: String? = nil, idNumber: String? = nil, name: String? = "Chidi Okeke") -> Result<Recipient, RuleError> {
        Result { () throws(RuleError) -> Recipient in
            try RecipientRules.validate(name: name, method: method, receiveCurrency: currency, country: country, msisdn: msisdn, mobileOperator: op,
                                        bankCode: bank, accountNumber: account, idType: idType, idNumber: idNumber)
        }
    }

    func fields(_ result: Result<Recipient, RuleError>) -> Set<String> {
        if case .failure(let problem) = result { return Set(problem.errors.map(\.field)) }
        return []
    }

    @Test("mobile money: the country's calling code and length, no trunk zero, a known operator of that country")
    func mobileMoney() throws {
        #expect(try validate(method: "mobile_money", msisdn: "+234 803 123 4567", op: "mtn").get().msisdn == "+2348031234567")
        #expect(fields(validate(method: "mobile_money", msisdn: "+23480312345", op: "mtn")) == ["recipient.msisdn"])
        #expect(fields(validate(method: "mobile_money", msisdn: "+2340803123456", op: "mtn")) == ["recipient.msisdn"])
        #expect(fields(validate(method: "mobile_money", msisdn: "+2348031234567", op: "safaricom")) == ["recipient.mobile_operator"])
        // XOF is paid in several countries, each with its own numbering.
        #expect(try validate(method: "mobile_money", currency: "XOF", country: "SN", msisdn: "+221771234567", op: "orange").get().country == "SN")
        #expect(try validate(method: "mobile_money", currency: "XOF", country: "ML", msisdn: "+22370123456", op: "orange").get().country == "ML")
        #expect(fields(validate(method: "mobile_money", currency: "XOF", country: "NG", msisdn: "+2348031234567", op: "mtn")) == ["recipient.country"])
    }

    @Test("bank deposit and cash pickup: their own fields; a bad method and a missing name are named too")
    func others() throws {
        #expect(try validate(method: "bank_deposit", bank: "gtbinglaxxx", account: "0123456789").get().bankCode == "GTBINGLAXXX")
        #expect(fields(validate(method: "bank_deposit", bank: "x", account: "12ab")) == ["recipient.bank_code", "recipient.account_number"])
        #expect(try validate(method: "cash_pickup", idType: "passport", idNumber: "a1234567").get().idNumber == "A1234567")
        #expect(fields(validate(method: "cash_pickup", idType: "library_card", idNumber: "1")) == ["recipient.id_type", "recipient.id_number"])
        #expect(fields(validate(method: "pigeon", name: nil)) == ["recipient.name", "method"])
    }
}
