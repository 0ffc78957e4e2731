import Foundation
import Hummingbird
import NIOCore
import NzilaCore

/// The request context both planes start from: the core storage, the peer's address (rate limits of
/// unauthenticated routes are per source address), and what a plane's gate middleware admitted. The
/// gate fills `admitted`; route groups then build a child context that carries it non-optionally, so
/// a handler of a secured route cannot run without it.
public struct PlaneRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    public var admitted = Admission()

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    /// The key of the client's per-address rate limit (`ClientAddress`): the peer, or the client a
    /// trusted proxy forwarded for.
    public func clientAddress(_ request: Request, trusted: [ClientAddress.Network]) -> String {
        ClientAddress.key(peer: remoteAddress?.ipAddress, forwardedFor: request.headers[.xForwardedFor], trusted: trusted)
    }
}

/// What a gate established about a request.
public struct Admission: Sendable {
    public var principal: Principal?
    public var tenant: TenantRef?
    public var session: TenantSession?
    /// The platform time the request runs at (the clock is read once, at admission).
    public var now: Date?

    public init() {}
}

/// A data-plane request of a tenant route with a bearer token: the resolved tenant, the authenticated
/// caller (its token's tenant is this tenant; the route's `Access` already checked), and the session
/// that is its only way to the tenant's data.
public struct TenantRequestContext: ChildRequestContext, PrincipalRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let tenant: TenantRef
    public let principal: Principal
    public let session: TenantSession
    public let now: Date

    public init(context: PlaneRequestContext) throws {
        guard let tenant = context.admitted.tenant, let principal = context.admitted.principal, let session = context.admitted.session,
            let now = context.admitted.now
        else { throw Problem.internalError }
        self.coreContext = context.coreContext
        (self.tenant, self.principal, self.session, self.now) = (tenant, principal, session, now)
    }

    /// The caller's member id when the caller is a member, nil for staff. On an `.ownOrStaff` route it
    /// is also the scope of what the caller may see: their own data, or (nil) everything.
    public var memberID: MemberID? { principal.role == .member ? MemberID(principal.id) : nil }

    /// The member of the path (`{id}`) of an `.ownOrStaff` route under `/v1/members/{id}`: a member names only
    /// themselves (another member's id looks missing: 404); staff name any.
    public func pathMember() throws -> UUID {
        let member = try pathUUID("Member")
        guard memberID == nil || memberID?.rawValue == member else { throw Problem.notFound("Member \(member.lowercased)") }
        return member
    }

    /// The member a request is about: a member acts on themselves only (naming another looks
    /// missing: 404); staff name one (`member_id`).
    public func subject(named raw: String?) throws -> MemberID {
        if let own = memberID {
            if let raw, MemberID(raw) != own { throw Problem.notFound("Member \(raw.prefix(40))") }
            return own
        }
        guard let raw else { throw Problem.validation(field: "member_id", "name the member (staff act for a member)") }
        guard let id = MemberID(raw) else { throw Problem.validation(field: "member_id", "must be a UUID") }
        return id
    }
}

/// A data-plane request of a tenant route without a bearer token (logins, signed webhooks): the
/// resolved tenant, its session (no member) and the time.
public struct OpenTenantRequestContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let tenant: TenantRef
    public let session: TenantSession
    public let now: Date

    public init(context: PlaneRequestContext) throws {
        guard let tenant = context.admitted.tenant, let session = context.admitted.session, let now = context.admitted.now else {
            throw Problem.internalError
        }
        self.coreContext = context.coreContext
        (self.tenant, self.session, self.now) = (tenant, session, now)
    }
}

/// A control-plane request of a secured route: the authenticated caller.
public struct StaffRequestContext: ChildRequestContext, PrincipalRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let principal: Principal

    public init(context: PlaneRequestContext) throws {
        guard let principal = context.admitted.principal else { throw Problem.internalError }
        self.coreContext = context.coreContext
        self.principal = principal
    }
}
