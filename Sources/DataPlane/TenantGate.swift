import Foundation
import Hummingbird
import NzilaCore
import NzilaDatabase

/// The door of every tenant route: resolves the tenant, authenticates the caller (or, on an open
/// route, takes from the source address's bucket), rate-limits, checks the domain is enabled and
/// opens the session, before the route's child context is built. Nothing of a handler runs, and no
/// body is read, until all of it passed.
struct TenantGate: RouterMiddleware {
    typealias Context = PlaneRequestContext

    enum Caller {
        /// A bearer token of this tenant.
        case authenticated
        /// No token; `perAddress`: the source address is rate-limited too (logins, which hash passwords).
        case open(perAddress: Bool)
    }

    let plane: DataPlane
    let domain: String?
    let caller: Caller

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let tenant = try await plane.resolveTenant(request)
        RequestFacts.note(tenant: tenant.slug.value)
        var principal: Principal?
        switch caller {
        case .authenticated:
            let authenticated = try await plane.authenticate(request, tenant: tenant)
            RequestFacts.note(principal: authenticated.id, role: authenticated.role.rawValue)
            try await plane.admit(tenant, caller: authenticated)
            principal = authenticated
        case .open(let perAddress):
            try await plane.admit(tenant, caller: nil, address: perAddress ? context.clientAddress(request, trusted: plane.settings.trustedProxies) : nil)
        }
        if let domain, !tenant.enabledDomains.contains(domain) {
            throw Problem(.forbidden, "domain-disabled", "Domain disabled", detail: "This credit union has not enabled \(domain).")
        }
        let audit = principal.flatMap { DataPlane.auditAction(request, principal: $0) }
        context.admitted.tenant = tenant
        context.admitted.principal = principal
        context.admitted.session = plane.session(tenant: tenant, principal: principal, audit: audit)
        context.admitted.now = plane.clock.now()
        return try await next(request, context)
    }
}

extension DataPlane {
    /// The routes of one domain (nil: the platform's own, such as member logins) behind their gates.
    func routes(_ router: Router<PlaneRequestContext>, table: RouteTable, domain: String?, openPerAddress: Bool = false) -> TenantRoutes {
        let secured = router.group().add(middleware: TenantGate(plane: self, domain: domain, caller: .authenticated))
            .group(context: TenantRequestContext.self)
        let open = router.group().add(middleware: TenantGate(plane: self, domain: domain, caller: .open(perAddress: openPerAddress)))
            .group(context: OpenTenantRequestContext.self)
        return TenantRoutes(domain: domain, table: table, secured: secured, open: open)
    }
}
