import Compliance
import Foundation
import NzilaCore
import NzilaDatabase
import ServiceLifecycle

/// Remittance: quotes, orders through the payout worker, funding webhooks and send limits.
public struct RemittanceModule: DomainModule {
    public let name = "remittance"
    let screening: ScreeningIndexCache
    let keys: TenantDataKeys
    let worker: RemittanceWorker
    let secret: @Sendable (TenantRef, String) -> String
    let rateFallback: RateFallback?

    /// `secret`: a tenant's webhook secret for a funding provider. `rateFallback`: what prices a quote when the reference
    /// rate is stale (nil: reference rates never go stale).
    public init(
        screening: ScreeningIndexCache, keys: TenantDataKeys, worker: RemittanceWorker, rateFallback: RateFallback? = nil,
        secret: @escaping @Sendable (TenantRef, String) -> String
    ) {
        self.rateFallback = rateFallback
        self.screening = screening
        self.keys = keys
        self.worker = worker
        self.secret = secret
    }

    public func mount(on routes: TenantRoutes) {
        let worker = self.worker
        QuoteRoutes(fallback: rateFallback).mount(on: routes)
        RemittanceRoutes(screening: screening, keys: keys, kick: { worker.kick($0) }).mount(on: routes)
        FundingWebhookRoutes(secret: secret, kick: { worker.kick($0) }).mount(on: routes)
        PayoutCallbackRoutes(step: worker.step, kick: { worker.kick($0) }).mount(on: routes)
        FundingProviderRoutes(partners: worker.step.partners, keys: keys, kick: { worker.kick($0) }).mount(on: routes)
    }

    public var services: [any Service] { [worker] }
    public var events: [String] { OrderState.allCases.map(\.event) }
    public var topics: [StreamTopic] {
        [StreamTopic(name: "remittances", eventDomain: "remittance", staffPermission: .readRemittances, tenantDomain: name)]
    }
}
