import Foundation
import NzilaCore
import NzilaDatabase
import PostgresNIO

/// A product as stored, with its version (the ETag).
public struct LoanProduct: Sendable {
    public let id: LoanProductID
    public let terms: LoanProductTerms
    public let version: Int
    public let createdAt: Date
    public let updatedAt: Date
    let position: Int64
}

/// `loan_products` (Migrations/tenant/0014). A change bumps the version; loans keep the terms they
/// were made on.
public struct LoanProductStore {
    let db: TenantDB

    public init(_ db: TenantDB) { self.db = db }

    static let columns = """
        id, name, currency::text, min_principal_minor, max_principal_minor, min_term, max_term, frequency, annual_rate_bps, method,
        fee_fixed_minor, fee_bps, grace_instalments, penalty_fixed_minor, penalty_bps, penalty_grace_days, active, version, created_at, updated_at,
        (extract(epoch FROM created_at) * 1000000)::int8
        """
    typealias Row = (UUID, String, String, Int64, Int64, Int, Int, String, Int, String, Int64, Int, Int, Int64, Int, Int, Bool, Int, Date, Date, Int64)

    static func product(_ r: Row) throws -> LoanProduct {
        guard let currency = Currency(code: r.2) else { throw Problem.internalError }
        let terms = LoanProductTerms(
            name: r.1, currency: currency, minPrincipalMinor: r.3, maxPrincipalMinor: r.4, minTerm: r.5, maxTerm: r.6, frequency: try .stored(r.7),
            annualRateBps: r.8, method: try .stored(r.9), feeFixedMinor: r.10, feeBps: r.11, graceInstalments: r.12, penaltyFixedMinor: r.13,
            penaltyBps: r.14, penaltyGraceDays: r.15, active: r.16)
        return LoanProduct(id: LoanProductID(r.0), terms: terms, version: r.17, createdAt: r.18, updatedAt: r.19, position: r.20)
    }

    public func create(_ id: LoanProductID, _ t: LoanProductTerms) async throws -> LoanProduct {
        let row = try await db.query(
            """
            INSERT INTO loan_products (id, name, currency, min_principal_minor, max_principal_minor, min_term, max_term, frequency, annual_rate_bps,
                method, fee_fixed_minor, fee_bps, grace_instalments, penalty_fixed_minor, penalty_bps, penalty_grace_days, active, created_at, updated_at)
            VALUES (\(id), \(t.name), \(t.currency.code), \(t.minPrincipalMinor), \(t.maxPrincipalMinor), \(t.minTerm), \(t.maxTerm),
                \(t.frequency.rawValue), \(t.annualRateBps), \(t.method.rawValue), \(t.feeFixedMinor), \(t.feeBps), \(t.graceInstalments),
                \(t.penaltyFixedMinor), \(t.penaltyBps), \(t.penaltyGraceDays), \(t.active), \(db.now), \(db.now))
            RETURNING \(unescaped: Self.columns)
            """
        ).first(Row.self)
        guard let row else { throw Problem.internalError }
        return try Self.product(row)
    }

    public func find(_ id: LoanProductID) async throws -> LoanProduct? {
        try await db.query("SELECT \(unescaped: Self.columns) FROM loan_products WHERE id = \(id)").first(Row.self).map(Self.product)
    }

    /// Replaces the terms if the product is still at `expected` (nil: any version); nil when it moved on.
    public func update(_ id: LoanProductID, _ t: LoanProductTerms, expected: Int?) async throws -> LoanProduct? {
        try await db.query(
            """
            UPDATE loan_products SET name = \(t.name), currency = \(t.currency.code), min_principal_minor = \(t.minPrincipalMinor),
                max_principal_minor = \(t.maxPrincipalMinor), min_term = \(t.minTerm), max_term = \(t.maxTerm), frequency = \(t.frequency.rawValue),
                annual_rate_bps = \(t.annualRateBps), method = \(t.method.rawValue), fee_fixed_minor = \(t.feeFixedMinor), fee_bps = \(t.feeBps),
                grace_instalments = \(t.graceInstalments), penalty_fixed_minor = \(t.penaltyFixedMinor), penalty_bps = \(t.penaltyBps),
                penalty_grace_days = \(t.penaltyGraceDays), active = \(t.active), version = version + 1, updated_at = \(db.now)
            WHERE id = \(id) AND (\(expected)::int IS NULL OR version = \(expected))
            RETURNING \(unescaped: Self.columns)
            """
        ).first(Row.self).map(Self.product)
    }

    public func list(activeOnly: Bool, page: PageRequest) async throws -> Page<LoanProductView> {
        let after = page.after
        let rows = try await db.query(
            """
            SELECT \(unescaped: Self.columns) FROM loan_products
            WHERE (NOT \(activeOnly) OR active)
              AND (\(after == nil) OR (created_at, id) < ('epoch'::timestamptz + \(after?.position ?? 0) * interval '1 microsecond', \(after?.id ?? UUID())))
            ORDER BY created_at DESC, id DESC LIMIT \(page.limit + 1)
            """
        ).all(Row.self)
        let items = try rows.map(Self.product)
        return page.page(of: items, item: { LoanProductView($0) }, cursor: { PageCursor(position: $0.position, id: $0.id.rawValue) })
    }
}

/// A product as the API shows it.
public struct LoanProductView: Codable, Sendable {
    public struct Range: Codable, Sendable {
        public let minMinor: Int64
        public let maxMinor: Int64
    }

    public struct TermRange: Codable, Sendable {
        public let min: Int
        public let max: Int
    }

    public struct Fee: Codable, Sendable {
        public let fixedMinor: Int64
        public let bps: Int
    }

    public struct Penalty: Codable, Sendable {
        public let fixedMinor: Int64
        public let bps: Int
        public let graceDays: Int
    }

    public let id: LoanProductID
    public let name: String
    public let currency: String
    public let principalRange: Range
    public let termRange: TermRange
    public let frequency: Frequency
    public let annualRateBps: Int
    public let method: LoanMethod
    public let originationFee: Fee
    public let graceInstalments: Int
    public let latePenalty: Penalty
    public let active: Bool
    public let version: Int
    public let createdAt: Date
    public let updatedAt: Date

    public init(_ p: LoanProduct) {
        let t = p.terms
        id = p.id
        name = t.name
        currency = t.currency.code
        principalRange = Range(minMinor: t.minPrincipalMinor, maxMinor: t.maxPrincipalMinor)
        termRange = TermRange(min: t.minTerm, max: t.maxTerm)
        frequency = t.frequency
        annualRateBps = t.annualRateBps
        method = t.method
        originationFee = Fee(fixedMinor: t.feeFixedMinor, bps: t.feeBps)
        graceInstalments = t.graceInstalments
        latePenalty = Penalty(fixedMinor: t.penaltyFixedMinor, bps: t.penaltyBps, graceDays: t.penaltyGraceDays)
        active = t.active
        version = p.version
        createdAt = p.createdAt
        updatedAt = p.updatedAt
    }
}
