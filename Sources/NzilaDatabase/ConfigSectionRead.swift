import Foundation
import NzilaCore

extension TenantDB {
    /// The tenant's configuration section `S` (one query in the caller's transaction), nil when the
    /// configuration leaves it out.
    public func section<S: ConfigSection>(_ type: S.Type) async throws -> S? {
        read(S.self, from: try await query("SELECT value::text FROM tenant_config WHERE key = \(S.key)").first(String.self))
    }

    /// A section read in the caller's own statement. One the type cannot read (the control plane
    /// refuses such a document since issue 17; an older one could hold it) is logged and treated as
    /// absent, so the platform's defaults apply rather than a 500 on every request of the tenant.
    public func read<S: ConfigSection>(_ type: S.Type, from json: String?) -> S? {
        do {
            return try S.decode(json)
        } catch {
            logger.error("tenant configuration section unreadable; platform defaults apply", metadata: [
                "tenant": "\(tenant.slug.value)", "section": "\(S.key)", "error": "\(error)",
            ])
            return nil
        }
    }
}
