import Foundation
import HTTPTypes
import Hummingbird
import NzilaCore

/// Where a domain module mounts its data-plane routes. The data plane builds it for one domain with
/// its gates in front: a route registered here cannot run before the tenant is resolved, the caller
/// authenticated (or, on an open route, the source address rate-limited), the domain found enabled
/// and the session opened.
public struct TenantRoutes {
    /// The product domain these routes belong to; a tenant whose configuration disables it gets a 403
    /// `domain-disabled` problem from each of them.
    public let domain: String?
    public let table: RouteTable
    let secured: RouterGroup<TenantRequestContext>
    let open: RouterGroup<OpenTenantRequestContext>

    public init(domain: String?, table: RouteTable, secured: RouterGroup<TenantRequestContext>, open: RouterGroup<OpenTenantRequestContext>) {
        self.domain = domain
        self.table = table
        self.secured = secured
        self.open = open
    }

    /// A route with a bearer token; `access` says who may call it, checked before `handler` runs.
    public func route(
        _ method: HTTPRequest.Method, _ path: String, _ summary: String, access: Access, idempotent: Bool = false,
        body: (any Decodable.Type)? = nil, answer: (any Decodable.Type)? = nil,
        use handler: @escaping @Sendable (Request, TenantRequestContext) async throws -> Response
    ) {
        secured.route(method, path, summary, in: table, access: access, idempotent: idempotent, body: body, answer: answer, use: handler)
    }

    /// A route without a bearer token (a login, a signed webhook): the handler authenticates the
    /// caller itself.
    public func openRoute(
        _ method: HTTPRequest.Method, _ path: String, _ summary: String, idempotent: Bool = false,
        body: (any Decodable.Type)? = nil, answer: (any Decodable.Type)? = nil,
        use handler: @escaping @Sendable (Request, OpenTenantRequestContext) async throws -> Response
    ) {
        open.openRoute(method, path, summary, in: table, idempotent: idempotent, body: body, answer: answer, use: handler)
    }
}
