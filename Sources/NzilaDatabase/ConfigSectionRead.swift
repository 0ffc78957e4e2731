import Foundation
import NzilaCore

extension TenantDB {
    /// The tenant's configuration section `S` (one query in the caller's transaction), nil when the
    /// configuration leaves it out.
    public func section<S: ConfigSection>(_ type: S.Type) async throws -> S? {
        try S.decode(try await query("SELECT value::text FROM tenant_config WHERE key = \(S.key)").first(String.self))
    }
}
