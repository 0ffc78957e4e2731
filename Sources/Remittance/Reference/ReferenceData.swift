import Ledger
import Foundation
import Logging
import NzilaCore
import NzilaDatabase
import PostgresNIO

/// A corridor as `reference.corridors` holds it.
public struct Corridor: Sendable, Equatable {
    public let code: String
    public let receiveCurrency: Currency
    public let payoutMethods: [String]
    public let partners: [String]
    public let minSendMinor: Int64
    public let maxSendMinor: Int64
    public let active: Bool
}

/// One mid rate, parsed exactly from its decimal string.
public struct MidRate: Sendable, Equatable {
    public let base: Currency
    public let quote: Currency
    public let rate: FXRate
}

/// Reference data files the repository ships (`ReferenceData/corridors.csv`, `ReferenceData/fx_rates.csv`)
/// and `nzila reference load-corridors` / `load-rates` read: parsed strictly, every bad line named.
public enum RemittanceReference {
    public struct Invalid: Error, CustomStringConvertible {
        public let problems: [String]
        public var description: String { problems.joined(separator: "\n") }
    }

    static let methods: Set<String> = ["mobile_money", "bank_deposit", "cash_pickup"]

    /// `code,payout_methods,partners,min_send_minor,max_send_minor,active`, methods and partners `;`-separated.
    public static func corridors(csv text: String) throws -> [Corridor] {
        var problems: [String] = []
        var corridors: [Corridor] = []
        for (index, row) in CSV.records(text).enumerated().dropFirst() where !(row.count == 1 && row[0].isEmpty) {
            let line = "line \(index + 1)"
            guard row.count == 6 else { problems.append("\(line): expected 6 fields"); continue }
            let parts = row[0].split(separator: "-")
            guard parts.count == 2, parts[0] == "CAD", let receive = Currency(code: String(parts[1])) else {
                problems.append("\(line): corridor \(row[0]) is not CAD-<supported currency>")
                continue
            }
            let methods = row[1].split(separator: ";").map(String.init)
            guard !methods.isEmpty, methods.allSatisfy(Self.methods.contains) else {
                problems.append("\(line): payout methods must be among \(Self.methods.sorted().joined(separator: ", "))")
                continue
            }
            guard let low = Int64(row[3]), let high = Int64(row[4]), low > 0, high >= low else {
                problems.append("\(line): send limits must be whole minor units, 0 < min <= max")
                continue
            }
            guard let active = Bool(row[5]) else { problems.append("\(line): active must be true or false"); continue }
            corridors.append(Corridor(
                code: row[0], receiveCurrency: receive, payoutMethods: methods, partners: row[2].split(separator: ";").map(String.init),
                minSendMinor: low, maxSendMinor: high, active: active))
        }
        if !problems.isEmpty { throw Invalid(problems: problems) }
        if corridors.isEmpty { throw Invalid(problems: ["no corridor in the file"]) }
        return corridors
    }

    /// `base,quote,mid_rate`: the rate as a plain decimal string with at least 8 significant digits
    /// (never a float's exponent form), at most 10 decimal places.
    public static func rates(csv text: String) throws -> [MidRate] {
        var problems: [String] = []
        var rates: [MidRate] = []
        for (index, row) in CSV.records(text).enumerated().dropFirst() where !(row.count == 1 && row[0].isEmpty) {
            let line = "line \(index + 1)"
            guard row.count == 3, let base = Currency(code: row[0]), let quote = Currency(code: row[1]), base != quote else {
                problems.append("\(line): expected base,quote,mid_rate with two different supported currencies")
                continue
            }
            guard let rate = FXRate(decimal: row[2]), significantDigits(row[2]) >= 8 else {
                problems.append("\(line): \(row[2]) is not a decimal with at least 8 significant digits and at most 10 places")
                continue
            }
            rates.append(MidRate(base: base, quote: quote, rate: rate))
        }
        if !problems.isEmpty { throw Invalid(problems: problems) }
        if rates.isEmpty { throw Invalid(problems: ["no rate in the file"]) }
        return rates
    }

    /// Digits from the first non-zero one to the last written one ("0.0022646000" has 8).
    static func significantDigits(_ decimal: String) -> Int {
        let digits = decimal.filter(\.isNumber)
        return digits.drop { $0 == "0" }.count
    }

    public static func save(corridors: [Corridor], client: PostgresClient, logger: Logger) async throws {
        try await client.transaction(logger: logger) { connection in
            for corridor in corridors {
                try await connection.query(
                    """
                    INSERT INTO reference.corridors (code, send_currency, receive_currency, payout_methods, partners, min_send_minor, max_send_minor, active)
                    VALUES (\(corridor.code), 'CAD', \(corridor.receiveCurrency.code), \(corridor.payoutMethods), \(corridor.partners),
                            \(corridor.minSendMinor), \(corridor.maxSendMinor), \(corridor.active))
                    ON CONFLICT (code) DO UPDATE SET payout_methods = EXCLUDED.payout_methods, partners = EXCLUDED.partners,
                        min_send_minor = EXCLUDED.min_send_minor, max_send_minor = EXCLUDED.max_send_minor, active = EXCLUDED.active,
                        updated_at = clock_timestamp()
                    """, logger: logger)
            }
        }
    }

    public static func save(rates: [MidRate], source: String, client: PostgresClient, logger: Logger) async throws {
        try await client.transaction(logger: logger) { connection in
            for rate in rates {
                try await connection.query(
                    """
                    INSERT INTO reference.fx_rates (base, quote, mid_rate, as_of, source)
                    VALUES (\(rate.base.code), \(rate.quote.code), \(rate.rate.decimal)::numeric, clock_timestamp(), \(source))
                    ON CONFLICT (base, quote) DO UPDATE SET mid_rate = EXCLUDED.mid_rate, as_of = EXCLUDED.as_of, source = EXCLUDED.source
                    """, logger: logger)
            }
        }
    }

    /// The shipped files, as `nzila dev` and the tests load them.
    public static func loadShipped(root: URL, client: PostgresClient, logger: Logger) async throws {
        let folder = root.appendingPathComponent("ReferenceData")
        let corridors = try corridors(csv: try String(contentsOf: folder.appendingPathComponent("corridors.csv"), encoding: .utf8))
        try await save(corridors: corridors, client: client, logger: logger)
        let rates = try rates(csv: try String(contentsOf: folder.appendingPathComponent("fx_rates.csv"), encoding: .utf8))
        try await save(rates: rates, source: "file:fx_rates.csv", client: client, logger: logger)
    }
}

/// Where mid rates come from in production: a provider's API behind this one call.
public protocol RateFeed: Sendable {
    var name: String { get }
    func rates(at time: Date) async throws -> [MidRate]
}

/// The default feed: deterministic. Each rate moves within ±0.5 % of its anchor by a function of the
/// pair and the minute, so two runs at the same minute agree and tests can predict every rate.
public struct SimulatedRateFeed: RateFeed {
    public let name = "simulated"
    let anchors: [MidRate]

    public init(anchors: [MidRate]) {
        self.anchors = anchors
    }

    public func rates(at time: Date) async throws -> [MidRate] {
        let minute = Int64(time.timeIntervalSince1970 / 60)
        return anchors.map { anchor in
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in "\(anchor.base.code)\(anchor.quote.code)\(minute)".utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
            // −50 … +50 basis points, whole.
            let bps = Int128(Int64(hash % 101) - 50)
            return MidRate(base: anchor.base, quote: anchor.quote, rate: FXRate(scaled: anchor.rate.scaled * (10_000 + bps) / 10_000))
        }
    }
}
