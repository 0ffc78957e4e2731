import Foundation
import NzilaCore
import NzilaDatabase
import ServiceLifecycle

/// Lending: micro-loans with an explained score, exact schedules, fair early payoff and the
/// Canadian rate cap — products, applications and decisions, disbursement, repayments and payoff,
/// delinquency and write-off, and the scheduler that ages loans on the platform clock.
public struct LendingModule: DomainModule {
    public let name = "lending"
    let scheduler: LoanScheduler
    let platformCapBps: Int
    let tontineOnTime: TontineOnTime

    /// `platformCapBps`: the platform's rate cap (at most the Criminal Code's 3,500); a tenant's
    /// `lending.rate_cap_bps` may only lower it. `tontineOnTime`: the member's tontine record.
    public init(scheduler: LoanScheduler, platformCapBps: Int, tontineOnTime: @escaping TontineOnTime) {
        self.scheduler = scheduler
        self.platformCapBps = min(platformCapBps, LendingSection.legalCapBps)
        self.tontineOnTime = tontineOnTime
    }

    public func mount(on routes: TenantRoutes) {
        LoanProductRoutes(platformCapBps: platformCapBps).mount(on: routes)
        LoanRoutes(platformCapBps: platformCapBps, tontineOnTime: tontineOnTime).mount(on: routes)
    }

    public var services: [any Service] { [scheduler] }
    public var events: [String] { LoanEvents.types }
    public var topics: [StreamTopic] {
        [StreamTopic(name: "loans", eventDomain: "loan", staffPermission: .readLoans, tenantDomain: name)]
    }
}
