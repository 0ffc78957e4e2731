import Foundation

/// What a staff role may do, on either plane. The matrix is `policies/staff_roles.yaml` (a test
/// keeps the two equal); every route checks one of these. Members hold none: they act on their own
/// data, checked by ownership. Non-platform roles act only within their own tenant.
public enum Permission: String, Sendable, CaseIterable {
    // Data plane: banking.
    case createMember = "members.create"
    case readMembers = "members.read"
    case openAccount = "accounts.open"
    case readAccounts = "accounts.read"
    /// Freeze and unfreeze a member account.
    case freezeAccount = "accounts.freeze"
    /// Close an empty member account, for good.
    case closeAccount = "accounts.close"
    case postCash = "ledger.cash"
    case transferAny = "ledger.transfer"
    case readLedger = "ledger.read"
    /// Correct a journal with its exact opposite.
    case reverseJournal = "ledger.reverse"
    // Data plane: compliance.
    /// Screen a name against the sanctions and PEP lists (the decision is recorded).
    case screenNames = "compliance.screen"
    /// Read recorded screenings, cases and reports.
    case readCompliance = "compliance.read"
    /// Work the case queue: assign, comment, decide; draft reports.
    case manageCases = "compliance.cases"
    /// Record KYC evidence and move members between tiers.
    case manageKYC = "kyc.manage"
    /// Unseal a document number (audited).
    case revealKYC = "kyc.reveal"
    // Data plane: remittance.
    /// Quote and send remittances for members (members do it for themselves).
    case sendRemittances = "remittances.send"
    /// Read remittance orders and their status logs (members read their own).
    case readRemittances = "remittances.read"
    // Data plane: tontine.
    /// Create circles, add members, start them, contribute for members and read every circle
    /// (members do it for their own circles).
    case manageTontines = "tontines.manage"
    // Data plane: lending.
    /// Loan products, staff decisions on referred applications, disbursement, write-off, and
    /// applying or repaying for a member (members apply and repay for themselves).
    case manageLoans = "loans.manage"
    /// Read every loan, its schedule, payoff and the delinquency list (members read their own).
    case readLoans = "loans.read"
    // Data plane: paper trading.
    /// Read the market (instruments, quotes, bars) and every member's paper accounts, orders and
    /// positions (members read the market and their own).
    case readTrading = "trading.read"
    /// Open a member's paper account, place and cancel orders for them (members trade for themselves).
    case manageTrading = "trading.manage"
    // Data plane: the platform.
    /// Add, rotate, disable and delete the tenant's webhook endpoints, read and retry deliveries.
    case manageWebhooks = "webhooks.manage"
    // Control plane.
    /// Provision, list, suspend, resume and offboard tenants.
    case manageTenants = "tenants.manage"
    /// Read the tenant's registry record.
    case readTenant = "tenants.read"
    case createStaff = "staff.create"
    case readConfig = "config.read"
    /// Change the configuration and the domains.
    case writeConfig = "config.write"
    case readAudit = "audit.read"
    /// Read and move the platform's test clock (routes that exist only under `nzila dev --test-clock`).
    case moveTestClock = "platform.test_clock"
}

extension Role {
    public static let matrix: [Role: Set<Permission>] = [
        .platformAdmin: [.manageTenants, .readTenant, .createStaff, .readConfig, .writeConfig, .readAudit, .moveTestClock],
        .tenantAdmin: Set(Permission.allCases).subtracting([.manageTenants, .moveTestClock]),
        .teller: [.createMember, .readMembers, .openAccount, .readAccounts, .postCash, .transferAny, .readLedger, .readTenant, .readConfig, .manageKYC,
                  .sendRemittances, .readRemittances, .manageTontines, .readLoans, .readTrading],
        .complianceOfficer: [.readMembers, .readAccounts, .freezeAccount, .readLedger, .readTenant, .readConfig, .screenNames, .readCompliance, .manageCases,
                             .manageKYC, .revealKYC, .readRemittances, .readLoans, .readTrading],
        .auditor: [.readMembers, .readAccounts, .readLedger, .readTenant, .readConfig, .readAudit, .readCompliance, .readRemittances, .readLoans,
                   .readTrading],
    ]

    public func may(_ permission: Permission) -> Bool {
        Role.matrix[self]?.contains(permission) ?? false
    }
}
