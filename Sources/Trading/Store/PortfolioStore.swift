import Foundation
import Ledger
import NzilaCore
import NzilaDatabase
import NzilaValues

/// `GET /v1/trading/positions`: a holding at average cost, marked at the latest quote's last trade,
/// in the instrument's quote unit (decimal strings) and in CAD at the current mid rate, the CAD
/// gain split into the price's part and the exchange rate's part (`fx_pl_cad`: the cost basis at
/// today's rate less what it cost in CAD then).
public struct PositionView: Codable, Sendable {
    public let symbol: String
    public let exchange: String
    public let quoteUnit: String
    public let qty: Int64
    public let averageCost: String?
    public let costBasis: String
    public let marketPrice: String?
    public let marketValue: String?
    public let unrealisedPl: String?
    public let realisedPl: String
    public let costBasisCad: Money
    public let marketValueCad: Money?
    public let unrealisedPlCad: Money?
    public let fxPlCad: Money?
    public let realisedPlCad: Money
}

/// `GET /v1/trading/activities`: one fill.
public enum TradingFillTag {}
/// A paper fill's id.
public typealias TradingFillID = Identifier<TradingFillTag>

public struct FillView: Codable, Sendable {
    public let id: TradingFillID
    public let orderId: TradingOrderID
    public let symbol: String
    public let side: OrderSide
    public let qty: Int64
    public let price: String
    public let cumQty: Int64
    public let leavesQty: Int64
    public let fxRate: String
    public let cad: Money
    public let fee: Money
    public let filledAt: Date
}

public struct PortfolioStore: Sendable {
    let db: TenantDB

    public init(_ db: TenantDB) { self.db = db }

    /// The account's positions (held or with realised P&L), by symbol.
    public func positions(account: TradingAccountID) async throws -> [PositionView] {
        let rows = try await db.query(
            """
            SELECT symbol, qty, basis_e4, basis_cad_minor, realised_e4, realised_cad_minor FROM trading_positions
            WHERE account_id = \(account) ORDER BY symbol
            """
        ).all((String, Int64, Int64, Int64, Int64, Int64).self)
        guard !rows.isEmpty else { return [] }
        let market = MarketStore(db)
        let instruments = Dictionary(uniqueKeysWithValues: try await market.instruments(symbols: rows.map(\.0)).map { ($0.symbol, $0) })
        let quotes = try await market.quotes(rows.map(\.0))
        let trading = TradingStore(db)
        var rates: [String: FXRate?] = [:]
        var views: [PositionView] = []
        for r in rows {
            guard let instrument = instruments[r.0] else { continue }
            let position = Position(qty: r.1, basisE4: r.2, basisCADMinor: r.3, realisedE4: r.4, realisedCADMinor: r.5)
            let last = quotes[r.0]?.quote.last
            if rates[instrument.currency.code] == nil { rates[instrument.currency.code] = .some(try await trading.rateToCAD(instrument.currency)) }
            let rate = rates[instrument.currency.code] ?? nil
            var value: String?, unrealised: String?, valueCAD: Money?, unrealisedCAD: Money?, fxCAD: Money?
            if let last {
                let marked = position.marked(at: last)
                value = Price(e4: marked.valueE4).description
                unrealised = Self.signed(marked.unrealisedE4)
                if let rate {
                    // Both marked the same way: rounded down to the minor unit, then to the CAD cent.
                    let valueMinor = instrument.notionalMinor(last, qty: position.qty, rounding: .down) ?? 0
                    let valueInCAD = OrderRules.toCAD(valueMinor, from: instrument.currency, rate: rate, rounding: .down)
                    let basisMinor = Int64(Int128(position.basisE4) * Int128(instrument.unitMinor) / Int128(Price.scale))
                    let basisNow = OrderRules.toCAD(basisMinor, from: instrument.currency, rate: rate, rounding: .down)
                    valueCAD = Money(minorUnits: valueInCAD, currency: .cad)
                    unrealisedCAD = Money(minorUnits: valueInCAD - position.basisCADMinor, currency: .cad)
                    fxCAD = Money(minorUnits: basisNow - position.basisCADMinor, currency: .cad)
                }
            }
            views.append(PositionView(
                symbol: r.0, exchange: instrument.exchange, quoteUnit: instrument.quoteUnit, qty: position.qty, averageCost: position.averageCost?.description,
                costBasis: Price(e4: position.basisE4).description, marketPrice: last?.description, marketValue: value, unrealisedPl: unrealised,
                realisedPl: Self.signed(position.realisedE4), costBasisCad: Money(minorUnits: position.basisCADMinor, currency: .cad), marketValueCad: valueCAD,
                unrealisedPlCad: unrealisedCAD, fxPlCad: fxCAD, realisedPlCad: Money(minorUnits: position.realisedCADMinor, currency: .cad)))
        }
        return views
    }

    /// A signed amount in ten-thousandths as a decimal string ("-12.5").
    static func signed(_ e4: Int64) -> String {
        e4 < 0 ? "-" + Price(e4: -e4).description : Price(e4: e4).description
    }

    /// The account's fills, newest first.
    public func fills(account: TradingAccountID, page: PageRequest) async throws -> Page<FillView> {
        let after = page.after
        let rows = try await db.query(
            """
            SELECT id, order_id, symbol, side, qty, price_e4, cum_qty, leaves_qty, fx_rate::text, cad_minor, fee_minor, filled_at FROM trading_fills
            WHERE account_id = \(account)
              AND (\(after == nil) OR (filled_at, id) < ('epoch'::timestamptz + \(after?.position ?? 0) * interval '1 microsecond', \(after?.id ?? UUID())))
            ORDER BY filled_at DESC, id DESC LIMIT \(page.limit + 1)
            """
        ).all((UUID, UUID, String, String, Int64, Int64, Int64, Int64, String, Int64, Int64, Date).self)
        return try page.page(of: rows, item: { r in
            guard let side = OrderSide(rawValue: r.3) else { throw Problem.internalError }
            return FillView(
                id: TradingFillID(r.0), orderId: TradingOrderID(r.1), symbol: r.2, side: side, qty: r.4, price: Price(e4: r.5).description, cumQty: r.6,
                leavesQty: r.7, fxRate: r.8, cad: Money(minorUnits: r.9, currency: .cad), fee: Money(minorUnits: r.10, currency: .cad), filledAt: r.11)
        }, cursor: { PageCursor(position: Int64(($0.11.timeIntervalSince1970 * 1_000_000).rounded()), id: $0.0) })
    }
}
