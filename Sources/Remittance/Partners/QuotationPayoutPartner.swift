import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NzilaCore
import NzilaPartners

/// A real partner's payout API over HTTP in the shape of Thunes' Money Transfer API v2, for cash pickup, bank deposit
/// and mobile wallets: a **quotation** fixes the amount the recipient gets, a **transaction** is created from it with the
/// sender and beneficiary, then **confirmed**; the partner pays and reports the transaction's status, by callback to the
/// `callback_url` given with the transaction (see `PayoutCallbackRoutes`) and on request
/// (`GET …/transactions/ext-{external_id}`). HTTP Basic authentication with the API key and secret (the credential is
/// `key:secret`).
///
/// The order id is the `external_id` of both the quotation and the transaction, which the partner keeps unique: every
/// call starts by reading the transaction back under it, so asking again after a crash, a timeout or a callback finds
/// what was done and never creates a second payout. Amounts travel in major units as the API wants them, written
/// exactly from integer minor units (`Money.formatted`, no rounding) and the quotation's amount is checked back against
/// the order's before anything is confirmed: a partner that quotes the recipient another amount is declined, not paid.
///
/// Status classes (Thunes): 1 created, 2 confirmed, 5 submitted, 6 available (cash waiting at the counter) → pending;
/// 7 completed → paid; 3 rejected, 4 cancelled, 9 declined, 8 reversed → declined (nothing paid under the reference).
public struct QuotationPayoutPartner: PayoutPartner, PartnerCheck {
    public let name: String
    public let methods: Set<String>
    let baseURL: String
    let http: PartnerHTTP
    /// The partner's payer (paying bank, wallet or cash network) by `CORRIDOR/method` (`CAD-XOF/cash_pickup`).
    let payers: [String: Int]

    public init(
        name: String, methods: Set<String>, baseURL: String, credential: String, payers: [String: Int], timeout: TimeAmount = .seconds(10),
        attempts: Int = 3, client: HTTPClient = .shared
    ) {
        self.name = name
        self.methods = methods
        self.baseURL = (baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL) + "/v2/money-transfer"
        self.payers = payers
        let basic = Data(credential.utf8).base64EncodedString()
        self.http = PartnerHTTP(name: name, authorization: "Basic \(basic)", timeout: timeout, attempts: attempts, client: client)
    }

    /// A transaction as the API returns it and as its callbacks carry it.
    public struct Transaction: Decodable, Sendable {
        public let id: Int64
        public let status: String
        public let statusMessage: String?
        public let statusClass: String?
        public let externalId: String?

        /// What the status says about the payout.
        public var outcome: PayoutOutcome? {
            switch statusClass ?? String(status.prefix(1)) {
            case "7": .paid(transaction: String(id))
            case "1", "2", "5", "6": .pending
            case "3", "4", "8", "9": .declined(reason: "the partner's transaction \(id) is \(statusMessage ?? status)")
            default: nil
            }
        }
    }

    struct Quotation: Decodable {
        struct Side: Decodable {
            let amount: Decimal
            let currency: String
        }

        let id: Int64
        let destination: Side
    }

    struct Errors: Decodable {
        struct Entry: Decodable {
            let code: String
            let message: String
        }

        let errors: [Entry]
    }

    /// The partner's code for an external id it has already seen.
    static let externalIDUsed = "1003001"

    public func disburse(_ instruction: PayoutInstruction) async throws -> PayoutOutcome {
        let reference = instruction.reference
        if let known = try await transaction(external: reference) { return try await settle(known) }
        guard let payer = payers["\(instruction.corridor)/\(instruction.recipient.method)"] else {
            return .declined(reason: "\(name) has no payer for \(instruction.corridor) by \(instruction.recipient.method)")
        }
        // 1. The quotation: the recipient gets exactly the order's amount (DESTINATION_AMOUNT).
        let sendCurrency = String(instruction.corridor.prefix(3))
        let quoted = try await post("/quotations", [
            "external_id": reference, "payer_id": payer, "mode": "DESTINATION_AMOUNT", "transaction_type": "C2C",
            "source": ["amount": NSNull(), "currency": sendCurrency, "country_iso_code": "CAN"] as [String: Any],
            "destination": ["amount": NSDecimalNumber(string: instruction.amount.formatted), "currency": instruction.amount.currency.code] as [String: Any],
        ])
        let quotation: Quotation
        switch quoted {
        case .answer(let data): quotation = try decode(Quotation.self, data)
        case .seen: quotation = try decode(Quotation.self, try await get("/quotations/ext-\(reference)") ?? Data())
        case .refused(let reason): return .declined(reason: reason)
        }
        guard quotation.destination.currency == instruction.amount.currency.code,
              (try? Money.parse(NSDecimalNumber(decimal: quotation.destination.amount).stringValue, currency: instruction.amount.currency)) == instruction.amount
        else {
            return .declined(reason: "\(name) quoted the recipient \(quotation.destination.amount) \(quotation.destination.currency), not \(instruction.amount)")
        }
        // 2. The transaction, with who sends and who receives.
        var body: [String: Any] = [
            "external_id": reference, "purpose_of_remittance": "FAMILY_SUPPORT",
            "credit_party_identifier": creditParty(instruction.recipient), "beneficiary": beneficiary(instruction.recipient),
        ]
        if let sender = instruction.sender {
            let (first, last) = Self.split(sender.name)
            body["sender"] = ["firstname": first, "lastname": last, "country_iso_code": Self.alpha3[sender.country] ?? sender.country]
        }
        body["callback_url"] = instruction.callbackURL
        let created: Transaction
        switch try await post("/quotations/\(quotation.id)/transactions", body) {
        case .answer(let data): created = try decode(Transaction.self, data)
        case .seen:
            guard let known = try await transaction(external: reference) else { throw unavailable("lost the transaction it said it had") }
            created = known
        case .refused(let reason): return .declined(reason: reason)
        }
        // 3. Confirmed: the partner pays.
        return try await settle(created)
    }

    /// A transaction read back: confirmed when it was only created, then what its status says.
    func settle(_ transaction: Transaction) async throws -> PayoutOutcome {
        var transaction = transaction
        if (transaction.statusClass ?? String(transaction.status.prefix(1))) == "1" {
            switch try await post("/transactions/\(transaction.id)/confirm", [:]) {
            case .answer(let data): transaction = try decode(Transaction.self, data)
            case .seen: break
            case .refused(let reason): return .declined(reason: reason)
            }
        }
        guard let outcome = transaction.outcome else { throw unavailable("answered with an unknown status") }
        return outcome
    }

    public func check() async throws -> Int {
        try await http.call(.GET, "\(baseURL)/balances", body: nil).status
    }

    /// The transaction the partner has under an external id (nil: none).
    func transaction(external reference: String) async throws -> Transaction? {
        guard let data = try await get("/transactions/ext-\(reference)") else { return nil }
        return try decode(Transaction.self, data)
    }

    func get(_ path: String) async throws -> Data? {
        let (status, data) = try await http.call(.GET, baseURL + path, body: nil)
        switch status {
        case 200..<300: return data
        case 404: return nil
        default: throw unavailable("answered HTTP \(status) to a read")
        }
    }

    enum Posted {
        case answer(Data)
        /// The partner already has this external id.
        case seen
        case refused(String)
    }

    func post(_ path: String, _ object: [String: Any]) async throws -> Posted {
        let body = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        let (status, data) = try await http.call(.POST, baseURL + path, body: body)
        if (200..<300).contains(status) { return .answer(data) }
        let errors = (try? PartnerHTTP.decoder.decode(Errors.self, from: data))?.errors ?? []
        if errors.contains(where: { $0.code == Self.externalIDUsed }) { return .seen }
        if status == 401 || status == 403 { throw unavailable("refused the credential (HTTP \(status))") }
        return .refused(errors.first.map { "\(name): \($0.message) (\($0.code))" } ?? "\(name) refused the payout (HTTP \(status))")
    }

    func decode<T: Decodable>(_ type: T.Type, _ data: Data) throws -> T {
        do { return try PartnerHTTP.decoder.decode(type, from: data) } catch { throw unavailable("answered with a body it could not read") }
    }

    func unavailable(_ what: String) -> HTTPPayoutPartner.Unavailable {
        HTTPPayoutPartner.Unavailable(description: "\(name) \(what)")
    }

    func creditParty(_ r: Recipient) -> [String: String] {
        var party: [String: String] = [:]
        party["msisdn"] = r.msisdn
        party["bank_account_number"] = r.accountNumber
        party["swift_bic_code"] = r.bankCode
        return party
    }

    func beneficiary(_ r: Recipient) -> [String: String] {
        let (first, last) = Self.split(r.name)
        var beneficiary = ["firstname": first, "lastname": last, "country_iso_code": Self.alpha3[r.country] ?? r.country]
        beneficiary["id_type"] = r.idType
        beneficiary["id_number"] = r.idNumber
        return beneficiary
    }

    /// Given names and the family name (the last word), as the API's firstname and lastname.
    static func split(_ name: String) -> (String, String) {
        let words = name.split(separator: " ").map(String.init)
        guard words.count > 1 else { return (name, name) }
        return (words.dropLast().joined(separator: " "), words.last!)
    }

    /// A country's ISO 3166 alpha-3 code, as the API names it (nil: not one the platform sends from or pays to).
    public static func alpha3Code(_ alpha2: String) -> String? { alpha3[alpha2] }

    /// ISO 3166 alpha-3 codes, which the API uses, of the countries the platform sends from and pays to.
    static let alpha3: [String: String] = [
        "CA": "CAN", "NG": "NGA", "GH": "GHA", "KE": "KEN", "UG": "UGA", "RW": "RWA", "CD": "COD", "ZA": "ZAF", "MA": "MAR",
        "SN": "SEN", "CI": "CIV", "ML": "MLI", "BF": "BFA", "BJ": "BEN", "TG": "TGO", "NE": "NER",
        "CM": "CMR", "GA": "GAB", "CG": "COG", "TD": "TCD", "CF": "CAF",
    ]
}
