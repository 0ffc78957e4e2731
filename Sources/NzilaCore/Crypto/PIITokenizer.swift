import Crypto
import Foundation

/// Format-preserving tokens for a non-production copy of a tenant (`nzila tenants export --tokenize-pii`): each
/// letter becomes a letter of the same case, each digit a digit, everything else stays, so a token looks like what it
/// replaces (a phone number stays a phone number, an email an email) and passes the same checks. Tokens come from
/// HMAC-SHA256 under a key made for one export and then forgotten: the same value gets the same token everywhere in
/// that export (joins and duplicates survive), another export gets other tokens, and nobody can reverse them.
public struct PIITokenizer: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        /// Letters and digits replaced (a name, an address, free text, a device id, a document number's hint).
        case text
        /// The local part and every domain label but the last replaced; `@` and dots kept.
        case email
        /// A secret (a password hash): replaced by a fixed text that is no secret.
        case secret
    }

    let key: SymmetricKey

    public init(key: SymmetricKey = SymmetricKey(size: .bits256)) { self.key = key }

    /// The string fields of a JSON value that name or reach a person, tokenized wherever they are nested; a key is
    /// compared without case and underscores (`date_of_birth`, `dateOfBirth` and `DateOfBirth` alike).
    public static let personalKeys: Set<String> = [
        "name", "fullname", "firstname", "lastname", "middlename", "displayname", "aliases", "alias", "email", "phone", "msisdn",
        "accountnumber", "iban", "idnumber", "documentnumber", "address", "street", "line1", "line2", "city", "postalcode",
        "postcode", "dateofbirth", "dob", "birthdate", "deviceid", "query", "mask", "officialname", "hint", "normalizedname",
        "normalized", "subjectname", "matchedname", "recipientname", "sendername", "note", "notes", "memo", "summary", "reason",
    ]

    static func normalized(_ key: String) -> String { key.lowercased().replacingOccurrences(of: "_", with: "") }

    public func token(_ value: String, kind: Kind) -> String {
        switch kind {
        case .secret: return "tokenized"
        case .text: return replaced(value, salt: "text")
        case .email:
            guard let at = value.lastIndex(of: "@") else { return replaced(value, salt: "text") }
            let local = replaced(String(value[..<at]), salt: "email-local")
            var labels = value[value.index(after: at)...].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            for index in labels.indices.dropLast() { labels[index] = replaced(labels[index], salt: "email-domain") }
            return local + "@" + labels.joined(separator: ".")
        }
    }

    /// `json` (an object, an array, a string …) with the strings under `personalKeys` tokenized; the rest as it was.
    public func tokenizeJSON(_ json: Any, under key: String? = nil) -> Any {
        if let object = json as? [String: Any] {
            return object.reduce(into: [String: Any]()) { $0[$1.key] = tokenizeJSON($1.value, under: $1.key) }
        }
        if let array = json as? [Any] { return array.map { tokenizeJSON($0, under: key) } }
        if let text = json as? String, let key, Self.personalKeys.contains(Self.normalized(key)) {
            return token(text, kind: Self.normalized(key) == "email" ? .email : .text)
        }
        return json
    }

    /// Each letter and digit of `value` replaced by one drawn from HMAC-SHA256(key, salt | value), block after block.
    func replaced(_ value: String, salt: String) -> String {
        var stream: [UInt8] = []
        var block: UInt32 = 0
        func next() -> UInt8 {
            if stream.isEmpty {
                var message = Data("\(salt)|\(block)|".utf8)
                message.append(Data(value.utf8))
                stream = Array(HMAC<SHA256>.authenticationCode(for: message, using: key)).reversed()
                block += 1
            }
            return stream.removeLast()
        }
        var out = String.UnicodeScalarView()
        for scalar in value.unicodeScalars {
            let letters = "abcdefghijklmnopqrstuvwxyz".unicodeScalars.map { $0 }
            if scalar.properties.isLowercase, scalar.properties.isAlphabetic {
                out.append(letters[Int(next()) % 26])
            } else if scalar.properties.isUppercase, scalar.properties.isAlphabetic {
                out.append(contentsOf: String(letters[Int(next()) % 26]).uppercased().unicodeScalars)
            } else if ("0"..."9").contains(scalar) {
                out.append(Unicode.Scalar(UInt8(ascii: "0") + next() % 10))
            } else if scalar.properties.isAlphabetic {
                // A letter of a script without case (or a digit elsewhere): a lower-case Latin letter.
                out.append(letters[Int(next()) % 26])
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }
}
