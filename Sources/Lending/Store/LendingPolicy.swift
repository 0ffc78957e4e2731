import NzilaCore
import NzilaDatabase

extension TenantDB {
    /// The tenant's `lending` section (or the defaults) and the rate cap that applies to it: the
    /// lowest of the Criminal Code's, the platform's and the tenant's.
    func lendingPolicy(platformCapBps: Int) async throws -> (section: LendingSection, capBps: Int) {
        let section = try await section(LendingSection.self) ?? .none
        return (section, section.capBps(platform: platformCapBps))
    }
}
