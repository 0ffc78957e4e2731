/// An ISO 4217 currency the platform supports, with the exponent that fixes its minor unit.
public struct Currency: Hashable, Sendable, Codable, CustomStringConvertible {
    public let code: String
    /// Number of decimal places in one major unit: 2 for CAD (cents), 0 for XOF.
    public let exponent: Int

    /// The currencies of DOMAIN.md; the `reference.currencies` table holds the same list for SQL.
    public static let known: [String: Currency] = {
        let twoDecimals = ["CAD", "USD", "EUR", "GBP", "NGN", "GHS", "KES", "ZAR", "MAD", "CDF"]
        let noDecimals = ["XOF", "XAF", "UGX", "RWF"]
        var table: [String: Currency] = [:]
        for code in twoDecimals { table[code] = Currency(code: code, exponent: 2) }
        for code in noDecimals { table[code] = Currency(code: code, exponent: 0) }
        return table
    }()

    /// The platform's home currency: members send from it; limits and reports are in it.
    public static let cad = Currency(code: "CAD", exponent: 2)

    private init(code: String, exponent: Int) {
        self.code = code
        self.exponent = exponent
    }

    /// Looks a code up exactly (upper case, three letters); anything else is not a currency.
    public init?(code: String) {
        guard let known = Currency.known[code] else { return nil }
        self = known
    }

    public var description: String { code }

    public init(from decoder: any Decoder) throws {
        let code = try decoder.singleValueContainer().decode(String.self)
        guard let currency = Currency(code: code) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unsupported currency \(code)"))
        }
        self = currency
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(code)
    }
}

/// Why a money value could not be made or combined.
public enum MoneyError: Error, Equatable, Sendable {
    case currencyMismatch(Currency, Currency)
    case overflow
    case invalidAmount(String)
}

/// An amount in integer minor units of one currency; never a float.
public struct Money: Hashable, Sendable, Codable, CustomStringConvertible {
    public let minorUnits: Int64
    public let currency: Currency

    public init(minorUnits: Int64, currency: Currency) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    enum CodingKeys: String, CodingKey {
        case minorUnits = "amount"
        case currency
    }

    /// Adds two amounts of one currency; mixing currencies or overflowing throws instead of guessing.
    public func adding(_ other: Money) throws(MoneyError) -> Money {
        guard currency == other.currency else { throw .currencyMismatch(currency, other.currency) }
        let (sum, overflow) = minorUnits.addingReportingOverflow(other.minorUnits)
        guard !overflow else { throw .overflow }
        return Money(minorUnits: sum, currency: currency)
    }

    /// Parses a human decimal such as "125.50" into minor units, refusing more decimals than the
    /// currency has, so "1.005 CAD" is an error rather than a silent rounding.
    public static func parse(_ text: String, currency: Currency) throws(MoneyError) -> Money {
        var body = Substring(text)
        var negative = false
        if body.first == "-" {
            negative = true
            body = body.dropFirst()
        }
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = parts.first, !whole.isEmpty, whole.allSatisfy(\.isASCIIDigit) else {
            throw .invalidAmount(text)
        }
        let fraction = parts.count == 2 ? parts[1] : ""
        guard fraction.allSatisfy(\.isASCIIDigit), fraction.count <= currency.exponent else {
            throw .invalidAmount(text)
        }
        if parts.count == 2 && fraction.isEmpty { throw .invalidAmount(text) }
        let padded = fraction + String(repeating: "0", count: currency.exponent - fraction.count)
        guard let minor = Int64(whole + padded) else { throw .overflow }
        return Money(minorUnits: negative ? -minor : minor, currency: currency)
    }

    /// The amount as a decimal string in major units ("125.50"), for humans and logs only.
    public var formatted: String {
        let exponent = currency.exponent
        let magnitude = minorUnits.magnitude
        let sign = minorUnits < 0 ? "-" : ""
        guard exponent > 0 else { return "\(sign)\(magnitude)" }
        var scale: UInt64 = 1
        for _ in 0..<exponent { scale *= 10 }
        let fraction = String(magnitude % scale)
        return "\(sign)\(magnitude / scale).\(String(repeating: "0", count: exponent - fraction.count))\(fraction)"
    }

    public var description: String { "\(formatted) \(currency.code)" }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

extension Currency: SchemaPlaceholder {
    public static var schemaPlaceholder: Currency { Currency(code: "CAD")! }
}
