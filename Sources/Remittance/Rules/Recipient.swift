import NzilaValues

/// Who receives a remittance and where, validated per payout method (issue 8): a mobile-money number
/// of a country that pays out in the corridor's currency, with its operator; a bank code and account;
/// or, for cash pickup, the identity document the recipient will show.
public struct Recipient: Sendable, Equatable, Codable {
    public let name: String
    public let method: String
    public let country: String
    public let msisdn: String?
    public let mobileOperator: String?
    public let bankCode: String?
    public let accountNumber: String?
    public let idType: String?
    public let idNumber: String?

    public init(
        name: String, method: String, country: String, msisdn: String?, mobileOperator: String?, bankCode: String?, accountNumber: String?,
        idType: String?, idNumber: String?
    ) {
        self.name = name
        self.method = method
        self.country = country
        self.msisdn = msisdn
        self.mobileOperator = mobileOperator
        self.bankCode = bankCode
        self.accountNumber = accountNumber
        self.idType = idType
        self.idNumber = idNumber
    }
}

public enum RecipientRules {
    /// Mobile numbering by country: calling code and national significant number length.
    public struct Numbering: Sendable {
        public let callingCode: String
        public let digits: Int
        public let operators: Set<String>
    }

    /// Countries that receive each corridor currency, and their mobile numbering.
    public static let countries: [String: [String: Numbering]] = [
        "NGN": ["NG": Numbering(callingCode: "234", digits: 10, operators: ["mtn", "airtel", "glo", "9mobile"])],
        "GHS": ["GH": Numbering(callingCode: "233", digits: 9, operators: ["mtn", "telecel", "airteltigo"])],
        "KES": ["KE": Numbering(callingCode: "254", digits: 9, operators: ["safaricom", "airtel"])],
        "UGX": ["UG": Numbering(callingCode: "256", digits: 9, operators: ["mtn", "airtel"])],
        "RWF": ["RW": Numbering(callingCode: "250", digits: 9, operators: ["mtn", "airtel"])],
        "CDF": ["CD": Numbering(callingCode: "243", digits: 9, operators: ["vodacom", "airtel", "orange", "africell"])],
        "ZAR": ["ZA": Numbering(callingCode: "27", digits: 9, operators: ["vodacom", "mtn", "cell_c", "telkom"])],
        "MAD": ["MA": Numbering(callingCode: "212", digits: 9, operators: ["maroc_telecom", "orange", "inwi"])],
        "XOF": [
            "SN": Numbering(callingCode: "221", digits: 9, operators: ["orange", "free", "expresso", "wave"]),
            "CI": Numbering(callingCode: "225", digits: 10, operators: ["orange", "mtn", "moov", "wave"]),
            "ML": Numbering(callingCode: "223", digits: 8, operators: ["orange", "moov"]),
            "BF": Numbering(callingCode: "226", digits: 8, operators: ["orange", "moov"]),
            "BJ": Numbering(callingCode: "229", digits: 10, operators: ["mtn", "moov"]),
            "TG": Numbering(callingCode: "228", digits: 8, operators: ["togocom", "moov"]),
            "NE": Numbering(callingCode: "227", digits: 8, operators: ["airtel", "moov", "zamani"]),
        ],
        "XAF": [
            "CM": Numbering(callingCode: "237", digits: 9, operators: ["mtn", "orange"]),
            "GA": Numbering(callingCode: "241", digits: 8, operators: ["airtel", "moov"]),
            "CG": Numbering(callingCode: "242", digits: 9, operators: ["mtn", "airtel"]),
            "TD": Numbering(callingCode: "235", digits: 8, operators: ["airtel", "moov"]),
            "CF": Numbering(callingCode: "236", digits: 8, operators: ["orange", "telecel"]),
        ],
    ]

    static let idTypes: Set<String> = ["passport", "national_id", "drivers_licence", "voter_card"]

    /// Every field error at once, named `recipient.<field>`.
    public static func validate(
        name rawName: String?, method: String, receiveCurrency: String, country rawCountry: String?, msisdn: String?, mobileOperator: String?,
        bankCode: String?, accountNumber: String?, idType: String?, idNumber: String?
    ) throws(RuleError) -> Recipient {
        var errors: [FieldError] = []
        let name = rawName.flatMap { Validate.name($0, field: "recipient.name").get(into: &errors) }
        if rawName == nil { errors.append(FieldError(field: "recipient.name", message: "is required")) }
        let allowed = countries[receiveCurrency] ?? [:]
        let country = rawCountry?.uppercased()
        if country == nil || allowed[country!] == nil {
            errors.append(FieldError(field: "recipient.country", message: "must be one of \(allowed.keys.sorted().joined(separator: ", ")) for \(receiveCurrency)"))
        }
        func digitsOnly(_ text: String?) -> String? { text?.filter { !$0.isWhitespace && $0 != "-" } }
        switch method {
        case "mobile_money":
            if let country, let plan = allowed[country] {
                let number = digitsOnly(msisdn) ?? ""
                let national = number.hasPrefix("+\(plan.callingCode)") ? String(number.dropFirst(plan.callingCode.count + 1)) : ""
                if national.count != plan.digits || !national.allSatisfy(\.isASCIIDigit) || national.hasPrefix("0") {
                    errors.append(FieldError(field: "recipient.msisdn", message: "must be +\(plan.callingCode) followed by \(plan.digits) digits"))
                }
                if !plan.operators.contains(mobileOperator ?? "") {
                    errors.append(FieldError(field: "recipient.mobile_operator", message: "must be one of \(plan.operators.sorted().joined(separator: ", "))"))
                }
            }
        case "bank_deposit":
            if !(bankCode.map { (3...11).contains($0.count) && $0.allSatisfy { $0.isASCIIDigit || ($0.isLetter && $0.isASCII) } } ?? false) {
                errors.append(FieldError(field: "recipient.bank_code", message: "must be 3 to 11 letters or digits (a bank or SWIFT code)"))
            }
            if !(digitsOnly(accountNumber).map { (6...20).contains($0.count) && $0.allSatisfy(\.isASCIIDigit) } ?? false) {
                errors.append(FieldError(field: "recipient.account_number", message: "must be 6 to 20 digits"))
            }
        case "cash_pickup":
            if !idTypes.contains(idType ?? "") {
                errors.append(FieldError(field: "recipient.id_type", message: "must be one of \(idTypes.sorted().joined(separator: ", "))"))
            }
            if !(idNumber.map { (5...30).contains($0.count) && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" } } ?? false) {
                errors.append(FieldError(field: "recipient.id_number", message: "must be 5 to 30 letters, digits or hyphens"))
            }
        default:
            errors.append(FieldError(field: "method", message: "must be mobile_money, bank_deposit or cash_pickup"))
        }
        guard errors.isEmpty, let name, let country else { throw RuleError.invalid(errors) }
        return Recipient(
            name: name, method: method, country: country, msisdn: method == "mobile_money" ? digitsOnly(msisdn) : nil,
            mobileOperator: method == "mobile_money" ? mobileOperator : nil, bankCode: method == "bank_deposit" ? bankCode?.uppercased() : nil,
            accountNumber: method == "bank_deposit" ? digitsOnly(accountNumber) : nil, idType: method == "cash_pickup" ? idType : nil,
            idNumber: method == "cash_pickup" ? idNumber?.uppercased() : nil)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
