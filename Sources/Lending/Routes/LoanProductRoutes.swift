import Foundation
import HTTPTypes
import Hummingbird
import NzilaCore
import NzilaDatabase

/// `/v1/loan-products`: what the credit union lends (staff with `loans.manage` write; members and
/// staff with `loans.read` read, members the active ones). A product and every change to it is
/// refused when its costliest loan passes the rate cap.
struct LoanProductRoutes: Sendable {
    let platformCapBps: Int

    struct Range: Decodable, Sendable {
        let minMinor: Int64?
        let maxMinor: Int64?
    }

    struct TermRange: Decodable, Sendable {
        let min: Int?
        let max: Int?
    }

    struct Fee: Decodable, Sendable {
        let fixedMinor: Int64?
        let bps: Int?
    }

    struct Penalty: Decodable, Sendable {
        let fixedMinor: Int64?
        let bps: Int?
        let graceDays: Int?
    }

    struct ProductBody: StrictBody {
        static let fields: Set<String> = [
            "name", "currency", "principal_range", "term_range", "frequency", "annual_rate_bps", "method", "origination_fee", "grace_instalments",
            "late_penalty", "active",
        ]
        let name: String?
        let currency: String?
        let principalRange: Range?
        let termRange: TermRange?
        let frequency: String?
        let annualRateBps: Int?
        let method: String?
        let originationFee: Fee?
        let graceInstalments: Int?
        let latePenalty: Penalty?
        let active: Bool?

        var fields: LoanProductTerms.Fields {
            var f = LoanProductTerms.Fields()
            f.name = name
            f.currency = currency
            f.minPrincipalMinor = principalRange?.minMinor
            f.maxPrincipalMinor = principalRange?.maxMinor
            f.minTerm = termRange?.min
            f.maxTerm = termRange?.max
            f.frequency = frequency
            f.annualRateBps = annualRateBps
            f.method = method
            f.feeFixedMinor = originationFee?.fixedMinor
            f.feeBps = originationFee?.bps
            f.graceInstalments = graceInstalments
            f.penaltyFixedMinor = latePenalty?.fixedMinor
            f.penaltyBps = latePenalty?.bps
            f.penaltyGraceDays = latePenalty?.graceDays
            f.active = active
            return f
        }
    }

    /// The terms of a body, checked, within the cap that applies to the tenant today.
    func checked(_ body: ProductBody, db: TenantDB, today: Day) async throws -> LoanProductTerms {
        let terms = try LoanProductTerms.check(body.fields)
        let cap = try await db.lendingPolicy(platformCapBps: platformCapBps).capBps
        try terms.checkCap(capBps: cap, on: today)
        return terms
    }

    static func notFound(_ id: LoanProductID) -> Problem {
        Problem(.notFound, "loan-product-not-found", "Loan product not found", detail: "Loan product \(id) was not found.")
    }

    static func answer(_ product: LoanProduct, status: HTTPResponse.Status = .ok) throws -> Response {
        var response = try Response.json(LoanProductView(product), status: status)
        response.headers[.eTag] = "\"\(product.version)\""
        if status == .created { response.headers[.location] = "/v1/loan-products/\(product.id)" }
        return response
    }

    func mount(on routes: TenantRoutes) {
        routes.route(.post, "/v1/loan-products", "Create a loan product (refused above the rate cap)", access: .staff(.manageLoans), body: ProductBody.self, answer: LoanProductView.self, use: { request, context in
            let body = try await request.decodeStrict(ProductBody.self)
            let today = Day(utc: context.now)!
            let product = try await context.session.run { db in
                try await LoanProductStore(db).create(LoanProductID(UUID()), try await self.checked(body, db: db, today: today))
            }
            return try Self.answer(product, status: .created)
        })
        routes.route(.get, "/v1/loan-products", "Loan products, newest first (members see the active ones)", access: .ownOrStaff(.readLoans), answer: Page<LoanProductView>.self, use: { request, context in
            let page = try PageRequest(query: request.queryDictionary)
            return try Response.json(try await context.session.run { try await LoanProductStore($0).list(activeOnly: context.memberID != nil, page: page) })
        })
        routes.route(.get, "/v1/loan-products/{id}", "A loan product, with its ETag", access: .ownOrStaff(.readLoans), answer: LoanProductView.self, use: { _, context in
            let id = LoanProductID(try context.pathUUID("Loan product"))
            let product = try await context.session.run { try await LoanProductStore($0).find(id) }
            guard let product, product.terms.active || context.memberID == nil else { throw Self.notFound(id) }
            return try Self.answer(product)
        })
        routes.route(.put, "/v1/loan-products/{id}", "Replace a loan product's terms (If-Match; refused above the rate cap)", access: .staff(.manageLoans), body: ProductBody.self, answer: LoanProductView.self, use: { request, context in
            let id = LoanProductID(try context.pathUUID("Loan product"))
            let expected = try request.ifMatchVersion(of: "loan product", read: "GET /v1/loan-products/{id}")
            let body = try await request.decodeStrict(ProductBody.self)
            let today = Day(utc: context.now)!
            let product = try await context.session.run { db -> LoanProduct in
                let store = LoanProductStore(db)
                guard let current = try await store.find(id) else { throw Self.notFound(id) }
                let terms = try await self.checked(body, db: db, today: today)
                guard let updated = try await store.update(id, terms, expected: expected) else {
                    throw Problem(
                        .preconditionFailed, "precondition-failed", "Loan product changed",
                        detail: "The product is at version \(current.version), not \(expected.map(String.init) ?? "*"); read it again (GET) and resend with its ETag.")
                }
                return updated
            }
            return try Self.answer(product)
        })
    }

}
