import Foundation
import Hummingbird
import Ledger
import NzilaCore
import NzilaDatabase

/// `/v1/tontines` on the data plane: create and join circles, start them, contribute, read them.
/// Members act for themselves (a circle they are not in looks missing, unless it is still forming
/// and so open to join); staff with `tontines.manage` act on every circle.
public struct TontineRoutes: Sendable {
    public init() {}

    struct ContributionAmount: Decodable, Sendable {
        let amount: Int64?
        let currency: String?
    }

    struct CreateBody: StrictBody {
        static let fields: Set<String> = [
            "name", "contribution", "frequency", "max_members", "order", "grace_days", "first_due_date", "early_fee_bps", "payout_account_id",
            "autopay_account_id",
        ]
        let name: String?
        let contribution: ContributionAmount?
        let frequency: String?
        let maxMembers: Int?
        let order: String?
        let graceDays: Int?
        let firstDueDate: String?
        let earlyFeeBps: Int?
        /// A member creating a circle is its first member: where their payout goes.
        let payoutAccountId: String?
        let autopayAccountId: String?
    }

    struct JoinBody: StrictBody {
        static let fields: Set<String> = ["payout_account_id", "autopay_account_id"]
        let payoutAccountId: String?
        let autopayAccountId: String?
    }

    struct AddMemberBody: StrictBody {
        static let fields: Set<String> = ["member_id", "payout_account_id", "autopay_account_id"]
        let memberId: String?
        let payoutAccountId: String?
        let autopayAccountId: String?
    }

    struct StartBody: StrictBody {
        static let fields: Set<String> = ["reason"]
        let reason: String?
    }

    struct ContributeBody: StrictBody {
        static let fields: Set<String> = ["cycle", "account_id", "member_id"]
        let cycle: Int?
        let accountId: String?
        /// Staff only: the member the contribution is for.
        let memberId: String?
    }

    public func mount(on routes: TenantRoutes) {
        routes.route(.post, "/v1/tontines", "Create a circle (a member becomes its organizer and first member)", access: .ownOrStaff(.manageTontines), body: CreateBody.self, answer: TontineRecord.self, use: { request, context in
            let body = try await request.decodeStrict(CreateBody.self)
            let today = CycleClock.day(at: Int64(context.now.timeIntervalSince1970.rounded(.down)))!
            let plan = try CirclePlan.check(
                name: body.name, amountMinor: body.contribution?.amount, currency: body.contribution?.currency, frequency: body.frequency,
                maxMembers: body.maxMembers, order: body.order, graceDays: body.graceDays, firstDueDate: body.firstDueDate, earlyFeeBps: body.earlyFeeBps,
                today: today)
            var accounts: (payout: AccountID, autopay: AccountID?)?
            if context.memberID != nil {
                accounts = try Self.accountIDs(payout: body.payoutAccountId, autopay: body.autopayAccountId)
            } else if body.payoutAccountId != nil || body.autopayAccountId != nil {
                throw Problem.validation(field: "payout_account_id", "staff create a circle without joining it; add members with POST /v1/tontines/{id}/members")
            }
            let id = TontineID(UUID())
            let record = try await context.session.run { db in
                let store = TontineStore(db)
                if let member = context.memberID, let accounts {
                    try await Self.checkAccounts(db, member: member, currency: plan.contribution.currency, payout: accounts.payout, autopay: accounts.autopay)
                }
                try await store.create(id, plan: plan, organizer: context.memberID, seed: Rotation.newSeed(), by: TontineActor(context.principal))
                if let member = context.memberID, let accounts {
                    _ = try await store.join(id, member: member, joinSeq: 1, payout: accounts.payout, autopay: accounts.autopay)
                }
                return try await TontineView(db: db).record(id, viewer: context.memberID)
            }
            return try Response.json(record, status: .created, headers: [.location: "/v1/tontines/\(id)"])
        })
        routes.route(.get, "/v1/tontines", "Circles, newest first: a member's own; staff all", access: .ownOrStaff(.manageTontines), answer: Page<TontineSummary>.self, use: { request, context in
            let page = try PageRequest(query: request.queryDictionary)
            return try Response.json(try await context.session.run { try await TontineStore($0).list(member: context.memberID, page: page) })
        })
        routes.route(
            .get, "/v1/tontine-cycles", "Cycles of running circles due between two days, earliest first (?from=&to=, today and 7 days on by default; ?status=open,short)",
            access: .staff(.manageTontines), answer: Page<DueCycle>.self, use: { request, context in
                let query = request.queryDictionary
                var statuses: [CycleStatus] = [.open, .short]
                if let raw = query["status"] {
                    let parsed = raw.split(separator: ",").map { CycleStatus(rawValue: String($0)) }
                    guard !parsed.isEmpty, parsed.allSatisfy({ $0 != nil }) else {
                        throw Problem.validation(field: "status", "must be a comma-separated list of \(CycleStatus.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    statuses = parsed.compactMap { $0 }
                }
                let days = try DayRange.parse(
                    from: query["from"], to: query["to"], defaultFrom: try DayRange.day(of: context.now.timeIntervalSince1970), defaultSpan: 7, maxDays: 92)
                let page = try PageRequest(query: query)
                return try Response.json(try await context.session.run { try await TontineStore($0).dueCycles(days, statuses: statuses, page: page) })
            })
        routes.route(.get, "/v1/tontines/{id}", "A circle: its members and standing, each cycle and the pool", access: .ownOrStaff(.manageTontines), answer: TontineRecord.self, use: { _, context in
            let id = TontineID(try context.pathUUID("Tontine"))
            return try Response.json(try await context.session.run { try await TontineView(db: $0).record(id, viewer: context.memberID) })
        })
        routes.route(.post, "/v1/tontines/{id}/join", "Join a forming circle", access: .ownOrStaff(.manageTontines), body: JoinBody.self, answer: TontineRecord.self, use: { request, context in
            let id = TontineID(try context.pathUUID("Tontine"))
            let body = try await request.decodeStrict(JoinBody.self)
            guard let member = context.memberID else {
                throw RuleError(.unprocessable, "staff-add-members", "Staff add members", detail: "Staff add a member with POST /v1/tontines/{id}/members.")
            }
            let accounts = try Self.accountIDs(payout: body.payoutAccountId, autopay: body.autopayAccountId)
            let record = try await context.session.run { db in
                try await Self.add(db, circle: id, member: member, payout: accounts.payout, autopay: accounts.autopay)
                return try await TontineView(db: db).record(id, viewer: member)
            }
            return try Response.json(record)
        })
        routes.route(.post, "/v1/tontines/{id}/members", "Add a member to a forming circle", access: .staff(.manageTontines), body: AddMemberBody.self, answer: TontineRecord.self, use: { request, context in
            let id = TontineID(try context.pathUUID("Tontine"))
            let body = try await request.decodeStrict(AddMemberBody.self)
            guard let member = body.memberId.flatMap(MemberID.init) else { throw Problem.validation(field: "member_id", "must be a member's UUID") }
            let accounts = try Self.accountIDs(payout: body.payoutAccountId, autopay: body.autopayAccountId)
            let record = try await context.session.run { db in
                try await Self.add(db, circle: id, member: member, payout: accounts.payout, autopay: accounts.autopay)
                return try await TontineView(db: db).record(id, viewer: nil)
            }
            return try Response.json(record)
        })
        routes.route(.post, "/v1/tontines/{id}/start", "Start a circle: fix the rotation (revealing the seed of a random draw) and the cycles", access: .ownOrStaff(.manageTontines), body: StartBody.self, answer: TontineRecord.self, use: { request, context in
            let id = TontineID(try context.pathUUID("Tontine"))
            let raw = request.headers[.contentType] == nil ? Data("{}".utf8) : try await request.jsonBody()
            let body = try decodeStrictJSON(StartBody.self, from: raw)
            if let reason = body.reason, reason.unicodeScalars.count > 500 { throw Problem.validation(field: "reason", "must be at most 500 characters") }
            let record = try await context.session.run { db in
                try await CircleStart.start(db, circle: id, caller: context.memberID, actor: TontineActor(context.principal), reason: body.reason)
                return try await TontineView(db: db).record(id, viewer: context.memberID)
            }
            return try Response.json(record)
        })
        routes.route(.post, "/v1/tontines/{id}/contributions", "Contribute to a cycle from an own account (late fee and arrears included)", access: .ownOrStaff(.manageTontines), idempotent: true, body: ContributeBody.self, answer: TontineContributionReceived.self, use: { request, context in
            let id = TontineID(try context.pathUUID("Tontine"))
            let raw = try await request.jsonBody()
            let body = try decodeStrictJSON(ContributeBody.self, from: raw)
            var errors: [FieldError] = []
            if !(1...50).contains(body.cycle ?? 0) { errors.append(FieldError(field: "cycle", message: "must be a cycle number, 1 to 50")) }
            let account = body.accountId.flatMap(AccountID.init)
            if account == nil { errors.append(FieldError(field: "account_id", message: "must be the UUID of the member's account the money comes from")) }
            var member = context.memberID
            if member == nil {
                member = body.memberId.flatMap(MemberID.init)
                if member == nil { errors.append(FieldError(field: "member_id", message: "must be the UUID of the member contributing (staff name them)")) }
            } else if body.memberId != nil, body.memberId.flatMap(MemberID.init) != member {
                errors.append(FieldError(field: "member_id", message: "a member contributes for themself only"))
            }
            guard errors.isEmpty, let number = body.cycle, let account, let member else { throw Problem.validation(errors) }
            return try await context.idempotentWrite(request, route: "/v1/tontines/\(id)/contributions", raw: raw) { db in
                let store = TontineStore(db)
                guard let circle = try await store.find(id) else { throw Self.notFound(id) }
                let members = try await store.members(id)
                guard members.contains(where: { $0.member == member }) else {
                    throw context.memberID == nil ? CircleRefusal.notAMember : Self.notFound(id)
                }
                guard circle.state == .active else { throw CircleState.Refusal.illegal(from: circle.state, to: .active) }
                guard let cycle = try await store.lockCycle(id, number) else { throw CircleRefusal.cycleNotFound(number) }
                let settlement = try await CycleSettlement.load(db, circle: circle)
                let received = try await settlement.contribute(
                    cycle, member: member, account: account, source: .member, members: members)
                return (received, "/v1/tontines/\(id)")
            }
        })
    }

    static func notFound(_ id: TontineID) -> Problem {
        Problem(.notFound, "tontine-not-found", "Tontine not found", detail: "Tontine \(id) was not found.")
    }

    static func accountIDs(payout: String?, autopay: String?) throws -> (payout: AccountID, autopay: AccountID?) {
        var errors: [FieldError] = []
        let payoutID = payout.flatMap(AccountID.init)
        if payoutID == nil { errors.append(FieldError(field: "payout_account_id", message: "must be the UUID of the member's account payouts go to")) }
        let autopayID = autopay.flatMap(AccountID.init)
        if autopay != nil, autopayID == nil { errors.append(FieldError(field: "autopay_account_id", message: "must be a UUID")) }
        guard errors.isEmpty, let payoutID else { throw Problem.validation(errors) }
        return (payoutID, autopayID)
    }

    /// The accounts must be the member's own, open, in the circle's currency.
    static func checkAccounts(_ db: TenantDB, member: MemberID, currency: Currency, payout: AccountID, autopay: AccountID?) async throws {
        let facts = try await TontineStore(db).accounts([payout] + (autopay.map { [$0] } ?? []))
        var errors: [FieldError] = []
        for (field, id) in [("payout_account_id", payout), ("autopay_account_id", autopay)] {
            guard let id else { continue }
            guard let fact = facts[id], fact.member == member else {
                errors.append(FieldError(field: field, message: "must be an account of the member's"))
                continue
            }
            if fact.status != .open { errors.append(FieldError(field: field, message: "must be an open account")) }
            if fact.currency != currency.code { errors.append(FieldError(field: field, message: "must be in the circle's currency, \(currency.code)")) }
        }
        guard errors.isEmpty else { throw Problem.validation(errors) }
    }

    /// A member takes the next place in a forming circle.
    static func add(_ db: TenantDB, circle id: TontineID, member: MemberID, payout: AccountID, autopay: AccountID?) async throws {
        let store = TontineStore(db)
        guard let circle = try await store.find(id, lock: true) else { throw notFound(id) }
        guard circle.state == .forming else { throw CircleState.Refusal.illegal(from: circle.state, to: .forming) }
        guard try await store.memberExists(member) else { throw Problem.validation(field: "member_id", "must name a member of this credit union") }
        try await checkAccounts(db, member: member, currency: circle.currency, payout: payout, autopay: autopay)
        let members = try await store.members(id)
        if members.contains(where: { $0.member == member }) { throw CircleRefusal.alreadyMember }
        guard members.count < circle.maxMembers else { throw CircleRefusal.full(max: circle.maxMembers) }
        guard try await store.join(id, member: member, joinSeq: (members.map(\.joinSeq).max() ?? 0) + 1, payout: payout, autopay: autopay) else {
            throw CircleRefusal.alreadyMember
        }
    }
}

/// forming → active.
enum CircleStart {
    static func start(_ db: TenantDB, circle id: TontineID, caller: MemberID?, actor: TontineActor, reason: String?) async throws {
        let store = TontineStore(db)
        guard let circle = try await store.find(id, lock: true) else { throw TontineRoutes.notFound(id) }
        let members = try await store.members(id)
        if let caller {
            guard members.contains(where: { $0.member == caller }) || circle.state == .forming else { throw TontineRoutes.notFound(id) }
            guard circle.organizer == caller else { throw CircleRefusal.notOrganizer }
        }
        if case .failure(let refusal) = circle.state.transition(to: .active) { throw refusal }
        guard members.count >= 2 else { throw CircleRefusal.tooFewMembers(members.count) }
        let today = CycleClock.day(at: Int64(db.now.timeIntervalSince1970.rounded(.down)))!
        guard circle.firstDueDate >= today else { throw CircleRefusal.firstDueDatePassed(circle.firstDueDate) }
        let order = Rotation.order(members.map(\.member), by: circle.order, seed: circle.seed)
        let dues = Schedule.dueDates(cycles: order.count, first: circle.firstDueDate, frequency: circle.frequency)
        guard dues.count == order.count else { throw CircleRefusal.firstDueDatePassed(circle.firstDueDate) }
        let cycles = zip(order, dues).enumerated().map { index, pair in
            TontineStore.NewCycle(
                cycle: index + 1, due: pair.1, recipient: pair.0,
                firstActionAt: Date(timeIntervalSince1970: TimeInterval(CycleClock.reminderAt(due: pair.1))))
        }
        let text = reason?.trimmingCharacters(in: .whitespacesAndNewlines)
        guard try await store.start(
            id, positions: order.enumerated().map { ($0.element, $0.offset + 1) }, cycles: cycles, by: actor,
            reason: (text?.isEmpty ?? true) ? "started" : text!)
        else { throw CircleState.Refusal.illegal(from: circle.state, to: .active) }
    }
}
