import Banking
import Ledger
import Compliance
import Remittance
import Foundation
import Hummingbird
import NIOCore
import NzilaCore
import NzilaDatabase
import PostgresNIO

/// Builds the data-plane HTTP application. The caller runs the pools.
public func buildDataPlaneApplication(_ plane: DataPlane, onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) -> some ApplicationProtocol {
    let app = PlaneApplication(
        readiness: plane.groupClients, deadlineSeconds: plane.settings.requestDeadlineSeconds, logger: plane.logger, plane: "data",
        metricsToken: plane.settings.metricsToken, tracer: plane.settings.tracer)
    plane.addMemberAuthRoutes(plane.routes(app.router, table: app.routes, domain: nil, openPerAddress: true))
    let routing = plane.routes(app.router, table: app.routes, domain: "banking")
    BankingRoutes(hasher: plane.hasher, onboarded: plane.screenNewMember).mount(on: routing)
    LedgerRoutes().mount(on: routing)
    HoldRoutes().mount(on: routing)
    let compliance = plane.routes(app.router, table: app.routes, domain: "compliance")
    ComplianceRoutes(screening: plane.screening).mount(on: compliance)
    CaseRoutes(onDecision: { db, record, status, principal, now in
        try await OrderReview.caseDecided(db, record: record, status: status, by: principal, now: now)
    }).mount(on: compliance)
    KYCRoutes(keys: plane.dataKeys).mount(on: compliance)
    let remittance = plane.routes(app.router, table: app.routes, domain: "remittance")
    QuoteRoutes().mount(on: remittance)
    let worker = plane.remittanceWorker
    RemittanceRoutes(screening: plane.screening, keys: plane.dataKeys, kick: { worker.kick($0) }).mount(on: remittance)
    FundingWebhookRoutes(secret: { plane.webhookSecret(tenant: $0, provider: $1) }, kick: { worker.kick($0) }).mount(on: remittance)
    return app.application(
        title: "Nzila data plane", description: "Tenant-scoped banking and compliance APIs for member apps and portals.", host: plane.settings.host,
        port: plane.settings.port, name: "nzila-data-plane", logger: plane.logger, onServerRunning: onServerRunning)
}

extension DataPlane {
    /// Screens a member just enrolled (by staff or by themselves) when the tenant has compliance on.
    var screenNewMember: BankingRoutes.Onboarded {
        { [screening, logger] record, session, principal in
            guard session.tenant.enabledDomains.contains("compliance"), let id = UUID(uuidString: record.id) else { return }
            await MemberScreening(cache: screening, logger: logger).onboard(memberID: id, fullName: record.fullName, session: session, by: principal)
        }
    }
}
