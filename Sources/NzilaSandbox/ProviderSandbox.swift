import AsyncHTTPClient
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NzilaCore
import NzilaValues
import Synchronization

/// The outside providers of `nzila dev`, on this machine, in the published API shapes the platform's adapters speak, so
/// the demo runs the real adapters end to end (docs/SANDBOX.md): an Interac e-Transfer request-money API, Stripe's
/// PaymentIntents and Identity, Plaid's link / exchange / accounts, Wise's quotes. Deterministic: identifiers are
/// derived from the caller's idempotency keys (a request asked twice is the same request), and outcomes follow
/// documented rules — Stripe's test payment methods (`pm_card_visa` succeeds, `pm_card_chargeDeclined` is declined),
/// Stripe Identity's test outcomes (`verified` / `unverified`), Plaid's sandbox public tokens and fixed accounts,
/// Wise's rate from a fixed table. What a person does at a provider (pays an Interac request, confirms a card, completes
/// a verification) is a sandbox call or a button on the sandbox's page; the provider's signed event is then delivered
/// before that call answers, so "after it happened" is the call's answer, never a wait.
public final class ProviderSandbox: Sendable {
    /// Where a provider delivers its events for one connection (Stripe configures one endpoint per account): the URL, and
    /// the tenant's host it is for.
    public struct Endpoint: Sendable {
        public let url: String
        public init(url: String) { self.url = url }
    }

    public struct Configuration: Sendable {
        /// The key every provider's `Authorization: Bearer` must carry.
        public var apiKey: String
        /// Plaid's `PLAID-CLIENT-ID` and `PLAID-SECRET`.
        public var plaidClientID: String
        public var plaidSecret: String
        /// Signs every event: `Nzila-Signature` (Interac) and `Stripe-Signature` (Stripe).
        public var webhookSecret: String
        /// Where `payment_intent.*` events go.
        public var cardEvents: Endpoint?
        /// Where `identity.verification_session.*` events go.
        public var identityEvents: Endpoint?
        /// Wise's mid-market rates: `"CAD-NGN": "1131.2045"` (the digits as given).
        public var rates: [String: String]
        /// This server's own address, for the links it hands out (`http://127.0.0.1:8082`).
        public var publicBase: String
        /// Where a tenant's address under `.localhost` is reached on this machine: this port (a data plane whose own
        /// idea of its port is not the one it listens on, as in tests), or nil for the address's own port.
        public var localhostPort: Int?

        public init(
            apiKey: String, plaidClientID: String, plaidSecret: String, webhookSecret: String, cardEvents: Endpoint? = nil, identityEvents: Endpoint? = nil,
            rates: [String: String] = [:], publicBase: String
        ) {
            self.apiKey = apiKey
            self.plaidClientID = plaidClientID
            self.plaidSecret = plaidSecret
            self.webhookSecret = webhookSecret
            self.cardEvents = cardEvents
            self.identityEvents = identityEvents
            self.rates = rates
            self.publicBase = publicBase
        }
    }

    /// An event the sandbox delivered (or tried to): what, where, and the receiver's answer.
    public struct Delivery: Sendable, Equatable {
        public let event: String
        public let type: String
        public let url: String
        public let status: Int?
    }

    struct MoneyRequest: Sendable {
        let id: String
        let reference: String
        let value: String
        let currency: String
        let callbackURL: String?
        var status: String
    }

    struct Intent: Sendable {
        let id: String
        let amount: Int64
        let currency: String
        let metadata: [String: String]
        var status: String
        var clientSecret: String { "\(id)_secret_\(ProviderSandbox.digest("secret:\(id)").prefix(16))" }
    }

    struct Verification: Sendable {
        let id: String
        let metadata: [String: String]
        var status: String
        var report: String?
    }

    struct Item: Sendable {
        let id: String
        var loginRequired: Bool
        var removed: Bool
    }

    struct State: Sendable {
        var moneyRequests: [String: MoneyRequest] = [:]
        var intents: [String: Intent] = [:]
        var verifications: [String: Verification] = [:]
        var publicTokens: [String: String] = [:]  // public token → item id (good once)
        var items: [String: Item] = [:]  // access token → item
        var itemCount = 0
        var deliveries: [Delivery] = []
        var eventCount = 0
    }

    let settings: Mutex<Configuration>
    let state = Mutex(State())
    let clock: NzilaCore.Clock
    let client: HTTPClient
    let logger: Logger

    /// `clock`: the platform clock, for the dates the providers answer (a link token's expiry, a document's). Event
    /// signatures carry the machine's time, as a provider's do (`WebhookSignature.receiving`).
    public init(_ configuration: Configuration, clock: NzilaCore.Clock, client: HTTPClient = .shared, logger: Logger) {
        self.settings = Mutex(configuration)
        self.clock = clock
        self.client = client
        self.logger = logger
    }

    var configuration: Configuration { settings.withLock { $0 } }

    /// Changes the configuration while serving (where events go, once the receiver's address is known).
    public func update(_ change: (inout Configuration) -> Void) { settings.withLock { change(&$0) } }

    /// What was delivered so far, oldest first.
    public var deliveries: [Delivery] { state.withLock { $0.deliveries } }

    static func digest(_ text: String) -> String { SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined() }

    /// The sandbox as a server on `host:port` (a ServiceLifecycle service).
    public func application(host: String = "127.0.0.1", port: Int) -> some ApplicationProtocol {
        let router = Router()
        addInterac(router)
        addStripe(router)
        addIdentity(router)
        addPlaid(router)
        addWise(router)
        return Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "nzila-sandbox"), logger: logger)
    }

    // MARK: - Interac e-Transfer request money

    func addInterac(_ router: Router<BasicRequestContext>) {
        router.post("/v1/money-requests") { request, _ -> Response in
            guard self.bearer(request) else { return Self.json(401, ["error": "unauthorized"]) }
            guard let key = request.headers[HTTPField.Name("Idempotency-Key")!], !key.isEmpty else {
                return Self.json(400, ["error": "Idempotency-Key required"])
            }
            let body = try await Self.jsonBody(request)
            let amount = body["amount"] as? [String: Any]
            guard let reference = body["reference"] as? String, let value = (amount?["value"] as? NSNumber)?.stringValue,
                let currency = amount?["currency"] as? String, currency == "CAD"
            else { return Self.json(422, ["error": "reference and amount {value, currency: CAD} required"]) }
            let id = "mr_\(Self.digest("interac:\(key)").prefix(24))"
            let created = self.state.withLock { state in
                if let existing = state.moneyRequests[id] { return existing }
                let made = MoneyRequest(
                    id: id, reference: reference, value: value, currency: currency, callbackURL: body["callback_url"] as? String, status: "pending")
                state.moneyRequests[id] = made
                return made
            }
            return Self.json(201, self.moneyRequestJSON(created))
        }
        router.get("/v1/accounts") { request, _ -> Response in
            guard self.bearer(request) else { return Self.json(401, ["error": "unauthorized"]) }
            return Self.json(200, [["id": "acct_sandbox", "currency": "CAD", "status": "active"]])
        }
        router.get("/v1/money-requests/:id") { request, context -> Response in
            guard self.bearer(request) else { return Self.json(401, ["error": "unauthorized"]) }
            guard let found = self.state.withLock({ $0.moneyRequests[context.parameters.get("id") ?? ""] }) else { return Self.json(404, ["error": "not found"]) }
            return Self.json(200, self.moneyRequestJSON(found))
        }
        // The payer's page (the request's payment_url) and what its buttons do.
        router.get("/interac/pay/:id") { _, context -> Response in
            guard let found = self.state.withLock({ $0.moneyRequests[context.parameters.get("id") ?? ""] }) else { return Self.page(404, "No such request.") }
            let buttons = found.status == "pending"
                ? #"<form method="post" action="/interac/pay/\#(found.id)/deposit"><button>Deposit</button></form><form method="post" action="/interac/pay/\#(found.id)/decline"><button>Decline</button></form>"#
                : "<p>This request is \(found.status).</p>"
            return Self.page(200, "<h1>Interac e-Transfer request (sandbox)</h1><p>\(found.value) \(found.currency)</p>\(buttons)")
        }
        for (action, type, status) in [("deposit", "money_request.deposited", "deposited"), ("decline", "money_request.declined", "declined")] {
            router.post(RouterPath("/interac/pay/:id/\(action)")) { _, context -> Response in
                let id = context.parameters.get("id") ?? ""
                let changed = self.state.withLock { state -> MoneyRequest? in
                    guard var found = state.moneyRequests[id], found.status == "pending" else { return nil }
                    found.status = status
                    state.moneyRequests[id] = found
                    return found
                }
                guard let changed else { return Self.json(409, ["error": "no pending request \(id)"]) }
                let event = self.nextEvent("evt_interac")
                let body: [String: Any] = [
                    "event_id": event, "type": type,
                    "request": ["id": changed.id, "reference": changed.reference, "amount": ["value": NSDecimalNumber(string: changed.value), "currency": changed.currency]],
                ]
                let delivered = await self.deliver(event: event, type: type, to: changed.callbackURL, body: body, header: "Nzila-Signature")
                return Self.json(200, ["request": self.moneyRequestJSON(changed), "delivered": delivered.map { $0 as Any } ?? NSNull()])
            }
        }
    }

    func moneyRequestJSON(_ request: MoneyRequest) -> [String: Any] {
        [
            "id": request.id, "reference": request.reference, "status": request.status,
            "amount": ["value": NSDecimalNumber(string: request.value), "currency": request.currency],
            "payment_url": "\(configuration.publicBase)/interac/pay/\(request.id)",
        ]
    }

    // MARK: - Stripe PaymentIntents

    /// Stripe's test payment methods: what each does on confirmation.
    static let testCards: [String: String?] = [
        "pm_card_visa": nil, "pm_card_mastercard": nil, "pm_card_amex": nil,
        "pm_card_chargeDeclined": "card_declined", "pm_card_chargeDeclinedInsufficientFunds": "insufficient_funds",
        "pm_card_chargeDeclinedExpiredCard": "expired_card",
    ]

    func addStripe(_ router: Router<BasicRequestContext>) {
        router.post("/v1/payment_intents") { request, _ -> Response in
            guard self.bearer(request) else { return Self.stripeError(401, "authentication_required", "Invalid API Key provided") }
            let form = try await Self.formBody(request)
            guard let amount = form["amount"].flatMap({ Int64($0) }), amount > 0, let currency = form["currency"], currency.count == 3 else {
                return Self.stripeError(400, "parameter_missing", "amount and currency are required")
            }
            let key = request.headers[HTTPField.Name("Idempotency-Key")!] ?? UUID().uuidString
            let id = "pi_\(Self.digest("intent:\(key)").prefix(24))"
            let metadata = Self.metadata(form)
            let intent = self.state.withLock { state in
                if let existing = state.intents[id] { return existing }
                let made = Intent(id: id, amount: amount, currency: currency.lowercased(), metadata: metadata, status: "requires_payment_method")
                state.intents[id] = made
                return made
            }
            return Self.json(200, Self.intentJSON(intent))
        }
        router.get("/v1/payment_intents/:id") { request, context -> Response in
            guard self.bearer(request) else { return Self.stripeError(401, "authentication_required", "Invalid API Key provided") }
            guard let intent = self.state.withLock({ $0.intents[context.parameters.get("id") ?? ""] }) else {
                return Self.stripeError(404, "resource_missing", "No such payment_intent")
            }
            return Self.json(200, Self.intentJSON(intent))
        }
        // The member's app confirms with the client secret (or the server with the secret key), as Stripe.js does.
        router.post("/v1/payment_intents/:id/confirm") { request, context -> Response in
            let form = try await Self.formBody(request)
            let id = context.parameters.get("id") ?? ""
            guard let found = self.state.withLock({ $0.intents[id] }) else { return Self.stripeError(404, "resource_missing", "No such payment_intent") }
            guard self.bearer(request) || form["client_secret"].map({ constantTimeEquals(Data($0.utf8), Data(found.clientSecret.utf8)) }) == true else {
                return Self.stripeError(401, "authentication_required", "The client secret does not match")
            }
            guard found.status == "requires_payment_method" else {
                return Self.stripeError(400, "payment_intent_unexpected_state", "This PaymentIntent's status is \(found.status)")
            }
            guard let method = form["payment_method"], let outcome = Self.testCards[method] else {
                return Self.stripeError(400, "resource_missing", "Use a test payment method: \(Self.testCards.keys.sorted().joined(separator: ", "))")
            }
            // Checked again under the lock: of two confirmations at once, one is applied.
            let updated = self.state.withLock { state -> Intent? in
                guard var intent = state.intents[id], intent.status == "requires_payment_method" else { return nil }
                intent.status = outcome == nil ? "succeeded" : "requires_payment_method"
                state.intents[id] = intent
                return intent
            }
            guard let updated else { return Self.stripeError(400, "payment_intent_unexpected_state", "This PaymentIntent was confirmed already") }
            let type = outcome == nil ? "payment_intent.succeeded" : "payment_intent.payment_failed"
            var object = Self.intentJSON(updated)
            if let code = outcome { object["last_payment_error"] = ["type": "card_error", "code": code, "decline_code": code] }
            let event = self.nextEvent("evt")
            let delivered = await self.deliver(
                event: event, type: type, to: self.configuration.cardEvents?.url,
                body: ["id": event, "object": "event", "type": type, "data": ["object": object]], header: "Stripe-Signature")
            object["nzila_sandbox_delivered"] = delivered.map { $0 as Any } ?? NSNull()
            return Self.json(outcome == nil ? 200 : 402, object)
        }
        router.get("/v1/balance") { request, _ -> Response in
            guard self.bearer(request) else { return Self.stripeError(401, "authentication_required", "Invalid API Key provided") }
            return Self.json(200, ["object": "balance", "livemode": false, "available": [["amount": 0, "currency": "cad"]], "pending": [["amount": 0, "currency": "cad"]]])
        }
    }

    static func intentJSON(_ intent: Intent) -> [String: Any] {
        [
            "id": intent.id, "object": "payment_intent", "amount": intent.amount, "currency": intent.currency, "status": intent.status,
            "client_secret": intent.clientSecret, "metadata": intent.metadata, "livemode": false,
        ]
    }

    // MARK: - Stripe Identity

    func addIdentity(_ router: Router<BasicRequestContext>) {
        router.post("/v1/identity/verification_sessions") { request, _ -> Response in
            guard self.bearer(request) else { return Self.stripeError(401, "authentication_required", "Invalid API Key provided") }
            let form = try await Self.formBody(request)
            guard form["type"] == "document" else { return Self.stripeError(400, "parameter_invalid", "type must be document") }
            let key = request.headers[HTTPField.Name("Idempotency-Key")!] ?? UUID().uuidString
            let id = "vs_\(Self.digest("identity:\(key)").prefix(24))"
            let metadata = Self.metadata(form)
            let session = self.state.withLock { state in
                if let existing = state.verifications[id] { return existing }
                let made = Verification(id: id, metadata: metadata, status: "requires_input", report: nil)
                state.verifications[id] = made
                return made
            }
            return Self.json(200, self.sessionJSON(session, expanded: false))
        }
        router.get("/v1/identity/verification_sessions/:id") { request, context -> Response in
            guard self.bearer(request) else { return Self.stripeError(401, "authentication_required", "Invalid API Key provided") }
            guard let session = self.state.withLock({ $0.verifications[context.parameters.get("id") ?? ""] }) else {
                return Self.stripeError(404, "resource_missing", "No such verification session")
            }
            return Self.json(200, self.sessionJSON(session, expanded: true))
        }
        // A report's images (Stripe serves them from its files host): a 1×1 PNG each, the same every time.
        router.get("/v1/files/:id/contents") { request, context -> Response in
            guard self.bearer(request) else { return Self.stripeError(401, "authentication_required", "Invalid API Key provided") }
            let id = context.parameters.get("id") ?? ""
            let known = self.state.withLock { state in
                state.verifications.values.contains { session in session.report.map { id.hasPrefix("file_\($0.dropFirst(3))_") } ?? false }
            }
            guard known else { return Self.stripeError(404, "resource_missing", "No such file") }
            return Response(status: .ok, headers: [.contentType: "image/png"], body: .init(byteBuffer: ByteBuffer(bytes: Self.png)))
        }
        router.get("/identity/verify/:id") { _, context -> Response in
            guard let session = self.state.withLock({ $0.verifications[context.parameters.get("id") ?? ""] }) else { return Self.page(404, "No such session.") }
            let buttons = session.status == "requires_input"
                ? #"<form method="post" action="/identity/verify/\#(session.id)/verified"><button>Verification success</button></form><form method="post" action="/identity/verify/\#(session.id)/unverified"><button>Verification failure</button></form>"#
                : "<p>This session is \(session.status).</p>"
            return Self.page(200, "<h1>Identity verification (sandbox)</h1>\(buttons)")
        }
        for outcome in ["verified", "unverified"] {
            router.post(RouterPath("/identity/verify/:id/\(outcome)")) { _, context -> Response in
                let id = context.parameters.get("id") ?? ""
                let changed = self.state.withLock { state -> Verification? in
                    guard var session = state.verifications[id], session.status == "requires_input" else { return nil }
                    session.status = outcome == "verified" ? "verified" : "requires_input"
                    session.report = "vr_\(Self.digest("report:\(id):\(outcome)").prefix(24))"
                    state.verifications[id] = session
                    return session
                }
                guard let changed else { return Self.json(409, ["error": "no session awaiting input \(id)"]) }
                let type = outcome == "verified" ? "identity.verification_session.verified" : "identity.verification_session.requires_input"
                let event = self.nextEvent("evt")
                let delivered = await self.deliver(
                    event: event, type: type, to: self.configuration.identityEvents?.url,
                    body: ["id": event, "object": "event", "type": type, "data": ["object": self.sessionJSON(changed, expanded: false)]],
                    header: "Stripe-Signature")
                return Self.json(200, ["session": changed.id, "status": changed.status, "delivered": delivered.map { $0 as Any } ?? NSNull()])
            }
        }
    }

    /// A session as Stripe answers it; `expanded`, with its last report: a Canadian driving licence whose number is the
    /// session's own digits, valid five years from the platform's today, selfie matched (or, unverified, neither).
    func sessionJSON(_ session: Verification, expanded: Bool) -> [String: Any] {
        var object: [String: Any] = [
            "id": session.id, "object": "identity.verification_session", "status": session.status, "type": "document",
            "url": "\(configuration.publicBase)/identity/verify/\(session.id)", "client_secret": "\(session.id)_secret_sandbox",
            "metadata": session.metadata, "livemode": false,
        ]
        if expanded, let report = session.report {
            let verified = session.status == "verified"
            let year = Calendar(identifier: .gregorian).component(.year, from: clock.now()) + 5
            let digits = Self.digest(session.id).compactMap { $0.wholeNumberValue }.prefix(9).map(String.init).joined()
            object["last_verification_report"] = [
                "id": report, "object": "identity.verification_report", "type": "document",
                "document": [
                    "status": verified ? "verified" : "unverified", "type": "driving_license", "number": "D\(digits)", "issuing_country": "CA",
                    "expiration_date": ["day": 30, "month": 6, "year": year], "first_name": "Sandbox", "last_name": "Member",
                    "files": ["file_\(report.dropFirst(3))_front", "file_\(report.dropFirst(3))_back"],
                ] as [String: Any],
                "selfie": [
                    "status": verified ? "verified" : "unverified", "document": "file_\(report.dropFirst(3))_front",
                    "selfie": "file_\(report.dropFirst(3))_selfie",
                ],
            ] as [String: Any]
        }
        return object
    }

    /// A 1×1 PNG.
    static let png = Data(base64Encoded: "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")!

    // MARK: - Plaid

    /// Every linked item's accounts (Plaid's sandbox "First Platypus Bank", in CAD): balances as JSON numbers.
    static let accounts: [(suffix: String, name: String, mask: String, type: String, subtype: String, available: String?, current: String)] = [
        ("chk", "Plaid Chequing", "0000", "depository", "checking", "1250.00", "1310.00"),
        ("sav", "Plaid Saving", "1111", "depository", "savings", "5000.00", "5000.00"),
        ("cc", "Plaid Credit Card", "3333", "credit", "credit card", nil, "410.00"),
    ]

    func addPlaid(_ router: Router<BasicRequestContext>) {
        func plaid(_ path: String, _ handle: @escaping @Sendable ([String: Any]) async throws -> Response) {
            router.post(RouterPath(path)) { request, _ -> Response in
                guard request.headers[HTTPField.Name("PLAID-CLIENT-ID")!] == self.configuration.plaidClientID,
                    let secret = request.headers[HTTPField.Name("PLAID-SECRET")!], constantTimeEquals(Data(secret.utf8), Data(self.configuration.plaidSecret.utf8))
                else { return Self.plaidError("INVALID_API_KEYS", "invalid client_id or secret provided", type: "INVALID_INPUT") }
                return try await handle(try await Self.jsonBody(request))
            }
        }
        plaid("/link/token/create") { body in
            let user = (body["user"] as? [String: Any])?["client_user_id"] as? String ?? ""
            guard !user.isEmpty else { return Self.plaidError("INVALID_FIELD", "user.client_user_id is required") }
            let expiry = self.clock.now().addingTimeInterval(4 * 3600).rfc3339
            return Self.json(200, ["link_token": "link-sandbox-\(Self.digest("link:\(user)").prefix(32))", "expiration": expiry, "request_id": self.requestID()])
        }
        // What Link gives the member's app once they sign in to their bank (Plaid's own sandbox call).
        plaid("/sandbox/public_token/create") { body in
            let institution = body["institution_id"] as? String ?? "ins_109508"
            let token = self.state.withLock { state -> String in
                state.itemCount += 1
                let item = "item-sandbox-\(Self.digest("item:\(institution):\(state.itemCount)").prefix(24))"
                let token = "public-sandbox-\(Self.digest("public:\(item)").prefix(32))"
                state.publicTokens[token] = item
                return token
            }
            return Self.json(200, ["public_token": token, "request_id": self.requestID()])
        }
        plaid("/item/public_token/exchange") { body in
            let token = body["public_token"] as? String ?? ""
            guard let item = self.state.withLock({ $0.publicTokens.removeValue(forKey: token) }) else {
                return Self.plaidError("INVALID_PUBLIC_TOKEN", "provided public token is expired or has already been used")
            }
            let access = "access-sandbox-\(Self.digest("access:\(item)").prefix(32))"
            self.state.withLock { $0.items[access] = Item(id: item, loginRequired: false, removed: false) }
            return Self.json(200, ["access_token": access, "item_id": item, "request_id": self.requestID()])
        }
        for path in ["/accounts/get", "/accounts/balance/get"] {
            plaid(path) { body in
                let item = self.state.withLock { $0.items[body["access_token"] as? String ?? ""] }
                guard let item, !item.removed else { return Self.plaidError("INVALID_ACCESS_TOKEN", "provided access token is in an invalid format") }
                if item.loginRequired {
                    return Self.plaidError("ITEM_LOGIN_REQUIRED", "the login details of this item have changed", type: "ITEM_ERROR")
                }
                let accounts = Self.accounts.map { account -> String in
                    let id = "\(Self.digest("account:\(item.id):\(account.suffix)").prefix(24))"
                    // Numbers, as Plaid writes them: the adapter reads their digits.
                    return #"{"account_id":"\#(id)","name":"\#(account.name)","mask":"\#(account.mask)","type":"\#(account.type)","subtype":"\#(account.subtype)","balances":{"available":\#(account.available ?? "null"),"current":\#(account.current),"iso_currency_code":"CAD","limit":null}}"#
                }
                let raw = #"{"accounts":[\#(accounts.joined(separator: ","))],"item":{"item_id":"\#(item.id)"},"request_id":"\#(self.requestID())"}"#
                return Self.json(200, Data(raw.utf8))
            }
        }
        // Plaid's sandbox call that makes the bank ask the member to sign in again; `/sandbox/item/login` (the sandbox's
        // own) stands for the member doing so in Link's update mode.
        for (path, required) in [("/sandbox/item/reset_login", true), ("/sandbox/item/login", false)] {
            plaid(path) { body in
                let access = body["access_token"] as? String ?? ""
                let found = self.state.withLock { state -> Bool in
                    guard state.items[access]?.removed == false else { return false }
                    state.items[access]?.loginRequired = required
                    return true
                }
                return found ? Self.json(200, ["reset_login": true, "request_id": self.requestID()]) : Self.plaidError("INVALID_ACCESS_TOKEN", "unknown access token")
            }
        }
        plaid("/item/remove") { body in
            let access = body["access_token"] as? String ?? ""
            let found = self.state.withLock { state -> Bool in
                guard state.items[access]?.removed == false else { return false }
                state.items[access]?.removed = true
                return true
            }
            return found ? Self.json(200, ["request_id": self.requestID()]) : Self.plaidError("ITEM_NOT_FOUND", "the requested item was not found")
        }
        plaid("/institutions/get") { _ in
            Self.json(200, ["institutions": [["institution_id": "ins_109508", "name": "First Platypus Bank", "country_codes": ["CA"]]], "total": 1, "request_id": self.requestID()])
        }
    }

    func requestID() -> String { "sbx\(state.withLock { state in state.eventCount += 1; return state.eventCount })" }

    // MARK: - Wise

    func addWise(_ router: Router<BasicRequestContext>) {
        router.post("/v3/quotes") { request, _ -> Response in
            guard self.bearer(request) else { return Self.json(401, ["error": "invalid_token"]) }
            let body = try await Self.jsonBody(request)
            let source = body["sourceCurrency"] as? String ?? ""
            let target = body["targetCurrency"] as? String ?? ""
            guard let rate = self.configuration.rates["\(source)-\(target)"] else {
                return Self.json(422, ["errors": [["code": "error.route.not.supported", "message": "\(source) to \(target) is not offered"]]])
            }
            let amount = (body["sourceAmount"] as? NSNumber)?.stringValue ?? "1000"
            let raw = #"{"id":"\#(UUID().uuidString.lowercased())","sourceCurrency":"\#(source)","targetCurrency":"\#(target)","sourceAmount":\#(amount),"rate":\#(rate),"rateType":"FIXED","createdTime":"\#(self.clock.now().rfc3339)"}"#
            return Self.json(200, Data(raw.utf8))
        }
        router.get("/v1/rates") { request, _ -> Response in
            guard self.bearer(request) else { return Self.json(401, ["error": "invalid_token"]) }
            let rows = self.configuration.rates.sorted { $0.key < $1.key }.map { pair, rate -> String in
                let parts = pair.split(separator: "-")
                return #"{"rate":\#(rate),"source":"\#(parts.first ?? "")","target":"\#(parts.last ?? "")"}"#
            }
            return Self.json(200, Data("[\(rows.joined(separator: ","))]".utf8))
        }
    }

    // MARK: - Delivery and plumbing

    func nextEvent(_ prefix: String) -> String {
        "\(prefix)_sandbox_\(state.withLock { state in state.eventCount += 1; return state.eventCount })"
    }

    /// Posts a signed event and records the receiver's answer (nil: nowhere to send it, or it could not be reached).
    /// A host under `.localhost` (a tenant's address in `nzila dev`) is reached on this machine with the host as `Host`.
    func deliver(event: String, type eventType: String, to url: String?, body: [String: Any], header: String) async -> Int? {
        guard let url, let parsed = URL(string: url), let host = parsed.host, let data = try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        else {
            state.withLock { $0.deliveries.append(Delivery(event: event, type: eventType, url: url ?? "", status: nil)) }
            return nil
        }
        var target = url
        var request = HTTPClientRequest(url: url)
        if host.hasSuffix(".localhost") {
            target = "\(parsed.scheme ?? "http")://127.0.0.1:\(configuration.localhostPort ?? parsed.port ?? 80)\(parsed.path)"
            request = HTTPClientRequest(url: target)
            request.headers.add(name: "Host", value: parsed.port.map { "\(host):\($0)" } ?? host)
        }
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        let timestamp = WebhookSignature.receiving { $0 }
        request.headers.add(name: header, value: WebhookSignature.header(secret: configuration.webhookSecret, timestamp: timestamp, body: data))
        request.body = .bytes(ByteBuffer(bytes: data))
        var status: Int?
        do {
            let response = try await client.execute(request, timeout: .seconds(60))
            _ = try await response.body.collect(upTo: 1 << 20)
            status = Int(response.status.code)
        } catch {
            logger.warning("sandbox event not delivered", metadata: ["event": "\(event)", "url": "\(url)", "error": "\(type(of: error))"])
        }
        state.withLock { $0.deliveries.append(Delivery(event: event, type: eventType, url: url, status: status)) }
        return status
    }

    func bearer(_ request: Request) -> Bool {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else { return false }
        return constantTimeEquals(Data(header.dropFirst(7).utf8), Data(configuration.apiKey.utf8))
    }

    static func jsonBody(_ request: Request) async throws -> [String: Any] {
        let data = Data(buffer: try await request.body.collect(upTo: 1 << 20))
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }

    /// An `application/x-www-form-urlencoded` body (Stripe's requests).
    static func formBody(_ request: Request) async throws -> [String: String] {
        let text = String(buffer: try await request.body.collect(upTo: 1 << 20))
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0) }
            if let name = parts.first { fields[name] = parts.count > 1 ? parts[1] : "" }
        }
        return fields
    }

    /// Stripe's `metadata[key]=value` form fields, as a dictionary.
    static func metadata(_ form: [String: String]) -> [String: String] {
        var metadata: [String: String] = [:]
        for (name, value) in form where name.hasPrefix("metadata[") && name.hasSuffix("]") { metadata[String(name.dropFirst(9).dropLast())] = value }
        return metadata
    }

    static func json(_ status: Int, _ object: Any) -> Response {
        let data = object as? Data ?? (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func stripeError(_ status: Int, _ code: String, _ message: String) -> Response {
        json(status, ["error": ["type": "invalid_request_error", "code": code, "message": message]])
    }

    static func plaidError(_ code: String, _ message: String, type: String = "INVALID_REQUEST") -> Response {
        json(400, ["error_type": type, "error_code": code, "error_message": message, "display_message": NSNull()])
    }

    static func page(_ status: Int, _ body: String) -> Response {
        let html = "<!doctype html><html><head><meta charset=utf-8><title>Nzila sandbox</title></head><body>\(body)</body></html>"
        return Response(
            status: .init(code: status), headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
