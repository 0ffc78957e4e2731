import Foundation

/// `rate_limits` (optional): a tenant's lower request rates (the platform's are the ceiling).
public struct RateLimitsSection: ConfigSection, Equatable {
    public static let key = "rate_limits"
    public let tenantPerSecond: Int?
    public let tenantBurst: Int?
    public let memberPerSecond: Int?
    public let memberBurst: Int?
    public let addressPerSecond: Int?
    public let addressBurst: Int?

    /// Request rates per second and bursts, for the whole tenant and for each member or staff caller.
    /// The data plane applies them under the platform's ceiling (a tenant may lower, not raise, them).
    public static func check(_ value: Any, at path: String, into check: inout ConfigChecker) {
        let keys = ["tenant_per_second", "tenant_burst", "member_per_second", "member_burst", "address_per_second", "address_burst"]
        guard let limits = check.object(value, at: path, required: [], optional: keys) else { return }
        for key in keys where limits[key] != nil { check.integer(limits[key], at: "\(path).\(key)", in: 1...1_000_000) }
    }
}
