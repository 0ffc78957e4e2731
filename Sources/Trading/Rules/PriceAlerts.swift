import Foundation
import NzilaValues

public enum TradingAlertTag {}
/// A price alert's id.
public typealias TradingAlertID = Identifier<TradingAlertTag>
public enum TradingWatchlistTag {}
/// A watchlist's id.
public typealias TradingWatchlistID = Identifier<TradingWatchlistTag>

public enum AlertCondition: String, Sendable, Codable, CaseIterable {
    case crossesAbove = "crosses_above"
    case crossesBelow = "crosses_below"
}

public enum AlertStatus: String, Sendable, Codable, CaseIterable {
    case armed, triggered
}

/// Price alerts, as pure rules.
///
/// An alert watches one symbol's **last trade price** from quote to quote. It is *beyond* its level
/// when the price is at or above it (`crosses_above`) or at or below it (`crosses_below`). It
/// **fires once**, when a quote finds it beyond after the quote before found it short — a fresh
/// crossing between two consecutive quotes; an alert created (or re-armed) with the price already
/// beyond waits for the price to come back and cross again. A fired alert is `triggered` and
/// stays so until re-armed. Quotes the watcher did not see (a plane down) are not replayed: the
/// crossing is judged between the last quote it saw and the current one.
public enum PriceAlerts {
    public static let maximumArmedPerMember = 100
    public static let maximumWatchlistsPerMember = 20
    public static let maximumSymbolsPerWatchlist = 100

    public static func isBeyond(_ condition: AlertCondition, level: Price, price: Price) -> Bool {
        switch condition {
        case .crossesAbove: price >= level
        case .crossesBelow: price <= level
        }
    }

    /// What a new quote does to an armed alert that was `beyond` (or not) at the quote before.
    public enum Outcome: Sendable, Equatable {
        /// Still on the same side.
        case unchanged
        /// Crossed to its level: it fires.
        case fires
        /// Went back short of its level: now it can cross again.
        case returned
    }

    public static func evaluate(_ condition: AlertCondition, level: Price, wasBeyond: Bool, price: Price) -> Outcome {
        let beyond = isBeyond(condition, level: level, price: price)
        if beyond == wasBeyond { return .unchanged }
        return beyond ? .fires : .returned
    }

    /// The quotes (their last prices, in order) at which an alert armed at `armedAt` fires, until it
    /// has fired once: at most one index.
    public static func firing(_ condition: AlertCondition, level: Price, armedAt: Price, then prices: [Price]) -> Int? {
        var beyond = isBeyond(condition, level: level, price: armedAt)
        for (index, price) in prices.enumerated() {
            switch evaluate(condition, level: level, wasBeyond: beyond, price: price) {
            case .fires: return index
            case .returned: beyond = false
            case .unchanged: break
            }
        }
        return nil
    }

    /// A watchlist's symbols as given: each well formed, once, at most 100, in the given order;
    /// the problems by field.
    public static func symbols(_ raw: [String], field: String) -> (symbols: [String], errors: [FieldError]) {
        var errors: [FieldError] = []
        var seen = Set<String>()
        var symbols: [String] = []
        for (i, symbol) in raw.enumerated() {
            if symbol.range(of: #"^[A-Z0-9][A-Z0-9.\-]{0,15}$"#, options: .regularExpression) == nil {
                errors.append(FieldError(field: "\(field)[\(i)]", message: "is not a symbol"))
            } else if !seen.insert(symbol).inserted {
                errors.append(FieldError(field: "\(field)[\(i)]", message: "\(symbol) is already in the list"))
            } else {
                symbols.append(symbol)
            }
        }
        if raw.count > maximumSymbolsPerWatchlist {
            errors.append(FieldError(field: field, message: "at most \(maximumSymbolsPerWatchlist) symbols"))
        }
        return (symbols, errors)
    }
}

/// `trading.alert_triggered.v1`: a member's price alert fired. Prices are decimal strings in the
/// instrument's quote unit.
public struct TradingAlertEvent: Codable, Sendable, Equatable {
    public let alertId: TradingAlertID
    public let memberId: MemberID
    public let symbol: String
    public let condition: AlertCondition
    /// The level.
    public let price: String
    /// The last trade that crossed it, and the quote it came on.
    public let triggeredPrice: String
    public let quoteSeq: Int64
    public let triggeredAt: Date

    public init(alertId: TradingAlertID, memberId: MemberID, symbol: String, condition: AlertCondition, price: Price, triggeredPrice: Price, quoteSeq: Int64, triggeredAt: Date) {
        self.alertId = alertId
        self.memberId = memberId
        self.symbol = symbol
        self.condition = condition
        self.price = price.description
        self.triggeredPrice = triggeredPrice.description
        self.quoteSeq = quoteSeq
        self.triggeredAt = triggeredAt
    }

    public static let type = "trading.alert_triggered.v1"
}
