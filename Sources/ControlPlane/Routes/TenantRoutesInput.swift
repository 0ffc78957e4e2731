import Hummingbird
import NzilaCore

/// What the tenant routes read from the path.
enum TenantRoutesInput {
    /// The `{slug}` path parameter; a malformed slug cannot name a tenant, so it is a 404.
    static func slug(_ context: some RequestContext) throws -> TenantSlug {
        let raw = context.parameters.get("slug") ?? ""
        guard let slug = try? TenantSlug(raw) else { throw Problem.tenantNotFound("Tenant \(raw.prefix(64)) was not found.") }
        return slug
    }
}
