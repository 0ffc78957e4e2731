import Ledger
import Foundation
import NzilaCore
import NzilaDatabase
import PostgresNIO

/// A stored quote as the API returns it.
public struct QuoteRecord: Codable, Sendable {
    public let id: QuoteID
    public let memberID: MemberID?
    public let quote: RemittanceQuote
    public let createdAt: Date
    public let expiresAt: Date
    /// The order placed from this quote, if one was (a quote is used once).
    public var orderId: RemittanceID? = nil
    /// Where the mid rate came from: the platform's reference rate's source (`file:fx_rates.csv`, `simulated`), or the FX
    /// fallback provider (`fx-quotes:NAME`) when that rate was stale. Nil for quotes made before it was recorded.
    public var rateSource: String? = nil
}

/// What a quote is priced from: the corridor, its mid rate with when and where that rate was taken, the tenant's fees.
public struct QuoteInputs: Sendable {
    public let corridor: Corridor
    public let mid: FXRate
    public let asOf: Date
    public let source: String
    public let fees: FeesSection?
}

/// Quotes in the tenant's schema (Migrations/tenant/0009), and the reference data a quote needs.
public struct QuoteStore {
    let db: TenantDB

    public init(_ db: TenantDB) { self.db = db }

    /// How long a quote's rate and fee hold (issue 8).
    public static let lifetime: TimeInterval = 30 * 60

    /// Everything a quote reads, in one round trip: the corridor, its mid rate (when and where it was taken), the tenant's fees.
    public func inputs(corridor code: String) async throws -> QuoteInputs? {
        guard let row = try await db.query(
            """
            SELECT c.receive_currency::text, c.payout_methods, c.partners, c.min_send_minor, c.max_send_minor, c.active, r.mid_rate::text,
                   (SELECT value::text FROM tenant_config WHERE key = 'fees'), r.as_of, r.source
            FROM reference.corridors c JOIN reference.fx_rates r ON r.base = c.send_currency AND r.quote = c.receive_currency
            WHERE c.code = \(code)
            """
        ).first((String, [String], [String], Int64, Int64, Bool, String, String?, Date, String).self),
            let currency = Currency(code: row.0), let mid = FXRate(decimal: row.6)
        else { return nil }
        let fees = db.read(FeesSection.self, from: row.7)
        return QuoteInputs(
            corridor: Corridor(code: code, receiveCurrency: currency, payoutMethods: row.1, partners: row.2, minSendMinor: row.3, maxSendMinor: row.4, active: row.5),
            mid: mid, asOf: row.8, source: row.9, fees: fees)
    }

    public func record(_ quote: RemittanceQuote, member: UUID?, by principal: Principal, now: Date, rateSource: String) async throws -> QuoteRecord {
        let id = UUID()
        let band = String(decoding: try JSONEncoder.api.encode(quote.feeBand), as: UTF8.self)
        let expires = now.addingTimeInterval(Self.lifetime)
        let created = try await db.query(
            """
            INSERT INTO quotes (id, member_id, corridor, method, basis, send_minor, fee_minor, total_debit_minor, receive_currency, receive_minor,
                                mid_rate, customer_rate, spread_bps, spread_minor, fee_band, created_by, created_at, expires_at, rate_source)
            VALUES (\(id), \(member), \(quote.corridor), \(quote.method), \(quote.basis), \(quote.send.minorUnits), \(quote.fee.minorUnits),
                    \(quote.totalDebit.minorUnits), \(quote.receive.currency.code), \(quote.receive.minorUnits), \(quote.midRate)::numeric,
                    \(quote.customerRate)::numeric, \(quote.spreadBps), \(quote.spread.minorUnits), \(band)::jsonb, \(principal.id), \(now), \(expires), \(rateSource))
            RETURNING created_at
            """
        ).first(Date.self) ?? now
        return QuoteRecord(id: QuoteID(id), memberID: member.map { MemberID($0) }, quote: quote, createdAt: created, expiresAt: expires, rateSource: rateSource)
    }

    public func find(_ id: UUID) async throws -> QuoteRecord? {
        guard let row = try await db.query(
            """
            SELECT member_id, corridor, method, basis, send_minor, fee_minor, total_debit_minor, receive_currency::text, receive_minor,
                   mid_rate::text, customer_rate::text, spread_bps, spread_minor, fee_band::text, created_at, expires_at,
                   (SELECT r.id FROM remittances r WHERE r.quote_id = q.id), rate_source
            FROM quotes q WHERE id = \(id)
            """
        ).first((UUID?, String, String, String, Int64, Int64, Int64, String, Int64, String, String, Int, Int64, String, Date, Date, UUID?, String?).self),
            let currency = Currency(code: row.7), let mid = FXRate(decimal: row.9), let customer = FXRate(decimal: row.10)
        else { return nil }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let band = try decoder.decode(FeeSchedule.Band.self, from: Data(row.13.utf8))
        let quote = RemittanceQuote(
            corridor: row.1, method: row.2, basis: row.3, send: Money(minorUnits: row.4, currency: .cad), fee: Money(minorUnits: row.5, currency: .cad),
            totalDebit: Money(minorUnits: row.6, currency: .cad), receive: Money(minorUnits: row.8, currency: currency), midRate: mid.decimal,
            customerRate: customer.decimal, spreadBps: row.11, spread: Money(minorUnits: row.12, currency: currency), feeBand: band)
        return QuoteRecord(id: QuoteID(id), memberID: row.0.map { MemberID($0) }, quote: quote, createdAt: row.14, expiresAt: row.15, orderId: row.16.map { RemittanceID($0) },
                           rateSource: row.17)
    }
}
