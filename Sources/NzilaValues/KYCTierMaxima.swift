/// DOMAIN.md's platform maxima for KYC tiers, in CAD minor units over a rolling 30 days (nil:
/// unlimited). The control plane refuses a tenant configuration above them and compliance clamps to
/// them, from this one place.
public enum KYCTierMaxima {
    public static func monthlySendMinor(tier: Int) -> Int64? {
        switch tier {
        case 1: return 50_000
        case 2: return 500_000
        case 3: return 2_500_000
        default: return nil
        }
    }
}
