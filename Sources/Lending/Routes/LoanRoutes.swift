import Foundation
import Hummingbird
import Ledger
import NzilaCore
import NzilaDatabase

/// The tontine on-time ratio of a member (basis points; nil without a record), read by the
/// scorecard. The data plane wires it to the tontine domain (a domain never imports another).
public typealias TontineOnTime = @Sendable (TenantDB, MemberID, Day) async throws -> Int?

/// `/v1/loan-quotes` and `/v1/loans`: apply (scored and decided at once), decide referred
/// applications, disburse, read the schedule, repay, pay off, list by delinquency, write off.
/// Members act on their own loans (another's looks missing); staff per their permission.
struct LoanRoutes: Sendable {
    let platformCapBps: Int
    let tontineOnTime: TontineOnTime

    struct Amount: Decodable, Sendable {
        let amount: Int64?
        let currency: String?
    }

    struct QuoteBody: StrictBody {
        static let fields: Set<String> = ["product_id", "principal", "term"]
        let productId: String?
        let principal: Amount?
        let term: Int?
    }

    struct ApplyBody: StrictBody {
        static let fields: Set<String> = ["product_id", "principal", "term", "purpose", "account_id", "autopay", "member_id"]
        let productId: String?
        let principal: Amount?
        let term: Int?
        let purpose: String?
        /// The member's account the money goes to (and autopay takes from).
        let accountId: String?
        let autopay: Bool?
        /// Staff only: the member applying.
        let memberId: String?
    }

    struct DecisionBody: StrictBody {
        static let fields: Set<String> = ["decision", "reason"]
        let decision: String?
        let reason: String?
    }

    struct RepayBody: StrictBody {
        static let fields: Set<String> = ["amount", "account_id"]
        let amount: Int64?
        let accountId: String?
    }

    struct PayoffBody: StrictBody {
        static let fields: Set<String> = ["account_id", "amount"]
        let accountId: String?
        /// The payoff the member was quoted; refused (409) if today's differs.
        let amount: Int64?
    }

    struct WriteOffBody: StrictBody {
        static let fields: Set<String> = ["reason"]
        let reason: String?
    }

    static func notFound(_ id: LoanID) -> Problem {
        Problem(.notFound, "loan-not-found", "Loan not found", detail: "Loan \(id) was not found.")
    }

    static func product(_ db: TenantDB, _ raw: String?) async throws -> LoanProduct {
        guard let id = raw.flatMap(LoanProductID.init) else { throw Problem.validation(field: "product_id", "must be a loan product's UUID") }
        guard let product = try await LoanProductStore(db).find(id) else { throw Problem.validation(field: "product_id", "must name a loan product of this credit union") }
        return product
    }

    static func reason(_ raw: String?, field: String = "reason") throws -> String {
        let text = raw?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        guard (1...500).contains(text.unicodeScalars.count) else { throw Problem.validation(field: field, "must be 1 to 500 characters") }
        return text
    }

    /// The loan, locked, if the caller may see it (a member: their own).
    static func loan(_ db: TenantDB, _ id: LoanID, context: TenantRequestContext, lock: Bool = false) async throws -> Loan {
        guard let loan = try await LoanStore(db).find(id, member: context.memberID, lock: lock) else { throw notFound(id) }
        return loan
    }

    /// The loan (locked when asked) with its booked instalments, if the caller may see it.
    static func loanWithBook(_ db: TenantDB, _ id: LoanID, context: TenantRequestContext, lock: Bool = false) async throws -> (Loan, [BookedInstalment]) {
        guard let found = try await LoanStore(db).findWithBook(id, member: context.memberID, lock: lock) else { throw notFound(id) }
        return found
    }

    static func account(_ raw: String?) throws -> AccountID {
        guard let id = raw.flatMap(AccountID.init) else { throw Problem.validation(field: "account_id", "must be the UUID of the borrower's account") }
        return id
    }

    func mount(on routes: TenantRoutes) {
        routes.route(.post, "/v1/loan-quotes", "Preview a loan: its schedule to the cent, fee and APR (nothing is stored)", access: .ownOrStaff(.readLoans), body: QuoteBody.self, answer: LoanScheduleView.self, use: { request, context in
            let body = try await request.decodeStrict(QuoteBody.self)
            let today = Day(utc: context.now)!
            let view = try await context.session.run { db -> LoanScheduleView in
                let product = try await Self.product(db, body.productId)
                guard product.terms.active || context.memberID == nil else { throw Problem.validation(field: "product_id", "must name a loan product of this credit union") }
                let (principal, term) = try LoanQuote.checkApplication(product.terms, principalMinor: body.principal?.amount, currency: body.principal?.currency, term: body.term)
                let quote = try LoanQuote.of(product.terms, principalMinor: principal, term: term, on: today)
                let cap = try await db.lendingPolicy(platformCapBps: self.platformCapBps).capBps
                try RateCap.check(apr: quote.apr, capBps: cap)
                return LoanScheduleView(quote: quote, capBps: cap)
            }
            return try Response.json(view)
        })
        routes.route(.post, "/v1/loans", "Apply for a loan: scored and decided at once (approved, referred or declined, with reasons)", access: .ownOrStaff(.manageLoans), idempotent: true, body: ApplyBody.self, answer: LoanRecord.self, use: { request, context in
            let raw = try await request.jsonBody()
            let body = try decodeStrictJSON(ApplyBody.self, from: raw)
            var errors: [FieldError] = []
            var member = context.memberID
            if member == nil {
                member = body.memberId.flatMap(MemberID.init)
                if member == nil { errors.append(FieldError(field: "member_id", message: "must be the UUID of the member applying (staff name them)")) }
            } else if body.memberId != nil, body.memberId.flatMap(MemberID.init) != member {
                errors.append(FieldError(field: "member_id", message: "a member applies for themself only"))
            }
            let account = body.accountId.flatMap(AccountID.init)
            if account == nil { errors.append(FieldError(field: "account_id", message: "must be the UUID of the member's account the loan is paid into")) }
            let purpose = body.purpose?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            if !(1...500).contains(purpose.unicodeScalars.count) { errors.append(FieldError(field: "purpose", message: "must be 1 to 500 characters")) }
            guard errors.isEmpty, let member, let account else { throw Problem.validation(errors) }
            let today = Day(utc: context.now)!
            return try await context.idempotentWrite(request, route: "/v1/loans", raw: raw) { db in
                let product = try await Self.product(db, body.productId)
                let (principal, term) = try LoanQuote.checkApplication(product.terms, principalMinor: body.principal?.amount, currency: body.principal?.currency, term: body.term)
                let (section, cap) = try await db.lendingPolicy(platformCapBps: self.platformCapBps)
                let quote = try LoanQuote.of(product.terms, principalMinor: principal, term: term, on: today)
                try RateCap.check(apr: quote.apr, capBps: cap)
                let store = LoanStore(db)
                guard let facts = try await store.scoreFacts(member, today: today) else {
                    throw Problem.validation(field: "member_id", "must name a member of this credit union")
                }
                guard let owned = try await store.accountFacts(account), owned.member == member else {
                    throw Problem.validation(field: "account_id", "must be an account of the member's")
                }
                if owned.currency != product.terms.currency.code { throw Problem.validation(field: "account_id", "must be in the loan's currency, \(product.terms.currency.code)") }
                if owned.status != "open" { throw Problem.validation(field: "account_id", "must be an open account") }
                let inputs = Scorecard.Inputs(
                    tenureMonths: facts.tenureMonths, averageBalance90DaysMinor: facts.averageBalanceMinor, loanHistory: facts.history,
                    tontineOnTimeBps: try await self.tontineOnTime(db, member, today), kycTier: facts.kycTier)
                let result = try Scorecard.score(inputs, approveAt: section.approveCutoff, declineBelow: section.declineCutoff)
                let id = LoanID(UUID())
                let loan = try await store.create(
                    LoanStore.Application(
                        id: id, member: member, product: product, quote: quote, purpose: purpose, account: account, autopay: body.autopay ?? false, capBps: cap,
                        decision: LoanDecision(inputs: inputs, result: result, approveAt: section.approveCutoff, declineBelow: section.declineCutoff)),
                    by: LoanActor(context.principal))
                return (try LoanRecord(loan), "/v1/loans/\(id)")
            }
        })
        routes.route(.get, "/v1/loans", "Loans, newest first: a member's own; staff all or one member's (?member_id=), by state or delinquency bucket", access: .ownOrStaff(.readLoans), answer: Page<LoanSummary>.self, use: { request, context in
            let query = request.queryDictionary
            let page = try PageRequest(query: query)
            let state = try query["state"].map { raw -> LoanState in
                guard let state = LoanState(rawValue: raw) else { throw Problem.validation(field: "state", "must be one of \(LoanState.allCases.map(\.rawValue).joined(separator: ", "))") }
                return state
            }
            let bucket = try query["bucket"].map { raw -> DelinquencyBucket in
                guard let bucket = DelinquencyBucket(rawValue: raw) else { throw Problem.validation(field: "bucket", "must be 1-30, 31-60, 61-90 or 91+") }
                return bucket
            }
            // A member reads their own; staff may name one member (the portal's member page).
            let member = try context.memberID ?? query["member_id"].map { raw throws(Problem) -> MemberID in
                guard let id = UUID(uuidString: raw) else { throw Problem.validation(field: "member_id", "must be a UUID") }
                return MemberID(id)
            }
            return try Response.json(try await context.session.run {
                try await LoanStore($0).list(member: member, state: state, bucket: bucket, page: page)
            })
        })
        routes.route(.get, "/v1/loans/{id}", "A loan: its terms, the decision with its reasons, and where it stands", access: .ownOrStaff(.readLoans), answer: LoanRecord.self, use: { _, context in
            let id = LoanID(try context.pathUUID("Loan"))
            return try Response.json(try LoanRecord(try await context.session.run { try await Self.loan($0, id, context: context) }))
        })
        routes.route(.post, "/v1/loans/{id}/decision", "Decide a referred application (approved or declined, with a reason)", access: .staff(.manageLoans), body: DecisionBody.self, answer: LoanRecord.self, use: { request, context in
            let id = LoanID(try context.pathUUID("Loan"))
            let body = try await request.decodeStrict(DecisionBody.self)
            var errors: [FieldError] = []
            let decision = body.decision.flatMap(Scorecard.Decision.init(rawValue:)).flatMap { $0 == .referred ? nil : $0 }
            if decision == nil { errors.append(FieldError(field: "decision", message: "must be approved or declined")) }
            let reason = body.reason?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            if !(1...500).contains(reason.unicodeScalars.count) { errors.append(FieldError(field: "reason", message: "must be 1 to 500 characters: say why, specifically")) }
            guard errors.isEmpty, let decision else { throw Problem.validation(errors) }
            let target: LoanState = decision == .approved ? .approved : .declined
            let record = try await context.session.run { db -> LoanRecord in
                let loan = try await Self.loan(db, id, context: context, lock: true)
                guard loan.state == .referred else { throw LoanState.Refusal.illegal(from: loan.state, to: target) }
                var change = LoanStore.Change()
                var stored = try loan.decision()
                stored.staff = LoanDecision.StaffDecision(decision: decision, reason: reason, role: context.principal.role.rawValue)
                change.decision = stored
                guard let decided = try await LoanStore(db).transition(loan, from: .referred, to: target, reason: reason, by: LoanActor(context.principal), change: change) else {
                    throw LoanState.Refusal.illegal(from: loan.state, to: target)
                }
                return try LoanRecord(decided)
            }
            return try Response.json(record)
        })
        routes.route(.post, "/v1/loans/{id}/disburse", "Disburse an approved loan: the principal less the origination fee to the member's account, one journal", access: .staff(.manageLoans), idempotent: true, answer: LoanRecord.self, use: { request, context in
            let id = LoanID(try context.pathUUID("Loan"))
            let raw = request.headers[.contentType] == nil ? Data("{}".utf8) : try await request.jsonBody()
            let today = Day(utc: context.now)!
            return try await context.idempotentWrite(request, route: "/v1/loans/\(id)/disburse", raw: raw, status: .ok) { db in
                let loan = try await Self.loan(db, id, context: context, lock: true)
                return (try LoanRecord(try await LoanMoney.disburse(db, loan: loan, by: LoanActor(context.principal), today: today)), "/v1/loans/\(id)")
            }
        })
        routes.route(.get, "/v1/loans/{id}/schedule", "The schedule to the cent (projected from today until disbursed), with what each instalment received", access: .ownOrStaff(.readLoans), answer: LoanScheduleView.self, use: { _, context in
            let id = LoanID(try context.pathUUID("Loan"))
            let today = Day(utc: context.now)!
            let view = try await context.session.run { db -> LoanScheduleView in
                let (loan, book) = try await Self.loanWithBook(db, id, context: context)
                guard loan.disbursedOn != nil else {
                    guard let terms = loan.terms(disbursedOn: today) else { throw RuleError.invalid(field: "term", "runs past the calendar") }
                    return LoanScheduleView(quote: try LoanQuote.of(terms, feeMinor: loan.feeMinor), capBps: loan.capBps)
                }
                return LoanScheduleView(loan: loan, book: book, rebated: try await LoanStore(db).rebated(id), today: today)
            }
            return try Response.json(view)
        })
        routes.route(.post, "/v1/loans/{id}/repayments", "Repay: allocated penalties → fees → interest → principal, oldest instalment first; beyond what is due, future principal", access: .ownOrStaff(.manageLoans), idempotent: true, body: RepayBody.self, answer: LoanRepaymentView.self, use: { request, context in
            let id = LoanID(try context.pathUUID("Loan"))
            let raw = try await request.jsonBody()
            let body = try decodeStrictJSON(RepayBody.self, from: raw)
            var errors: [FieldError] = []
            if (body.amount ?? 0) <= 0 { errors.append(FieldError(field: "amount", message: "must be a positive integer of minor units")) }
            if body.accountId.flatMap(AccountID.init) == nil { errors.append(FieldError(field: "account_id", message: "must be the UUID of the borrower's account")) }
            guard errors.isEmpty, let amount = body.amount, let account = body.accountId.flatMap(AccountID.init) else { throw Problem.validation(errors) }
            let today = Day(utc: context.now)!
            return try await context.idempotentWrite(request, route: "/v1/loans/\(id)/repayments", raw: raw, finishingWith: { db in
                let (loan, book) = try await Self.loanWithBook(db, id, context: context, lock: true)
                let (view, post) = try await LoanMoney.prepareRepayment(
                    db, loan: loan, book: book, amountMinor: amount, account: account, kind: .repayment, by: LoanActor(context.principal), today: today)
                return (view, "/v1/loans/\(id)", last: post)
            })
        })
        routes.route(.get, "/v1/loans/{id}/payoff", "What closes the loan on a day (as_of, today by default): principal, accrued interest, charges due; later interest rebated", access: .ownOrStaff(.readLoans), answer: LoanPayoffView.self, use: { request, context in
            let id = LoanID(try context.pathUUID("Loan"))
            let today = Day(utc: context.now)!
            var asOf = today
            if let raw = request.queryDictionary["as_of"] {
                guard let day = Day(raw), day >= today else { throw Problem.validation(field: "as_of", "must be a date (YYYY-MM-DD), today or later") }
                asOf = day
            }
            let view = try await context.session.run { db -> LoanPayoffView in
                let (loan, book) = try await Self.loanWithBook(db, id, context: context)
                guard loan.state == .disbursed, let disbursedOn = loan.disbursedOn else { throw LoanState.NotRepayable(loan.state) }
                // A later day also carries the penalties the scheduler will have charged by then, so
                // the quote is what a payoff that day takes if nothing is paid before.
                let projected = LoanStanding.charging(
                    book, today: asOf, graceDays: loan.penaltyGraceDays, fixedMinor: loan.penaltyFixedMinor, bps: loan.penaltyBps).book
                let standing = LoanStanding.of(
                    projected, disbursedOn: disbursedOn, today: asOf, annualRateBps: loan.annualRateBps, graceDays: loan.penaltyGraceDays)
                return LoanPayoffView(loan: loan, standing: standing, book: projected)
            }
            return try Response.json(view)
        })
        routes.route(.post, "/v1/loans/{id}/payoff", "Pay the loan off today at exactly its payoff (amount, if sent, must equal it) and close it", access: .ownOrStaff(.manageLoans), idempotent: true, body: PayoffBody.self, answer: LoanRepaymentView.self, use: { request, context in
            let id = LoanID(try context.pathUUID("Loan"))
            let raw = try await request.jsonBody()
            let body = try decodeStrictJSON(PayoffBody.self, from: raw)
            let account = try Self.account(body.accountId)
            let today = Day(utc: context.now)!
            return try await context.idempotentWrite(request, route: "/v1/loans/\(id)/payoff", raw: raw, finishingWith: { db in
                let (loan, book) = try await Self.loanWithBook(db, id, context: context, lock: true)
                guard loan.state == .disbursed, let disbursedOn = loan.disbursedOn else { throw LoanState.NotRepayable(loan.state) }
                let quote = LoanStanding.of(book, disbursedOn: disbursedOn, today: today, annualRateBps: loan.annualRateBps, graceDays: loan.penaltyGraceDays).quote
                if let amount = body.amount, amount != quote.totalMinor {
                    throw Problem(
                        .conflict, "payoff-changed", "Payoff changed",
                        detail: "The payoff today is \(quote.totalMinor) minor units, not \(amount); read GET /v1/loans/\(id)/payoff again.")
                }
                let (view, post) = try await LoanMoney.prepareRepayment(
                    db, loan: loan, book: book, amountMinor: quote.totalMinor, account: account, kind: .payoff, by: LoanActor(context.principal), today: today)
                return (view, "/v1/loans/\(id)", last: post)
            })
        })
        routes.route(.post, "/v1/loans/{id}/write-off", "Write a disbursed loan off: its principal outstanding moves to loan losses", access: .staff(.manageLoans), body: WriteOffBody.self, answer: LoanRecord.self, use: { request, context in
            let id = LoanID(try context.pathUUID("Loan"))
            let body = try await request.decodeStrict(WriteOffBody.self)
            let reason = try Self.reason(body.reason)
            let record = try await context.session.run { db -> LoanRecord in
                let loan = try await Self.loan(db, id, context: context, lock: true)
                return try LoanRecord(try await LoanMoney.writeOff(db, loan: loan, reason: reason, by: LoanActor(context.principal)))
            }
            return try Response.json(record)
        })
    }
}
