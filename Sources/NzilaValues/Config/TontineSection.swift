import Foundation

/// `tontine` (optional): what a late contribution costs and whether the credit union guarantees its
/// circles. Without the section a late contribution is free and no advance is made.
///
///     tontine:
///       late_fee: {fixed_minor: {CAD: 500}, bps: 100}   # per currency: minor units of that currency
///       guarantee: true
///
/// The fixed part is per currency (500 CAD cents and 500 XOF are not the same fee); a currency not
/// listed has no fixed part. The bps part is of the contribution, rounded down (`Arrears.penalty`).
public struct TontineSection: ConfigSection, Equatable {
    public static let key = "tontine"

    public struct LateFee: Decodable, Equatable, Sendable {
        public let fixedMinor: [String: Int64]?
        public let bps: Int?

        public init(fixedMinor: [String: Int64]?, bps: Int?) {
            self.fixedMinor = fixedMinor
            self.bps = bps
        }
    }

    public let lateFee: LateFee?
    public let guarantee: Bool?

    public init(lateFee: LateFee?, guarantee: Bool?) {
        self.lateFee = lateFee
        self.guarantee = guarantee
    }

    /// The section a tenant without one has: no late fee, no guarantee.
    public static let none = TontineSection(lateFee: nil, guarantee: nil)

    /// The fixed part of the late fee in `currency` (0 when not listed).
    public func fixedLateFeeMinor(_ currency: Currency) -> Int64 { lateFee?.fixedMinor?[currency.code] ?? 0 }
    public var lateFeeBps: Int { lateFee?.bps ?? 0 }
    public var guarantees: Bool { guarantee ?? false }

    public static func check(_ value: Any, at path: String, into check: inout ConfigChecker) {
        guard let section = check.object(value, at: path, required: [], optional: ["late_fee", "guarantee"]) else { return }
        if let fee = ConfigChecker.present(section["late_fee"]),
            let object = check.object(fee, at: "\(path).late_fee", required: [], optional: ["fixed_minor", "bps"])
        {
            if let bps = ConfigChecker.present(object["bps"]) { check.integer(bps, at: "\(path).late_fee.bps", in: 0...10_000) }
            if let fixed = ConfigChecker.present(object["fixed_minor"]) {
                if let byCurrency = fixed as? [String: Any] {
                    for (code, amount) in byCurrency.sorted(by: { $0.key < $1.key }) {
                        if Currency(code: code) == nil { check.fail("\(path).late_fee.fixed_minor.\(code)", "must be a supported currency code") }
                        check.integer(amount, at: "\(path).late_fee.fixed_minor.\(code)", in: 0...100_000_000)
                    }
                } else {
                    check.fail("\(path).late_fee.fixed_minor", "must be an object of currency code to minor units")
                }
            }
        }
        if let guarantee = ConfigChecker.present(section["guarantee"]) {
            let isBool = (guarantee as? NSNumber).map { String(cString: $0.objCType) == "c" } ?? false
            if !isBool { check.fail("\(path).guarantee", "must be true or false") }
        }
    }
}
