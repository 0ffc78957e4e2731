import Foundation
import NzilaDatabase
import NzilaValues

/// The tenant's `compliance` configuration section (validated by the control plane), with the
/// platform defaults for whatever it leaves out.
public struct ComplianceSettings: Sendable, Equatable {
    public var screening = ScreeningThresholds.platformDefault
    public var aml = AMLConfig.platformDefault
    /// The fraud model's probability (basis points) from which a transfer is held; nil (the default): the model's
    /// score is kept with every decision but holds nothing, until the credit union has watched the scores and set one.
    public var fraudHoldBps: Int?
    /// The customer risk rating's lists and EDD threshold: the platform's, with the tenant's added (never looser).
    public var risk = CustomerRisk.Policy()

    public init() {}

    /// From the section; whatever it leaves out keeps the platform's default.
    public init(_ section: ComplianceSection?) {
        if let screening = section?.screening {
            let review = Double(screening.reviewBps) / 10_000
            self.screening = ScreeningThresholds(
                review: review, block: Double(screening.blockBps) / 10_000, report: min(ScreeningThresholds.platformDefault.report, review))
        }
        if let aml = section?.aml {
            if let value = aml.maxTransfersPerHour { self.aml.maxTransfersPerHour = value }
            if let value = aml.largeTransferMinor { self.aml.largeTransferMinor = value }
            if let value = aml.newDeviceMinor { self.aml.newDeviceMinor = value }
            if let value = aml.structuringThresholdMinor { self.aml.structuringThresholdMinor = value }
            if let value = aml.fraudHoldBps { self.fraudHoldBps = value }
        }
        if let risk = section?.risk {
            self.risk.highRiskCountries.formUnion(risk.highRiskCountries ?? [])
            self.risk.highRiskOccupations.formUnion(risk.highRiskOccupations ?? [])
            if let value = risk.eddFromMinor { self.risk.eddFromMinor = min(value, self.risk.eddFromMinor) }
        }
    }

    /// The tenant's settings, read in the caller's transaction (one small query).
    public static func load(_ db: TenantDB) async throws -> ComplianceSettings {
        ComplianceSettings(try await db.section(ComplianceSection.self))
    }
}
