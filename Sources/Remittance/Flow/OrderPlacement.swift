import Ledger
import Compliance
import Foundation
import NzilaCore
import NzilaDatabase

/// `POST /v1/remittances` in one tenant transaction: the quote, the recipient, the sender's limits and
/// AML history (under the member's row lock), both parties screened, the send decision; then the
/// money. Allowed and funded from an account: the funding journal posts and the order goes on to
/// conversion. Held for review: the total is reserved by a hold and a case opens. Funded by webhook:
/// the order waits for the provider's signed event. Refused: nothing is written (the route records a
/// blocked screening on its own, so the officers see it).
public struct OrderPlacement: Sendable {
    public enum Funding: Sendable, Equatable {
        case account(AccountID)
        case webhook
        /// Through the provider the credit union configured for a way to pay (`interac`, `card`; its `funding` section).
        case provider(String)

        var stored: String {
            switch self {
            case .account: "account"
            case .webhook: "webhook"
            case .provider(let way): way
            }
        }
    }

    /// The body's recipient fields before they are checked against the quote's method and currency.
    public struct RecipientFields: Sendable {
        public var name: String?
        public var country: String?
        public var msisdn: String?
        public var mobileOperator: String?
        public var bankCode: String?
        public var accountNumber: String?
        public var idType: String?
        public var idNumber: String?

        public init() {}
    }

    public let quoteID: UUID
    public let recipient: RecipientFields
    public let funding: Funding
    public let deviceID: String?
    public let principal: Principal
    /// The caller's member id when a member places the order.
    public let callerMember: UUID?

    public init(quoteID: UUID, recipient: RecipientFields, funding: Funding, deviceID: String?, principal: Principal, callerMember: UUID?) {
        self.quoteID = quoteID
        self.recipient = recipient
        self.funding = funding
        self.deviceID = deviceID
        self.principal = principal
        self.callerMember = callerMember
    }

    /// How long an order funded by webhook waits for its money before the worker cancels it.
    public static let fundingWindow: TimeInterval = 3_600
    /// How long a held order's hold reserves the money: the longest a hold may live.
    public static let reviewHoldSeconds: TimeInterval = 30 * 86_400

    /// A refusal, with the screenings that led to it when a name was blocked.
    public struct Refused: DomainError {
        public let ruleError: RuleError
        public let memberID: UUID?
        public let blocked: [(purpose: String, name: String, result: ScreeningResult)]
    }

    public func place(_ db: TenantDB, index: ScreeningIndex, keys: TenantDataKeys, now: Date) async throws -> RemittanceOrder {
        let orderID = UUID()
        let (quote, memberID) = try await liveQuote(db, now: now)
        let recipient = try RecipientRules.validate(
            name: recipient.name, method: quote.quote.method, receiveCurrency: quote.quote.receive.currency.code, country: recipient.country,
            msisdn: recipient.msisdn, mobileOperator: recipient.mobileOperator, bankCode: recipient.bankCode, accountNumber: recipient.accountNumber,
            idType: recipient.idType, idNumber: recipient.idNumber)
        guard let profile = try await SenderProfile.load(db, member: memberID, now: now, lock: true), profile.status == .active else {
            throw Problem(.unprocessableContent, "member-not-active", "Member not active", detail: "Member \(memberID.lowercased) is not active.")
        }
        let thresholds = profile.settings.screening
        let senderScreen = index.screen(ScreeningQuery(name: profile.fullName), thresholds: thresholds)
        let recipientScreen = index.screen(ScreeningQuery(name: recipient.name), thresholds: thresholds)
        let transfer = TransferActivity(id: orderID.lowercased, at: now.epochMilliseconds, amountCADMinor: quote.quote.send.minorUnits, deviceID: deviceID)
        // The fraud model scores every order (the rules decide alone when no model is shipped); its score and the
        // features it read are kept with the decision.
        let features = profile.fraudFeatures(transfer, recipient: SenderProfile.recipientKey(name: recipient.name, country: recipient.country))
        let fraud = FraudModels.shipped.map { FraudAssessment(score: $0.score(features), features: features, holdBps: profile.settings.fraudHoldBps) }
        let decision = SendDecision.decide(.init(
            transfer: transfer, history: profile.history, knownDevices: profile.knownDevices, tier: profile.tier,
            monthlyLimitMinor: profile.limits.monthlyMinor, dailyLimitMinor: profile.limits.dailyMinor, aml: profile.settings.aml,
            sender: senderScreen, recipient: recipientScreen, risk: profile.risk, eddFromMinor: profile.settings.risk.eddFromMinor,
            fraud: fraud?.score, fraudHoldBps: profile.settings.fraudHoldBps))
        let holdReasons: [String]
        switch decision {
        case .refuse(let code, let reason):
            let blocked = [("remittance-sender", profile.fullName, senderScreen), ("remittance-recipient", recipient.name, recipientScreen)]
                .filter { $0.2.decision == .block }
            throw Refused(ruleError: RuleError(.unprocessable, code, "Remittance refused", detail: reason), memberID: memberID, blocked: blocked)
        case .hold(let reasons): holdReasons = reasons
        case .allow: holdReasons = []
        }
        let recorded = try await ScreeningStore(db).record([
            .init(purpose: "remittance-sender", memberID: memberID, query: ScreeningQuery(name: profile.fullName), result: senderScreen),
            .init(purpose: "remittance-recipient", memberID: nil, query: ScreeningQuery(name: recipient.name), result: recipientScreen),
        ], by: principal)
        let (senderRecord, recipientRecord) = (recorded[0], recorded[1])
        var path: [(state: OrderState, reason: String)] = [(.created, "placed from quote \(quote.id)")]
        var changes = OrderChanges()
        var fundingExpires: Date?
        var fundingConnection: String?
        switch funding {
        case .account(let account):
            path += [(.awaitingFunding, "funded from account \(account.rawValue.lowercased)"), (.funded, "\(quote.quote.totalDebit) taken from the account"),
                     (.screening, "sender and recipient screened; limits and AML rules checked")]
            changes = try await fundFromAccount(db, account: account, member: memberID, quote: quote, orderID: orderID, held: !holdReasons.isEmpty, now: now)
            path.append(holdReasons.isEmpty ? (.converting, "compliance cleared the order") : (.held, "held for review: " + holdReasons.joined(separator: "; ")))
        case .webhook:
            fundingExpires = now.addingTimeInterval(Self.fundingWindow)
            path.append((.awaitingFunding, "awaiting the funding provider's confirmation"))
            changes.nextStep = .at(fundingExpires!)
        case .provider(let way):
            let section = try await db.query("SELECT value::text FROM tenant_config WHERE key = \(FundingSection.key)").first(String?.self)
            guard let connection = db.read(FundingSection.self, from: section ?? nil)?.connection(for: way) else {
                throw Problem.validation(field: "funding", "the credit union does not take \(way) payments for remittances")
            }
            fundingConnection = connection
            fundingExpires = now.addingTimeInterval(Self.fundingWindow)
            path.append((.awaitingFunding, "awaiting \(way) payment through \(connection)"))
            // The worker asks the provider for the request once this transaction has committed.
            changes.nextStep = .at(now)
        }
        let sealed = try await RecipientSeal.seal(recipient, order: orderID, db: db, keys: keys)
        let store = RemittanceStore(db)
        try await store.insert(
            .init(id: orderID, memberID: memberID, quote: quote, recipient: recipient, sealed: sealed, funding: funding.stored,
                  sourceAccount: { if case .account(let id) = funding { return id.rawValue } else { return nil } }(), changes: changes,
                  holdReasons: holdReasons, fraud: fraud, deviceID: deviceID, fundingExpiresAt: fundingExpires, fundingConnection: fundingConnection, path: path,
                  traceParent: Traces.currentParent),
            by: OrderActor(principal))
        if let deviceID {
            // A device seen for the first time: when (business time), by which order, for how much (the change history).
            try await db.query(
                """
                INSERT INTO member_devices (member_id, device_id, first_seen_at, first_remittance_id, first_amount_minor)
                VALUES (\(memberID), \(deviceID), \(now), \(orderID), \(quote.quote.send.minorUnits)) ON CONFLICT DO NOTHING
                """)
        }
        if path.last?.state == .held {
            let screeningOfConcern = senderScreen.decision == .review ? senderRecord : (recipientScreen.decision == .review ? recipientRecord : nil)
            try await OrderReview.openCase(db, order: orderID, member: memberID, reasons: holdReasons, screening: screeningOfConcern, by: principal)
        }
        // The sender's risk rating with this order among its volumes and recipients (kept only when it changed).
        try await CustomerRiskStore(db).refresh(member: memberID, because: "remittance \(orderID.lowercased) placed")
        guard let placed = try await store.find(orderID, log: true) else { throw Problem.internalError }
        return placed.order
    }

    /// The quote this order is placed from: the caller's (a member's own), unexpired, not used before.
    func liveQuote(_ db: TenantDB, now: Date) async throws -> (QuoteRecord, UUID) {
        guard let quote = try await QuoteStore(db).find(quoteID),
            callerMember == nil || quote.memberID?.rawValue == callerMember
        else { throw Problem.notFound("Quote \(quoteID.lowercased)") }
        guard let member = quote.memberID?.rawValue else {
            throw Problem.validation(field: "quote_id", "must be a quote made for a member (staff name the member when quoting)")
        }
        guard quote.expiresAt > now else {
            throw Problem(.conflict, "quote-expired", "Quote expired", detail: "Quote \(quote.id) expired at \(quote.expiresAt); ask for a new one.")
        }
        guard quote.orderId == nil else {
            throw Problem(.conflict, "quote-used", "Quote used", detail: "Quote \(quote.id) already has an order (\(quote.orderId?.description ?? "")).")
        }
        return (quote, member)
    }

    /// Takes the money now (allowed) or reserves it with a hold (held for review).
    func fundFromAccount(_ db: TenantDB, account: AccountID, member: UUID, quote: QuoteRecord, orderID: UUID, held: Bool, now: Date) async throws
        -> OrderChanges
    {
        var changes = OrderChanges()
        let ledger = RemittanceLedger(db: db)
        let total = quote.quote.totalDebit
        if held {
            let hold = try await HoldStore(db).place(
                on: account, owner: MemberID(member), amount: total, expiresAt: now.addingTimeInterval(Self.reviewHoldSeconds),
                memo: "Remittance \(orderID.lowercased) under review")
            changes.holdID = hold.id.rawValue
        } else {
            let journal = try await ledger.fund(
                orderID: orderID.lowercased, send: quote.quote.send, fee: quote.quote.fee, receive: quote.quote.receive.currency, payer: account,
                owner: member)
            changes.fundingJournal = journal.id.rawValue
            changes.nextStep = .at(now)
        }
        return changes
    }
}
