import Foundation
import HTTPTypes
import Hummingbird
import NzilaCore
import NzilaDatabase

/// Where the control plane's routes are registered: open ones on the router, secured ones behind the
/// staff gate, each with the permission it needs declared once.
struct ControlRoutes {
    let open: Router<PlaneRequestContext>
    /// Open routes that hash passwords or touch tokens: rate-limited per source address first.
    let auth: RouterGroup<PlaneRequestContext>
    let table: RouteTable
    let staff: RouterGroup<StaffRequestContext>

    init(_ plane: ControlPlane, router: Router<PlaneRequestContext>, table: RouteTable) {
        self.open = router
        self.auth = router.group().add(middleware: AddressGate(plane: plane))
        self.table = table
        self.staff = router.group().add(middleware: StaffGate(plane: plane)).group(context: StaffRequestContext.self)
    }

    func route(
        _ method: HTTPRequest.Method, _ path: String, _ summary: String, access: Access, idempotent: Bool = false,
        body: (any Decodable.Type)? = nil, answer: (any Decodable.Type)? = nil,
        use handler: @escaping @Sendable (Request, StaffRequestContext) async throws -> Response
    ) {
        staff.route(method, path, summary, in: table, access: access, idempotent: idempotent, body: body, answer: answer, use: handler)
    }
}

/// The door of every secured control-plane route: authenticates the caller and, on a route about one
/// tenant (`{slug}`), lets platform admins reach any tenant and others only their own; another
/// tenant looks missing (404), so tenants cannot be probed. The route's permission is checked next.
struct StaffGate: RouterMiddleware {
    typealias Context = PlaneRequestContext
    let plane: ControlPlane

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let principal = try await plane.authenticate(request)
        if let slug = context.parameters.get("slug"), principal.role != .platformAdmin, principal.tenant != slug {
            throw Problem.tenantNotFound("Tenant \(slug.prefix(64)) was not found.")
        }
        context.admitted.principal = principal
        return try await next(request, context)
    }
}

/// The door of the control plane's logins: a bucket per source address, so a flood is refused before
/// Argon2id runs.
struct AddressGate: RouterMiddleware {
    typealias Context = PlaneRequestContext
    let plane: ControlPlane

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let address = context.clientAddress(request, trusted: plane.settings.trustedProxies)
        let limit = plane.settings.addressRateLimit
        if case .limited(let wait) = plane.addressLimiter.take(address, limit: limit) {
            throw Problem.rateLimited("per-address", limit: limit, retryAfter: wait)
        }
        return try await next(request, context)
    }
}
