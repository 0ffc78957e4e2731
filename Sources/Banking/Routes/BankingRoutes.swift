import Foundation
import Ledger
import Hummingbird
import NzilaCore
import NzilaDatabase

/// Members and accounts on the data plane.
public struct BankingRoutes: Sendable {
    /// Called after a member is enrolled (the data plane screens them against the sanctions lists).
    public typealias Onboarded = @Sendable (MemberRecord, TenantSession, Principal?) async -> Void

    let hasher: PasswordHasher
    let onboarded: Onboarded?

    public init(hasher: PasswordHasher, onboarded: Onboarded? = nil) {
        self.hasher = hasher
        self.onboarded = onboarded
    }

    /// A new member's details: enrolled by staff here, or registering themselves (`/v1/auth/register`).
    public struct MemberBody: StrictBody {
        public static let fields: Set<String> = ["email", "full_name", "phone", "password"]
        public let email: String
        public let fullName: String
        public let phone: String?
        public let password: String
    }

    struct AccountBody: StrictBody {
        static let fields: Set<String> = ["kind", "currency", "member_id"]
        let kind: String
        let currency: String
        let memberId: String?
    }

    struct StatusBody: StrictBody {
        static let fields: Set<String> = ["status", "reason"]
        let status: String
        let reason: String
    }

    public func mount(on routes: TenantRoutes) {
        routes.route(.post, "/v1/members", "Enrol a member (staff)", access: .staff(.createMember), body: MemberBody.self, answer: MemberRecord.self, use: { request, context in
            let body = try await request.decodeStrict(MemberBody.self)
            let member = try NewMember.validate(email: body.email, fullName: body.fullName, phone: body.phone, password: body.password)
            let hash = try await hasher.hashed(member.password)
            let record = try await context.session.run { try await MemberStore($0).create(member, passwordHash: hash) }
            guard let record else { throw Problem.conflict("member-exists", "A member with email \(member.email) already exists.") }
            await onboarded?(record, context.session, context.principal)
            return try Response.json(record, status: .created, headers: [.location: "/v1/members/\(record.id)"])
        })
        routes.route(.get, "/v1/members", "List members, newest first (staff; ?q= searches name and email)", access: .staff(.readMembers), answer: Page<MemberRecord>.self, use: { request, context in
            let query = request.queryDictionary
            let page = try PageRequest(query: query)
            let search = query["q"]?.trimmingCharacters(in: .whitespaces)
            if let search, search.count > 100 { throw Problem.validation(field: "q", "must be at most 100 characters") }
            return try Response.json(try await context.session.run { try await MemberStore($0).list(page, search: search?.isEmpty == false ? search : nil) })
        })
        routes.route(.get, "/v1/members/{id}", "Get a member (staff, or that member)", access: .ownOrStaff(.readMembers), answer: MemberRecord.self, use: { request, context in
            let id = MemberID(try context.pathUUID("Member"))
            // A member asking for another member finds nothing.
            let mayRead = context.memberID == nil || context.memberID == id
            guard mayRead, let record = try await context.session.run({ try await MemberStore($0).member(id) }) else {
                throw Problem.notFound("Member \(id.rawValue.lowercased)")
            }
            return try Response.json(record)
        })
        routes.route(.post, "/v1/accounts", "Open a chequing or savings account", access: .ownOrStaff(.openAccount), body: AccountBody.self, answer: AccountRecord.self, use: { request, context in
            let body = try await request.decodeStrict(AccountBody.self)
            let (owner, kind, currency) = try validate(body, principal: context.principal)
            let record = try await context.session.run { try await AccountStore($0).open(member: owner, kind: kind, currency: currency) }
            guard let record else { throw Problem.validation(field: "member_id", "names no active member") }
            return try Response.json(record, status: .created, headers: [.location: "/v1/accounts/\(record.id)"])
        })
        routes.route(.get, "/v1/accounts", "List accounts: a member's own, or all for staff (?member_id= for one member's)", access: .ownOrStaff(.readAccounts), answer: Page<AccountRecord>.self, use: { request, context in
            let query = request.queryDictionary
            let page = try PageRequest(query: query)
            var member = context.memberID
            if member == nil, let raw = query["member_id"] {
                guard let id = MemberID(raw) else { throw Problem.validation(field: "member_id", "must be a UUID") }
                member = id
            }
            return try Response.json(try await context.session.run { try await AccountStore($0).list(page, member: member) })
        })
        routes.route(.get, "/v1/accounts/{id}", "Get an account", access: .ownOrStaff(.readAccounts), answer: AccountRecord.self, use: { request, context in
            let id = AccountID(try context.pathUUID("Account"))
            let member = context.memberID
            guard let record = try await AccountStore.account(id, visibleTo: member, in: context.session) else {
                throw Problem.notFound("Account \(id.rawValue.lowercased)")
            }
            return try Response.json(record)
        })
        routes.route(.post, "/v1/accounts/{id}/status", "Freeze, unfreeze or close a member account, with a reason (staff)", access: .staff(.freezeAccount), body: StatusBody.self, answer: AccountRecord.self, use: { request, context in
            let id = AccountID(try context.pathUUID("Account"))
            let body = try await request.decodeStrict(StatusBody.self)
            var errors: [FieldError] = []
            let target = AccountStatus(rawValue: body.status)
            // Closing for good needs more than freezing, which the route already checked.
            if let target { try Access.staff(target.permission).check(context.principal) }
            if target == nil { errors.append(FieldError(field: "status", message: "must be open, frozen or closed")) }
            var reason: String?
            do throws(RuleError) { reason = try AccountStatus.validateReason(body.reason) } catch { errors += error.errors }
            guard errors.isEmpty, let target, let reason else { throw Problem.validation(errors) }
            guard let record = try await context.session.run({ try await AccountStore($0).changeStatus(id, to: target, reason: reason, actor: context.principal) })
            else { throw RuleError.accountNotFound(id) }
            return try Response.json(record)
        })
        routes.route(.get, "/v1/accounts/{id}/status-changes", "An account's status changes, newest first", access: .ownOrStaff(.readAccounts), answer: Page<StatusChange>.self, use: { request, context in
            let id = AccountID(try context.pathUUID("Account"))
            let member = context.memberID
            let page = try PageRequest(query: request.queryDictionary)
            let changes = try await context.session.run { db -> Page<StatusChange>? in
                guard try await AccountStore.owned(id, by: member, in: db) else { return nil }
                return try await AccountStore(db).statusChanges(id, page: page)
            }
            guard let changes else { throw RuleError.accountNotFound(id) }
            return try Response.json(changes)
        })
    }

    func validate(_ body: AccountBody, principal: Principal) throws -> (MemberID, MemberAccountKind, Currency) {
        var errors: [FieldError] = []
        let kind = MemberAccountKind(rawValue: body.kind)
        if kind == nil { errors.append(FieldError(field: "kind", message: "must be chequing, savings or wallet")) }
        let currency = Currency(code: body.currency)
        if currency == nil { errors.append(FieldError(field: "currency", message: "must be a supported ISO 4217 code")) }
        var requested: UUID?
        if let raw = body.memberId {
            requested = UUID(uuidString: raw)
            if requested == nil { errors.append(FieldError(field: "member_id", message: "must be a UUID")) }
        }
        guard errors.isEmpty, let kind, let currency else { throw Problem.validation(errors) }
        return (try AccountOwnerRule.owner(requested: requested, principal: principal), kind, currency)
    }
}
