import Foundation
import NzilaValues

/// An exact decimal FX rate, carried as an integer scaled by 10^10 (reference.fx_rates is
/// numeric(24,10)); multiplications run in Int128 and round once.
public struct FXRate: Sendable, Equatable {
    public static let scale: Int128 = 10_000_000_000
    public let scaled: Int128

    public init(scaled: Int128) {
        precondition(scaled > 0, "an FX rate is positive")
        self.scaled = scaled
    }

    /// Parses "441.5732000000"; nil for anything that is not a positive decimal with ≤ 10 places.
    public init?(decimal text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let whole = Int128(String(parts[0])), whole >= 0 else { return nil }
        let fraction = parts.count == 2 ? String(parts[1]) : ""
        guard fraction.count <= 10, fraction.allSatisfy(\.isNumber) else { return nil }
        let padded = fraction + String(repeating: "0", count: 10 - fraction.count)
        guard let decimals = Int128(padded), whole * FXRate.scale + decimals > 0 else { return nil }
        self.init(scaled: whole * FXRate.scale + decimals)
    }

    /// The rate as a decimal string with 10 places, as API.md writes rates.
    public var decimal: String {
        let whole = scaled / FXRate.scale
        let fraction = String(scaled % FXRate.scale)
        return "\(whole).\(String(repeating: "0", count: 10 - fraction.count))\(fraction)"
    }

    /// The customer's rate: mid × (1 − spread bps / 10,000), rounded down at 10 places.
    public func lessSpread(bps: Int) -> FXRate {
        FXRate(scaled: scaled * Int128(10_000 - bps) / 10_000)
    }
}

/// How an amount in one currency becomes another: what the member receives (rounded **down**, so the
/// platform never pays out more than it quoted), what the mid rate would have given, and the spread
/// the credit union keeps, all in the receiving currency's minor units.
public struct ConversionQuote: Sendable, Equatable {
    public let send: Money
    public let receive: Money
    public let midReceive: Money
    public let spread: Money
    public let midRate: FXRate
    public let customerRate: FXRate
    public let spreadBps: Int

    public static func quote(send: Money, to currency: Currency, mid: FXRate, spreadBps: Int) throws(RuleError) -> ConversionQuote {
        precondition(send.minorUnits > 0, "conversion amount must be positive")
        guard (0..<10_000).contains(spreadBps) else { throw RuleError.invalid(field: "spread_bps", "must be from 0 to 9999") }
        let customer = mid.lessSpread(bps: spreadBps)
        let receive = convertDown(send, to: currency, rate: customer)
        let midReceive = convertDown(send, to: currency, rate: mid)
        guard receive > 0 else { throw RuleError.invalid(field: "amount", "is too small to convert into \(currency.code)") }
        return ConversionQuote(
            send: send, receive: Money(minorUnits: receive, currency: currency), midReceive: Money(minorUnits: midReceive, currency: currency),
            spread: Money(minorUnits: midReceive - receive, currency: currency), midRate: mid, customerRate: customer, spreadBps: spreadBps)
    }

    /// minor_to = floor(minor_from × rate × 10^exp_to / 10^exp_from), in Int128.
    static func convertDown(_ amount: Money, to currency: Currency, rate: FXRate) -> Int64 {
        var numerator = Int128(amount.minorUnits) * rate.scaled
        var denominator = FXRate.scale
        for _ in 0..<currency.exponent { numerator *= 10 }
        for _ in 0..<amount.currency.exponent { denominator *= 10 }
        return Int64(numerator / denominator)
    }
}

/// Fee arithmetic: fixed + bps of the amount, rounded **half-up** to the minor unit, clamped to
/// [min, max] (DOMAIN.md).
public enum Fee {
    public static func compute(amount: Money, fixedMinor: Int64, bps: Int, minMinor: Int64, maxMinor: Int64) -> Money {
        precondition(amount.minorUnits >= 0 && bps >= 0 && minMinor <= maxMinor, "fee inputs")
        let proportional = (Int128(amount.minorUnits) * Int128(bps) + 5_000) / 10_000
        let total = min(max(Int128(fixedMinor) + proportional, Int128(minMinor)), Int128(maxMinor))
        return Money(minorUnits: Int64(total), currency: amount.currency)
    }
}
