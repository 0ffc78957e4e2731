import Foundation
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

    struct MemberBody: StrictBody {
        static let fields: Set<String> = ["email", "full_name", "phone", "password"]
        let email: String
        let fullName: String
        let phone: String?
        let password: String
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

    public func mount(on routing: some TenantRouting) {
        let router = routing.router
        let table = routing.table
        router.route(.post, "/v1/members", "Enrol a member (staff)", in: table, use: routing.scoped { request, scope in
            guard scope.principal.role.may(.createMember) else { throw Problem.forbidden("Your role may not enrol members.") }
            let body = try await request.decodeStrict(MemberBody.self)
            let member = try NewMember.validate(email: body.email, fullName: body.fullName, phone: body.phone, password: body.password)
            let hash = try hasher.hash(member.password)
            let record = try await scope.session.run { try await MemberStore($0).create(member, passwordHash: hash) }
            guard let record else { throw Problem.conflict("member-exists", "A member with email \(member.email) already exists.") }
            await onboarded?(record, scope.session, scope.principal)
            return try Response.json(record, status: .created, headers: [.location: "/v1/members/\(record.id)"])
        })
        router.route(.get, "/v1/members", "List members, newest first (staff)", in: table, use: routing.scoped { request, scope in
            guard scope.principal.role.may(.readMembers) else { throw Problem.forbidden("Your role may not list members.") }
            let page = try PageRequest(query: request.queryDictionary)
            return try Response.json(try await scope.session.run { try await MemberStore($0).list(page) })
        })
        router.route(.get, "/v1/members/{id}", "Get a member (staff, or that member)", in: table, use: routing.scoped { request, scope in
            let id = MemberID(try pathUUID(request, "Member"))
            // Staff without the permission are refused; a member asking for another member finds nothing.
            if scope.memberID == nil, !scope.principal.role.may(.readMembers) { throw Problem.forbidden("Your role may not read members.") }
            let mayRead = scope.memberID == nil || scope.memberID == id
            guard mayRead, let record = try await scope.session.run({ try await MemberStore($0).member(id) }) else {
                throw Problem.notFound("Member \(id.rawValue.lowercased)")
            }
            return try Response.json(record)
        })
        router.route(.post, "/v1/accounts", "Open a chequing or savings account", in: table, use: routing.scoped { request, scope in
            let body = try await request.decodeStrict(AccountBody.self)
            let (owner, kind, currency) = try validate(body, principal: scope.principal)
            let record = try await scope.session.run { try await AccountStore($0).open(member: owner, kind: kind, currency: currency) }
            guard let record else { throw Problem.validation(field: "member_id", "names no active member") }
            return try Response.json(record, status: .created, headers: [.location: "/v1/accounts/\(record.id)"])
        })
        router.route(.get, "/v1/accounts", "List accounts: a member's own, or all for staff", in: table, use: routing.scoped { request, scope in
            let page = try PageRequest(query: request.queryDictionary)
            let member = try visibleMember(scope)
            return try Response.json(try await scope.session.run { try await AccountStore($0).list(page, member: member) })
        })
        router.route(.get, "/v1/accounts/{id}", "Get an account", in: table, use: routing.scoped { request, scope in
            let id = AccountID(try pathUUID(request, "Account"))
            let member = try visibleMember(scope)
            guard let record = try await AccountStore.account(id, visibleTo: member, in: scope.session) else {
                throw Problem.notFound("Account \(id.rawValue.lowercased)")
            }
            return try Response.json(record)
        })
        router.route(.post, "/v1/accounts/{id}/status", "Freeze, unfreeze or close a member account, with a reason (staff)", in: table, use: routing.scoped { request, scope in
            let id = AccountID(try pathUUID(request, "Account", segmentFromEnd: 1))
            let body = try await request.decodeStrict(StatusBody.self)
            var errors: [FieldError] = []
            let target = AccountStatus(rawValue: body.status)
            if target == nil { errors.append(FieldError(field: "status", message: "must be open, frozen or closed")) }
            var reason: String?
            do throws(Problem) { reason = try AccountStatus.validateReason(body.reason) } catch { errors += error.errors }
            guard errors.isEmpty, let target, let reason else { throw Problem.validation(errors) }
            guard scope.memberID == nil, scope.principal.role.may(target.permission) else {
                throw Problem.forbidden(target == .closed ? "Your role may not close accounts." : "Your role may not freeze or unfreeze accounts.")
            }
            guard let record = try await scope.session.run({ try await AccountStore($0).changeStatus(id, to: target, reason: reason, actor: scope.principal) })
            else { throw accountNotFound(id) }
            return try Response.json(record)
        })
        router.route(.get, "/v1/accounts/{id}/status-changes", "An account's status changes, newest first", in: table, use: routing.scoped { request, scope in
            let id = AccountID(try pathUUID(request, "Account", segmentFromEnd: 1))
            let member = try visibleMember(scope)
            let page = try PageRequest(query: request.queryDictionary)
            let changes = try await scope.session.run { db -> Page<StatusChange>? in
                guard try await AccountStore.owned(id, by: member, in: db) else { return nil }
                return try await AccountStore(db).statusChanges(id, page: page)
            }
            guard let changes else { throw accountNotFound(id) }
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

    /// Members see their own accounts; staff with the read permission see all.
    func visibleMember(_ scope: TenantScope) throws -> MemberID? {
        if let member = scope.memberID { return member }
        guard scope.principal.role.may(.readAccounts) else { throw Problem.forbidden("Your role may not read accounts.") }
        return nil
    }
}

