import Foundation
import NzilaCore
import NzilaDatabase
import NzilaPartners

/// Compliance: screening, the case queue and FINTRAC reports, and KYC evidence and tiers.
public struct ComplianceModule: DomainModule {
    public let name = "compliance"
    let screening: ScreeningIndexCache
    let keys: TenantDataKeys
    let onDecision: CaseRoutes.DecisionHook
    let identity: IdentityProviders
    let documents: (any DocumentStore)?
    let documentMaxBytes: Int

    /// `onDecision`: a hook run in a final case decision's transaction (the data plane resumes or
    /// refunds the remittance the case holds).
    public init(
        screening: ScreeningIndexCache, keys: TenantDataKeys, identity: IdentityProviders = IdentityProviders(),
        documents: (any DocumentStore)? = nil, documentMaxBytes: Int = KYCFileRules.defaultMaxBytes,
        onDecision: @escaping CaseRoutes.DecisionHook = { _, _, _, _, _ in }
    ) {
        self.identity = identity
        self.documents = documents
        self.documentMaxBytes = documentMaxBytes
        self.screening = screening
        self.keys = keys
        self.onDecision = onDecision
    }

    public func mount(on routes: TenantRoutes) {
        ComplianceRoutes(screening: screening).mount(on: routes)
        CaseRoutes(onDecision: onDecision).mount(on: routes)
        KYCRoutes(keys: keys).mount(on: routes)
        RiskRoutes().mount(on: routes)
        IdentityRoutes(keys: keys, providers: identity, documents: documents, maxBytes: documentMaxBytes).mount(on: routes)
        KYCFileRoutes(keys: keys, documents: documents, maxBytes: documentMaxBytes).mount(on: routes)
    }
}
