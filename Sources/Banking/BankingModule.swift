import Foundation
import NzilaCore
import NzilaDatabase

/// Banking: members, accounts, cash, transfers, conversions, journals and holds on the Ledger.
public struct BankingModule: DomainModule {
    public let name = "banking"
    let hasher: PasswordHasher
    let onboarded: BankingRoutes.Onboarded?

    /// `onboarded`: a hook run after a member is enrolled (the data plane screens them).
    public init(hasher: PasswordHasher, onboarded: BankingRoutes.Onboarded? = nil) {
        self.hasher = hasher
        self.onboarded = onboarded
    }

    public func mount(on routes: TenantRoutes) {
        BankingRoutes(hasher: hasher, onboarded: onboarded).mount(on: routes)
        LedgerRoutes().mount(on: routes)
        HoldRoutes().mount(on: routes)
    }
}
