import Banking
import Ledger
import Compliance
import Remittance
import Tontine
import Trading
import Lending
import Foundation
import Hummingbird
import HummingbirdWebSocket
import NIOCore
import NzilaCore
import NzilaDatabase
import PostgresNIO
import ServiceLifecycle
import StaffWeb

/// Builds the data-plane HTTP application. The caller runs the pools.
public func buildDataPlaneApplication(_ plane: DataPlane, onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) -> some ApplicationProtocol {
    let app = PlaneApplication(
        readiness: plane.groupClients, deadlineSeconds: plane.settings.requestDeadlineSeconds, logger: plane.logger, plane: "data",
        metricsToken: plane.settings.metricsToken, tracer: plane.settings.tracer)
    let platform = plane.routes(app.router, table: app.routes, domain: nil, openPerAddress: true)
    plane.addMemberAuthRoutes(platform)
    plane.addStreamRoute(platform)
    plane.addWebhookRoutes(platform)
    plane.addNotificationRoutes(platform)
    for module in plane.modules {
        module.mount(on: plane.routes(app.router, table: app.routes, domain: module.name))
    }
    // The staff portal: pages over the routes above, called in process.
    let api = InProcessAPI(table: app.routes)
    plane.portal(api: api).mount(on: app.router)
    api.install(app.router)
    return app.application(
        title: "Nzila data plane", description: "Tenant-scoped banking and compliance APIs for member apps and portals.", host: plane.settings.host,
        port: plane.settings.port, name: "nzila-data-plane", logger: plane.logger,
        server: .http1WebSocketUpgrade(
            webSocketRouter: plane.streamUpgradeRouter(),
            configuration: .init(ws: .init(autoPing: .enabled(timePeriod: .seconds(max(1, plane.settings.streamPingSeconds)))))),
        tls: plane.settings.tls, onServerRunning: onServerRunning)
}

extension DataPlane {
    /// The product domains this plane serves, one line each, with the hooks that connect them (a
    /// domain never imports another).
    public var modules: [any DomainModule] {
        [
            BankingModule(hasher: hasher, keys: dataKeys, bankLinks: bankLinks, onboarded: screenNewMember),
            ComplianceModule(
                screening: screening, keys: dataKeys, identity: identity, documents: documents, documentMaxBytes: settings.documentMaxBytes,
                onDecision: { db, record, status, principal, now in
                try await OrderReview.caseDecided(db, record: record, status: status, by: principal, now: now)
            }),
            RemittanceModule(screening: screening, keys: dataKeys, worker: remittanceWorker, rateFallback: rateFallback, secret: { webhookSecret(tenant: $0, provider: $1) }),
            TontineModule(scheduler: tontineScheduler),
            LendingModule(scheduler: loanScheduler, platformCapBps: settings.lendingRateCapBps, tontineOnTime: { db, member, today in
                try await TontineCredit.onTimeBps(db, member: member, today: today)
            }),
            TradingModule(matcher: orderMatcher, prices: priceBroadcast, snapshots: portfolioSnapshotter, alerts: alertWatcher, copies: copyGuard),
        ]
    }

    /// The domains' own ledger invariants, which `verify-ledger` checks beside the ledger's.
    public static var ledgerChecks: [LedgerVerifier.Check] { TontineLedgerChecks.all + LendingLedgerChecks.all + TradingLedgerChecks.all }

    /// The domains' services and the platform's own workers (hold expiry), for the command that
    /// runs the plane.
    public var workers: [any Service] { modules.flatMap(\.services) + [holdExpiry, webhooks, notifications, marketIngestion] }

    /// What every instance runs for its own live streams, workers or not: the live topic families
    /// that are services (the price broadcast).
    public var streamServices: [any Service] { modules.flatMap(\.liveTopics).compactMap { $0 as? any Service } }

    /// Screens a member just enrolled (by staff or by themselves) when the tenant has compliance on.
    var screenNewMember: BankingRoutes.Onboarded {
        { [screening, logger] record, session, principal in
            guard session.tenant.enabledDomains.contains("compliance") else { return }
            await MemberScreening(cache: screening, logger: logger).onboard(memberID: record.id.rawValue, fullName: record.fullName, session: session, by: principal)
        }
    }
}
