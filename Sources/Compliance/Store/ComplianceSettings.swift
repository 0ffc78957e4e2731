import Foundation
import NzilaDatabase

/// The tenant's `compliance` configuration section (validated by the control plane), with the
/// platform defaults for whatever it leaves out.
public struct ComplianceSettings: Sendable, Equatable {
    public var screening = ScreeningThresholds.platformDefault
    public var aml = AMLConfig.platformDefault

    public init() {}

    /// From the section's JSON; unknown or missing keys keep the defaults.
    public init(json: Data?) {
        guard let json, let root = (try? JSONSerialization.jsonObject(with: json)) as? [String: Any] else { return }
        if let screening = root["screening"] as? [String: Any], let review = screening["review_bps"] as? Int, let block = screening["block_bps"] as? Int {
            self.screening = ScreeningThresholds(
                review: Double(review) / 10_000, block: Double(block) / 10_000, report: min(ScreeningThresholds.platformDefault.report, Double(review) / 10_000))
        }
        if let aml = root["aml"] as? [String: Any] {
            if let value = aml["max_transfers_per_hour"] as? Int { self.aml.maxTransfersPerHour = value }
            if let value = aml["large_transfer_minor"] as? Int { self.aml.largeTransferMinor = Int64(value) }
            if let value = aml["new_device_minor"] as? Int { self.aml.newDeviceMinor = Int64(value) }
            if let value = aml["structuring_threshold_minor"] as? Int { self.aml.structuringThresholdMinor = Int64(value) }
        }
    }

    /// The tenant's settings, read in the caller's transaction (one small query).
    public static func load(_ db: TenantDB) async throws -> ComplianceSettings {
        let text = try await db.query("SELECT value::text FROM tenant_config WHERE key = 'compliance'").first(String.self)
        return ComplianceSettings(json: text.map { Data($0.utf8) })
    }
}
