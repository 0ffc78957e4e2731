import Ledger
import Foundation
import NzilaValues

/// A tenant's fee for one corridor and payout method: one band, or bands by send amount; each band
/// is fixed + bps of the send amount, half-up, clamped to [min, max] (`Fee.compute`).
public struct FeeSchedule: Sendable, Equatable {
    public struct Band: Sendable, Equatable, Codable {
        public let fromMinor: Int64
        public let fixedMinor: Int64
        public let bps: Int
        public let minMinor: Int64
        public let maxMinor: Int64

        public init(fromMinor: Int64, fixedMinor: Int64, bps: Int, minMinor: Int64, maxMinor: Int64) {
            self.fromMinor = fromMinor
            self.fixedMinor = fixedMinor
            self.bps = bps
            self.minMinor = minMinor
            self.maxMinor = maxMinor
        }
    }

    public let corridor: String
    public let method: String
    /// Ascending by `fromMinor`, the first from 0.
    public let bands: [Band]

    public init(corridor: String, method: String, bands: [Band]) {
        precondition(!bands.isEmpty && bands[0].fromMinor == 0, "bands start at 0")
        self.corridor = corridor
        self.method = method
        self.bands = bands
    }

    /// The line for `corridor` and `method` in the tenant's `fees` configuration (validated by the
    /// control plane), nil when the tenant offers no such line.
    public static func from(fees: FeesSection?, corridor: String, method: String) -> FeeSchedule? {
        guard let line = fees?.line(corridor: corridor, method: method) else { return nil }
        let bands: [Band]
        if let list = line.bands {
            bands = list.map { Band(fromMinor: $0.fromMinor, fixedMinor: $0.fixedMinor, bps: $0.bps, minMinor: $0.minMinor, maxMinor: $0.maxMinor) }
        } else {
            guard let fixed = line.fixedMinor, let bps = line.bps, let low = line.minMinor, let high = line.maxMinor else { return nil }
            bands = [Band(fromMinor: 0, fixedMinor: fixed, bps: bps, minMinor: low, maxMinor: high)]
        }
        guard bands.first?.fromMinor == 0 else { return nil }
        return FeeSchedule(corridor: corridor, method: method, bands: bands)
    }

    /// The band a send amount falls in: the last whose `fromMinor` it reaches.
    public func band(for send: Money) -> Band {
        bands.last { send.minorUnits >= $0.fromMinor } ?? bands[0]
    }

    public func fee(for send: Money) -> Money {
        let band = band(for: send)
        return Fee.compute(amount: send, fixedMinor: band.fixedMinor, bps: band.bps, minMinor: band.minMinor, maxMinor: band.maxMinor)
    }
}

/// What the member asked to quote from.
public enum QuoteBasis: Sendable, Equatable {
    /// This much leaves the member's account before the fee.
    case send(Money)
    /// This much must arrive; the send amount is the least that delivers it.
    case receive(Money)
}

/// A remittance quote with every component shown (issue 8): the member pays `send + fee`; the
/// recipient gets `receive`, converted at the customer rate and rounded down; the spread is what the
/// mid rate would have delivered beyond that, kept by the credit union.
public struct RemittanceQuote: Sendable, Equatable, Codable {
    public let corridor: String
    public let method: String
    public let basis: String
    public let send: Money
    public let fee: Money
    public let totalDebit: Money
    public let receive: Money
    public let midRate: String
    public let customerRate: String
    public let spreadBps: Int
    /// In the receiving currency: what the mid rate would have delivered, less `receive`.
    public let spread: Money
    public let feeBand: FeeSchedule.Band
}

public enum QuoteEngine {
    /// Send limits of the corridor (reference data), in the send currency's minor units.
    public struct Limits: Sendable, Equatable {
        public let minSendMinor: Int64
        public let maxSendMinor: Int64

        public init(minSendMinor: Int64, maxSendMinor: Int64) {
            self.minSendMinor = minSendMinor
            self.maxSendMinor = maxSendMinor
        }
    }

    public static func quote(
        _ basis: QuoteBasis, receiveCurrency: Currency, mid: FXRate, spreadBps: Int, schedule: FeeSchedule, limits: Limits
    ) throws(RuleError) -> RemittanceQuote {
        guard (0..<10_000).contains(spreadBps) else { throw RuleError.invalid(field: "spread_bps", "must be from 0 to 9999") }
        let customer = mid.lessSpread(bps: spreadBps)
        let send: Money
        switch basis {
        case .send(let amount):
            send = amount
        case .receive(let amount):
            guard amount.currency == receiveCurrency, amount.minorUnits > 0 else {
                throw RuleError.invalid(field: "receive_amount", "must be a positive amount in \(receiveCurrency.code)")
            }
            send = Money(minorUnits: leastSend(toReceive: amount, from: .cad, rate: customer), currency: .cad)
        }
        guard send.currency == .cad, send.minorUnits > 0 else { throw RuleError.invalid(field: "send_amount", "must be a positive amount in CAD") }
        guard (limits.minSendMinor...limits.maxSendMinor).contains(send.minorUnits) else {
            throw RuleError(
                .unprocessable, "amount-out-of-range", "Amount out of range",
                detail: "This corridor sends from \(Money(minorUnits: limits.minSendMinor, currency: .cad)) to \(Money(minorUnits: limits.maxSendMinor, currency: .cad)); the quote needs \(send).")
        }
        let conversion = try ConversionQuote.quote(send: send, to: receiveCurrency, mid: mid, spreadBps: spreadBps)
        let fee = schedule.fee(for: send)
        return RemittanceQuote(
            corridor: schedule.corridor, method: schedule.method, basis: { if case .send = basis { return "send" } else { return "receive" } }(),
            send: send, fee: fee, totalDebit: Money(minorUnits: send.minorUnits + fee.minorUnits, currency: .cad), receive: conversion.receive,
            midRate: mid.decimal, customerRate: customer.decimal, spreadBps: spreadBps, spread: conversion.spread, feeBand: schedule.band(for: send))
    }

    /// The least send amount whose conversion (rounded down) reaches `receive`:
    /// ceil(receive × scale × 10^exp_from / (rate × 10^exp_to)).
    static func leastSend(toReceive receive: Money, from currency: Currency, rate: FXRate) -> Int64 {
        var numerator = Int128(receive.minorUnits) * FXRate.scale
        var denominator = rate.scaled
        for _ in 0..<currency.exponent { numerator *= 10 }
        for _ in 0..<receive.currency.exponent { denominator *= 10 }
        return Int64((numerator + denominator - 1) / denominator)
    }
}

/// Whether a rate stamped `asOf` may still price a quote at `now`: no older than `bound` seconds.
public enum RateFreshness {
    public static func isFresh(asOf: Date, now: Date, bound: TimeInterval) -> Bool {
        now.timeIntervalSince(asOf) <= bound
    }
}
