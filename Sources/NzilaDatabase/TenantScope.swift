import Foundation
import Hummingbird
import NzilaCore

/// What a tenant-scoped handler knows: the resolved tenant, the authenticated caller (its token's
/// tenant equals this tenant) and the session that is its only way to the tenant's data.
public struct TenantScope: Sendable {
    public let tenant: TenantRef
    public let principal: Principal
    public let session: TenantSession
    public let now: Date

    public init(tenant: TenantRef, principal: Principal, session: TenantSession, now: Date) {
        self.tenant = tenant
        self.principal = principal
        self.session = session
        self.now = now
    }

    /// The caller's member id when the caller is a member, nil for staff.
    public var memberID: MemberID? { principal.role == .member ? MemberID(principal.id) : nil }
}

public typealias ScopedHandler = @Sendable (Request, TenantScope) async throws -> Response
public typealias RouteHandler = @Sendable (Request, BasicRequestContext) async throws -> Response

/// How a domain module mounts its routes on the data plane without knowing how tenants are resolved
/// or callers authenticated.
public protocol TenantRouting {
    var router: Router<BasicRequestContext> { get }
    var table: RouteTable { get }
    /// The product domain these routes belong to; a tenant whose configuration disables it gets a
    /// 403 `domain-disabled` problem from each of them.
    var domain: String { get }
    /// Wraps a handler: resolve tenant, authenticate, open the session, then call it.
    func scoped(_ handler: @escaping ScopedHandler) -> RouteHandler
    /// Wraps a handler that authenticates the caller itself (a signed webhook): resolve the tenant,
    /// check the domain, open a session with no principal, then call it.
    func unauthenticated(_ handler: @escaping UnauthenticatedHandler) -> RouteHandler
}

/// A tenant route without a bearer token: the resolved tenant, its session (no member) and the time.
public typealias UnauthenticatedHandler = @Sendable (Request, TenantRef, TenantSession, Date) async throws -> Response
