import Foundation
import Hummingbird
import NzilaCore
import NzilaDatabase
import NzilaPartners

/// A member's external bank accounts, linked through the credit union's bank-linking provider (`funding.bank_link`, a
/// Plaid-style registry connection), under `/v1/members/{id}/bank-links`:
///
/// - `POST …/link-token`: a link token the member's app opens the provider's Link flow with.
/// - `POST …` `{public_token}`: the token Link handed back, exchanged for the item's access token (sealed, never
///   shown); the item's accounts are read and the link recorded. The provider is called outside any transaction.
/// - `GET …`: the member's links and their accounts (name, mask, type, currency), never a token.
/// - `GET …/{link}/balance[?account_id=…&amount=…]`: balances read live from the bank, in minor units; with an amount
///   (minor units of the account's currency), whether the available balance covers a pull of it.
/// - `DELETE …/{link}`: the item ended at the provider, then its sealed token erased.
///
/// A provider's refusal is a 422 (`bank-link-refused`, with its code) or, when the bank wants the member to sign in
/// again, a 409 `bank-link-login-required` (the link is marked so); an unreachable provider is a 503 with `Retry-After`.
public struct BankLinkRoutes: Sendable {
    let keys: TenantDataKeys
    let providers: BankLinkProviders

    public init(keys: TenantDataKeys, providers: BankLinkProviders) {
        self.keys = keys
        self.providers = providers
    }

    struct LinkBody: StrictBody {
        static let fields: Set<String> = ["public_token"]
        let publicToken: String
    }

    struct LinkTokenAnswer: Codable, Sendable {
        let linkToken: String
        let expiration: String
    }

    struct Balance: Codable, Sendable {
        let linkId: String
        let accounts: [PlaidBankLinks.Account]
        let asOf: Date
        let amount: Int64?
        /// Whether the account's available balance covers `amount` (nil: no amount asked, or the bank gave no available balance).
        let covers: Bool?
    }

    public func mount(on routes: TenantRoutes) {
        routes.route(.post, "/v1/members/{id}/bank-links/link-token", "A link token for the member's app to open the bank-linking flow with", access: .ownOrStaff(.openAccount), answer: LinkTokenAnswer.self, use: { _, context in
            let member = try context.pathMember()
            let provider = try await provider(context, member: member)
            let token = try await call { try await provider.linkToken(member: member, clientName: context.tenant.slug.value) }
            return try Response.json(LinkTokenAnswer(linkToken: token.linkToken, expiration: token.expiration), status: .created, headers: [.cacheControl: "no-store"])
        })
        routes.route(.post, "/v1/members/{id}/bank-links", "Link an external bank item from the public token the bank-linking flow handed back", access: .ownOrStaff(.openAccount), body: LinkBody.self, answer: BankLink.self, use: { request, context in
            try await link(request, context)
        })
        routes.route(.get, "/v1/members/{id}/bank-links", "A member's linked external bank accounts (no tokens, no balances)", access: .ownOrStaff(.readAccounts), answer: [BankLink].self, use: { _, context in
            let member = try context.pathMember()
            let links = try await context.session.run { db -> [BankLink] in
                guard try await BankLinkStore(db).memberExists(member) else { throw Problem.notFound("Member \(member.lowercased)") }
                return try await BankLinkStore(db).links(of: member)
            }
            return try Response.json(links)
        })
        routes.route(.get, "/v1/members/{id}/bank-links/{link}/balance", "A linked item's balances read live from the bank; with ?account_id=&amount=, whether the available balance covers a pull", access: .ownOrStaff(.readAccounts), answer: Balance.self, use: { request, context in
            try await balance(request, context)
        })
        routes.route(.delete, "/v1/members/{id}/bank-links/{link}", "Unlink an external bank item: ended at the provider, its token erased", access: .ownOrStaff(.openAccount), answer: BankLink.self, use: { _, context in
            try await unlink(context)
        })
    }

    /// The tenant's provider, the member checked to exist.
    func provider(_ context: TenantRequestContext, member: UUID) async throws -> PlaidBankLinks {
        let connection = try await context.session.unaudited.run { db -> String? in
            guard try await BankLinkStore(db).memberExists(member) else { throw Problem.notFound("Member \(member.lowercased)") }
            return try await BankLinkStore(db).connection()
        }
        return try provider(named: connection, tenant: context.tenant.slug.value)
    }

    func provider(named connection: String?, tenant: String) throws -> PlaidBankLinks {
        guard let connection else {
            throw Problem(.unprocessableContent, "bank-linking-unavailable", "No bank linking", detail: "The credit union links no external bank accounts.")
        }
        guard providers.tenants.allows(connection, tenant: tenant) else {
            throw Problem(
                .unprocessableContent, "partner-not-allowed", "Provider not available",
                detail: "The bank-linking provider \(connection) is not available to this credit union.")
        }
        guard let provider = providers.provider(connection) else {
            throw Problem(
                .serviceUnavailable, "bank-link-provider-unavailable", "Bank-linking provider unavailable",
                detail: "The bank-linking provider \(connection) is not reachable from this data plane.")
        }
        return provider
    }

    /// A provider call: its refusal said to the caller, its failure a 503 to retry.
    func call<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let refused as PlaidBankLinks.BankLinkRefused {
            if refused.loginRequired {
                throw Problem(
                    .conflict, "bank-link-login-required", "Sign in to the bank again", detail: "The bank wants the member to sign in again through the linking flow.")
            }
            throw Problem(.unprocessableContent, "bank-link-refused", "The bank-linking provider refused", detail: refused.description)
        } catch is PartnerUnavailable, is PartnerAnswerTooLarge {
            throw Problem(
                .serviceUnavailable, "bank-link-provider-unavailable", "Bank-linking provider unavailable", detail: "The bank-linking provider did not answer; try again.",
                headers: [.retryAfter: "30"])
        }
    }

    func link(_ request: Request, _ context: TenantRequestContext) async throws -> Response {
        let member = try context.pathMember()
        let body = try await request.decodeStrict(LinkBody.self)
        guard BankLinkRules.validPublicToken(body.publicToken) else {
            throw Problem.validation(field: "public_token", "must be the token the bank-linking flow handed back")
        }
        let connection = try await context.session.unaudited.run { db -> String? in
            guard let count = try await BankLinkStore(db).lockedCount(member: member) else { throw Problem.notFound("Member \(member.lowercased)") }
            try Self.checkRoom(count)
            return try await BankLinkStore(db).connection()
        }
        let provider = try provider(named: connection, tenant: context.tenant.slug.value)
        let item = try await call { try await provider.exchange(publicToken: body.publicToken) }
        let id = UUID()
        let accounts: [PlaidBankLinks.Account]
        do {
            accounts = try await call { try await provider.accounts(accessToken: item.accessToken, live: false) }
        } catch {
            // Not recorded: the item is ended at the provider, so no live token is left that nothing here can reach.
            try? await provider.remove(accessToken: item.accessToken)
            throw error
        }
        let recorded: BankLink?
        do {
            recorded = try await context.session.run { db -> BankLink? in
                let store = BankLinkStore(db)
                guard let count = try await store.lockedCount(member: member) else { throw Problem.notFound("Member \(member.lowercased)") }
                try Self.checkRoom(count)
                guard try await store.record(
                    id, member: member, connection: provider.name, item: item, accounts: accounts.map(\.linked), by: ChangeActor(context.principal), keys: keys)
                else { return nil }
                guard let link = try await store.link(id, member: member) else { throw Problem.internalError }
                return link
            }
        } catch {
            try? await provider.remove(accessToken: item.accessToken)
            throw error
        }
        // The item is already linked (its row holds the token that ends it): ending it here would cut that link too.
        guard let recorded else { throw Problem(.conflict, "bank-link-exists", "Already linked", detail: "This bank item is already linked.") }
        return try Response.json(recorded, status: .created)
    }

    static func checkRoom(_ count: Int) throws {
        guard count < BankLinkRules.maxLinksPerMember else {
            throw Problem(.conflict, "too-many-bank-links", "Too many linked banks", detail: "A member links at most \(BankLinkRules.maxLinksPerMember) bank items.")
        }
    }

    func balance(_ request: Request, _ context: TenantRequestContext) async throws -> Response {
        let member = try context.pathMember()
        let id = try context.pathUUID("Link", "link")
        let query = request.uri.queryParameters
        let account = query["account_id"].map(String.init)
        var amount: Int64?
        if let raw = query["amount"] {
            guard let value = Int64(String(raw)), value > 0 else { throw Problem.validation(field: "amount", "must be a positive amount in minor units") }
            guard account != nil else { throw Problem.validation(field: "account_id", "is needed with an amount") }
            amount = value
        }
        guard let (connection, token, status) = try await context.session.run({ try await BankLinkStore($0).token(id, member: member, keys: keys) }) else {
            throw Problem.notFound("Link \(id.lowercased)")
        }
        let provider = try provider(named: connection, tenant: context.tenant.slug.value)
        let accounts: [PlaidBankLinks.Account]
        do {
            // Every account of the item, filtered here: an id the bank does not know is this link's 404, not a refusal.
            accounts = try await call { try await provider.accounts(accessToken: token, live: true) }.filter { account == nil || $0.id == account }
        } catch let problem as Problem where problem.code == "bank-link-login-required" {
            try await context.session.unaudited.run { try await BankLinkStore($0).setStatus(id, "login_required") }
            throw problem
        }
        if let account, accounts.isEmpty { throw Problem.notFound("Account \(account.prefix(60))") }
        // A read that succeeds after the bank asked the member to sign in again: the link is active again (one
        // statement, only then; an ordinary read costs no write).
        if status == "login_required" { try await context.session.unaudited.run { try await BankLinkStore($0).clearLoginRequired(id) } }
        let covered = amount.flatMap { amount in BankLinkRules.covers(available: accounts.first { $0.id == account }?.available, amount: amount) }
        return try Response.json(
            Balance(linkId: id.lowercased, accounts: accounts, asOf: context.now, amount: amount, covers: covered), headers: [.cacheControl: "no-store"])
    }

    func unlink(_ context: TenantRequestContext) async throws -> Response {
        let member = try context.pathMember()
        let id = try context.pathUUID("Link", "link")
        guard let (connection, token, _) = try await context.session.unaudited.run({ try await BankLinkStore($0).token(id, member: member, keys: keys) }) else {
            throw Problem.notFound("Link \(id.lowercased)")
        }
        let provider = try provider(named: connection, tenant: context.tenant.slug.value)
        // The token is erased only once the item is ended at the provider (or the provider no longer knows it): a refusal
        // (rate limit, rotated keys) keeps it, so the member can unlink again and nothing stays live unreachable.
        try await call {
            do {
                try await provider.remove(accessToken: token)
            } catch let refused as PlaidBankLinks.BankLinkRefused where refused.itemGone {}
        }
        let link = try await context.session.run { db -> BankLink in
            try await BankLinkStore(db).setStatus(id, "removed")
            guard let link = try await BankLinkStore(db).link(id, member: member) else { throw Problem.internalError }
            return link
        }
        return try Response.json(link)
    }
}
