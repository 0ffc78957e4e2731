import Foundation
import NzilaValues

/// `GET /v1/ledger/flows`: members' money in and out over whole days, per currency and journal
/// kind. Each journal counts by the net change it made to members' balances in a currency: a
/// deposit, a loan disbursement or a tontine payout brings money in; a withdrawal, a remittance's
/// funding or a repayment takes it out; a transfer between two members nets to zero and is neither.
/// A conversion between a member's own accounts is out in one currency and in in the other.
public struct MoneyFlows: Codable, Sendable, Equatable {
    public struct KindFlow: Codable, Sendable, Equatable {
        public let kind: String
        public let moneyIn: Money
        public let moneyOut: Money
        /// Journals of this kind that moved members' money in this currency.
        public let journals: Int
    }

    public struct CurrencyFlow: Codable, Sendable, Equatable {
        public let currency: Currency
        public let moneyIn: Money
        public let moneyOut: Money
        /// In − out: what members hold more (or less, when negative) at the end of the period.
        public let net: Money
        /// Largest movement first.
        public let kinds: [KindFlow]
    }

    /// The first and last day counted (UTC days of the platform clock), both included.
    public let from: Day
    public let to: Day
    public let currencies: [CurrencyFlow]

    /// One row of the store's sums: a currency and journal kind, members' money in and out (both ≥ 0).
    public struct Row: Sendable, Equatable {
        public let currency: Currency
        public let kind: String
        public let inMinor: Int64
        public let outMinor: Int64
        public let journals: Int

        public init(currency: Currency, kind: String, inMinor: Int64, outMinor: Int64, journals: Int) {
            self.currency = currency
            self.kind = kind
            self.inMinor = inMinor
            self.outMinor = outMinor
            self.journals = journals
        }
    }

    /// The longest period one request sums.
    public static let maxDays = 92

    /// The rows summed per currency (currencies by code; kinds by the larger of in and out, then name).
    /// Sums are exact integer minor units; a total past Int64 is refused rather than wrapped.
    public static func summarise(from: Day, to: Day, _ rows: [Row]) throws(RuleError) -> MoneyFlows {
        var byCurrency: [Currency: [Row]] = [:]
        for row in rows { byCurrency[row.currency, default: []].append(row) }
        var currencies: [CurrencyFlow] = []
        for (currency, rows) in byCurrency.sorted(by: { $0.key.code < $1.key.code }) {
            var totalIn: Int64 = 0
            var totalOut: Int64 = 0
            for row in rows {
                let (a, overflowIn) = totalIn.addingReportingOverflow(row.inMinor)
                let (b, overflowOut) = totalOut.addingReportingOverflow(row.outMinor)
                guard !overflowIn, !overflowOut else { throw RuleError(.unprocessable, "period-too-large", "Period too large", detail: "The sums do not fit; ask for fewer days.") }
                (totalIn, totalOut) = (a, b)
            }
            let kinds = rows.sorted { max($0.inMinor, $0.outMinor) == max($1.inMinor, $1.outMinor) ? $0.kind < $1.kind : max($0.inMinor, $0.outMinor) > max($1.inMinor, $1.outMinor) }
                .map { KindFlow(kind: $0.kind, moneyIn: Money(minorUnits: $0.inMinor, currency: currency), moneyOut: Money(minorUnits: $0.outMinor, currency: currency), journals: $0.journals) }
            currencies.append(CurrencyFlow(
                currency: currency, moneyIn: Money(minorUnits: totalIn, currency: currency), moneyOut: Money(minorUnits: totalOut, currency: currency),
                net: Money(minorUnits: totalIn - totalOut, currency: currency), kinds: kinds))
        }
        return MoneyFlows(from: from, to: to, currencies: currencies)
    }
}
