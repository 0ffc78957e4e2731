import Foundation
import Ledger
import NzilaCore
import NzilaDatabase

/// Banking: members, accounts, cash, transfers, conversions, journals and holds on the Ledger.
public struct BankingModule: DomainModule {
    public let name = "banking"
    /// Balance changes of members' accounts, written by the ledger's posting trigger (Migrations/tenant/0015).
    public var events: [String] { [AccountEvents.balanceChanged] }
    public var topics: [StreamTopic] {
        [StreamTopic(name: "accounts", eventDomain: "account", staffPermission: .readAccounts, tenantDomain: name)]
    }
    let hasher: PasswordHasher
    let onboarded: BankingRoutes.Onboarded?
    let keys: TenantDataKeys
    let bankLinks: BankLinkProviders

    /// `onboarded`: a hook run after a member is enrolled (the data plane screens them). `bankLinks`: the registry's
    /// bank-linking connections; `keys` seal their access tokens.
    public init(hasher: PasswordHasher, keys: TenantDataKeys, bankLinks: BankLinkProviders = BankLinkProviders(), onboarded: BankingRoutes.Onboarded? = nil) {
        self.hasher = hasher
        self.onboarded = onboarded
        self.keys = keys
        self.bankLinks = bankLinks
    }

    public func mount(on routes: TenantRoutes) {
        BankingRoutes(hasher: hasher, onboarded: onboarded).mount(on: routes)
        LedgerRoutes().mount(on: routes)
        HoldRoutes().mount(on: routes)
        BankLinkRoutes(keys: keys, providers: bankLinks).mount(on: routes)
    }
}
