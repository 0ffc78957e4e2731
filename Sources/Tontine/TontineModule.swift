import Foundation
import NzilaCore
import NzilaDatabase
import ServiceLifecycle

/// Tontine: rotating savings circles on the credit union's ledger — circles, members, the
/// rotation, contributions and payouts, swaps, disputes, dissolution, the credit record, and the
/// scheduler that moves cycles on the platform clock.
public struct TontineModule: DomainModule {
    public let name = "tontine"
    let scheduler: TontineScheduler

    public init(scheduler: TontineScheduler) {
        self.scheduler = scheduler
    }

    public func mount(on routes: TenantRoutes) {
        TontineRoutes().mount(on: routes)
        TontinePeopleRoutes().mount(on: routes)
    }

    public var services: [any Service] { [scheduler] }
    public var events: [String] { TontineEvents.types }
    public var topics: [StreamTopic] {
        [StreamTopic(name: "tontines", eventDomain: "tontine", staffPermission: .manageTontines, tenantDomain: name)]
    }
}
