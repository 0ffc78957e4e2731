import Foundation
@testable import NzilaCore
import Testing

@Suite("PII tokens")
struct PIITokenizerTests {
    @Test("a token has the shape of what it replaces, is the same for the same value under one key, and another under another")
    func shapes() throws {
        let one = PIITokenizer(), other = PIITokenizer()
        let name = one.token("Adaeze Okonkwo-Bello", kind: .text)
        #expect(name.count == 20 && name != "Adaeze Okonkwo-Bello")
        #expect(name.first!.isUppercase && name.dropFirst().prefix(5).allSatisfy(\.isLowercase) && Array(name)[6] == " " && Array(name)[14] == "-")
        #expect(one.token("Adaeze Okonkwo-Bello", kind: .text) == name && other.token("Adaeze Okonkwo-Bello", kind: .text) != name)
        let phone = one.token("+234 803 123 4567", kind: .text)
        #expect(phone.range(of: #"^\+\d{3} \d{3} \d{3} \d{4}$"#, options: .regularExpression) != nil, "\(phone)")
        let email = one.token("ada.bello@mail.example.ng", kind: .email)
        #expect(email.range(of: #"^[a-z]{3}\.[a-z]{5}@[a-z]{4}\.[a-z]{7}\.ng$"#, options: .regularExpression) != nil, "\(email)")
        #expect(one.token("$argon2id$v=19$m=19456", kind: .secret) == "tokenized")
        #expect(one.token("", kind: .text) == "" && one.token("Ọ̀ṣun", kind: .text).count == "Ọ̀ṣun".count)
    }

    @Test("in JSON, the personal fields are tokenized wherever nested; the rest is left as it was")
    func json() throws {
        let tokenizer = PIITokenizer()
        let value: [String: Any] = [
            "name": "Ada Bello", "country": "NG", "msisdn": "+2348031234567", "mobile_operator": "mtn",
            "matches": [["name": "ADA BELLO", "score": 0.42, "list": "ofac-sdn"]], "aliases": ["Ada B."],
        ]
        let out = try #require(tokenizer.tokenizeJSON(value) as? [String: Any])
        #expect(out["country"] as? String == "NG" && out["mobile_operator"] as? String == "mtn")
        #expect(out["name"] as? String == tokenizer.token("Ada Bello", kind: .text), "the same token as the column of the same value")
        #expect((out["msisdn"] as? String)?.count == 14 && out["msisdn"] as? String != "+2348031234567")
        let match = try #require((out["matches"] as? [[String: Any]])?.first)
        #expect(match["list"] as? String == "ofac-sdn" && match["score"] as? Double == 0.42 && match["name"] as? String != "ADA BELLO")
        #expect((out["aliases"] as? [String])?.first != "Ada B.")
    }
}
