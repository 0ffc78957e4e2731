import Banking
import Foundation
import NzilaPartners
import Testing

@Suite("Bank linking rules")
struct BankLinkRuleTests {
    @Test("balances are read from their own digits: the amount keys' numbers become text, nothing else changes")
    func exactBalances() throws {
        let raw = #"{"accounts":[{"account_id":"a1","balances":{"available": 110.94,"current":-0.1,"limit":null,"iso_currency_code":"CAD"},"name":"\"available\": 5","mask":"0000","count":3}],"total":12.5}"#
        let text = String(decoding: PartnerHTTP.numbersAsText(Data(raw.utf8), keys: ["available", "current", "limit"]), as: UTF8.self)
        #expect(text.contains(#""available": "110.94""#) && text.contains(#""current":"-0.1""#) && text.contains(#""limit":null"#), "\(text)")
        #expect(text.contains(#""name":"\"available\": 5""#), "text inside a string is left alone: \(text)")
        #expect(text.contains(#""count":3"#) && text.contains(#""total":12.5"#), "other numbers are left alone: \(text)")
        let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        #expect(parsed != nil, "still JSON")
        // A key written with escapes is the same key.
        let escaped = PartnerHTTP.numbersAsText(Data(#"{"\u0061vailable": 5.25, "x\"y": 1}"#.utf8), keys: ["available", "x\"y"])
        #expect(String(decoding: escaped, as: UTF8.self) == #"{"\u0061vailable": "5.25", "x\"y": "1"}"#)
        // 0.1 + 0.2 is not 0.3 in binary floating point; read as text, 1234567890123.45 keeps every cent.
        let big = PartnerHTTP.numbersAsText(Data(#"{"available":1234567890123.45}"#.utf8), keys: ["available"])
        #expect(String(decoding: big, as: UTF8.self) == #"{"available":"1234567890123.45"}"#)
    }

    @Test("only the available balance covers a pull; a bank that gives none cannot say; public tokens are printable and bounded")
    func rules() {
        #expect(BankLinkRules.covers(available: 10_000, amount: 10_000) == true)
        #expect(BankLinkRules.covers(available: 9_999, amount: 10_000) == false)
        #expect(BankLinkRules.covers(available: -50, amount: 1) == false)
        #expect(BankLinkRules.covers(available: nil, amount: 1) == nil)
        #expect(BankLinkRules.validPublicToken("public-sandbox-5c224a01-8314-4491-a06f-39e193d5cddc"))
        #expect(!BankLinkRules.validPublicToken(""))
        #expect(!BankLinkRules.validPublicToken("public token"))
        #expect(!BankLinkRules.validPublicToken(String(repeating: "a", count: 501)))
        #expect(!BankLinkRules.validPublicToken("public-\u{0}"))
    }

    @Test("a connection limited to named tenants is theirs only; one the registry does not limit is everyone's")
    func connectionTenants() throws {
        let limited = PartnerConnection(
            name: "plaid-cu1", kind: "bank-links", baseURL: "https://production.plaid.com", credential: try #require(CredentialReference("env:P")),
            methods: [], timeoutMs: 1000, attempts: 1, tenants: ["cu1"])
        let open = PartnerConnection(
            name: "plaid-all", kind: "bank-links", baseURL: "https://production.plaid.com", credential: try #require(CredentialReference("env:P")),
            methods: [], timeoutMs: 1000, attempts: 1)
        let tenants = ConnectionTenants([limited, open])
        #expect(tenants.allows("plaid-cu1", tenant: "cu1") && !tenants.allows("plaid-cu1", tenant: "cu2"))
        #expect(tenants.allows("plaid-all", tenant: "cu2") && tenants.allows("sandbox-momo", tenant: "cu2"))
    }
}
