import Foundation

/// `fees`: the FX spread and the remittance fee lines (Remittance quotes with them; the Ledger's
/// conversions take the spread).
public struct FeesSection: ConfigSection, Equatable {
    public static let key = "fees"

    public static let isRequired = true
    /// The payout methods a fee line may name.
    public static let payoutMethods: Set<String> = ["mobile_money", "bank_deposit", "cash_pickup"]
    /// The largest FX spread a tenant may charge, in basis points.
    public static let maxSpreadBps = 2_000

    public static func check(_ value: Any, at path: String, into check: inout ConfigChecker) {
        guard let fees = check.object(value, at: path, required: ["fx_spread_bps", "corridors"], optional: []) else { return }
        check.integer(fees["fx_spread_bps"], at: "\(path).fx_spread_bps", in: 0...Int64(maxSpreadBps))
        if let corridors = check.array(fees["corridors"], at: "\(path).corridors", count: 0...500) {
            var seen: Set<String> = []
            for (index, entry) in corridors.enumerated() {
                checkCorridor(entry, at: "\(path).corridors[\(index)]", seen: &seen, into: &check)
            }
        }
    }
    public let fxSpreadBps: Int
    public let corridors: [Line]

    /// A corridor and payout method the credit union offers, with one band or bands by send amount.
    public struct Line: Decodable, Sendable, Equatable {
        public let corridor: String
        public let method: String
        public let fixedMinor: Int64?
        public let bps: Int?
        public let minMinor: Int64?
        public let maxMinor: Int64?
        public let bands: [Band]?
    }

    public struct Band: Decodable, Sendable, Equatable {
        public let fromMinor: Int64
        public let fixedMinor: Int64
        public let bps: Int
        public let minMinor: Int64
        public let maxMinor: Int64
    }

    public func line(corridor: String, method: String) -> Line? {
        corridors.first { $0.corridor == corridor && $0.method == method }
    }

    /// A fee line: a corridor (CAD to a supported currency) and a payout method, then either one band
    /// (fixed + bps clamped to [min, max]) or `bands` by send amount.
    static func checkCorridor(_ entry: Any?, at path: String, seen: inout Set<String>, into check: inout ConfigChecker) {
        let flat = ["fixed_minor", "bps", "min_minor", "max_minor"]
        guard let object = check.object(entry, at: path, required: ["corridor", "method"], optional: flat + ["bands"]) else { return }
        if let corridor = check.pattern(object["corridor"], at: "\(path).corridor", #"^CAD-[A-Z]{3}$"#, "must be CAD-<currency>, such as CAD-NGN") {
            if Currency(code: String(corridor.suffix(3))) == nil { check.fail("\(path).corridor", "names an unsupported currency") }
        }
        if let method = object["method"] as? String, payoutMethods.contains(method) {
            if let corridor = object["corridor"] as? String, !seen.insert("\(corridor)/\(method)").inserted {
                check.fail(path, "repeats \(corridor) by \(method)")
            }
        } else {
            check.fail("\(path).method", "must be one of \(payoutMethods.sorted().joined(separator: ", "))")
        }
        if let bands = object["bands"] {
            if flat.contains(where: { object[$0] != nil }) { check.fail(path, "has either bands or fixed_minor, bps, min_minor and max_minor, not both") }
            guard let list = check.array(bands, at: "\(path).bands", count: 1...20) else { return }
            var previous: Int64 = -1
            for (index, band) in list.enumerated() {
                let bandPath = "\(path).bands[\(index)]"
                guard let fields = check.object(band, at: bandPath, required: ["from_minor"] + flat, optional: []) else { continue }
                if let from = check.integer(fields["from_minor"], at: "\(bandPath).from_minor", in: 0...Int64.max) {
                    if index == 0, from != 0 { check.fail("\(bandPath).from_minor", "must be 0 for the first band") }
                    if index > 0, from <= previous { check.fail("\(bandPath).from_minor", "must be above the previous band's") }
                    previous = from
                }
                checkFee(fields, at: bandPath, into: &check)
            }
        } else {
            for key in flat where object[key] == nil { check.fail("\(path).\(key)", "is required") }
            checkFee(object, at: path, into: &check)
        }
    }

    static func checkFee(_ object: [String: Any], at path: String, into check: inout ConfigChecker) {
        check.integer(object["fixed_minor"], at: "\(path).fixed_minor", in: 0...1_000_000)
        check.integer(object["bps"], at: "\(path).bps", in: 0...10_000)
        let low = check.integer(object["min_minor"], at: "\(path).min_minor", in: 0...1_000_000)
        let high = check.integer(object["max_minor"], at: "\(path).max_minor", in: 0...1_000_000)
        if let low, let high, high < low { check.fail("\(path).max_minor", "must be at least min_minor") }
    }
}
