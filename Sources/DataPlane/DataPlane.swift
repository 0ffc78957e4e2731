import AsyncHTTPClient
import Banking
import Compliance
import Foundation
import NIOSSL
import Hummingbird
import Logging
import NzilaCore
import NzilaDatabase
import NzilaPartners
import PostgresNIO
import Remittance
import Tontine
import Trading
import Lending
import Synchronization
import Tracing

/// Everything the data plane's handlers share.
public struct DataPlane: Sendable {
    public struct Settings: Sendable {
        public var host = "127.0.0.1"
        public var port = 8081
        /// Serve TLS 1.3 with this configuration (`PlaneTLS`; nil: plain HTTP).
        public var tls: TLSConfiguration?
        public var baseDomain = "localhost"
        /// The data plane's address as partners reach it, `{tenant}` where a tenant's slug goes
        /// (`NZILA_PUBLIC_URL`, e.g. `https://{tenant}.cu.example`): payout partners post their status callbacks there.
        /// By default `http://{tenant}.<base domain>:<port>`, which only this machine reaches.
        public var publicURL = Env()["NZILA_PUBLIC_URL"].flatMap { $0.isEmpty ? nil : $0 }
        /// The largest KYC file taken (`NZILA_DOCUMENT_MAX_BYTES`, 10 MiB by default, at most 64 MiB).
        public var documentMaxBytes = Env()["NZILA_DOCUMENT_MAX_BYTES"].flatMap(Int.init).map { min(max($0, 1024), 64 << 20) }
            ?? KYCFileRules.defaultMaxBytes
        /// Where registry credentials are resolved when the registry changes while the plane runs (the process's
        /// environment in `nzila data-plane` and `nzila dev`): the change feed then rebuilds the provider sets
        /// (`PartnerReload`). nil: the sets given at start are served until a restart.
        public var partnerEnvironment: [String: String]?
        /// Where the control plane publishes its keys.
        public var jwksURL = "http://127.0.0.1:8080/.well-known/jwks.json"
        public var tokenLifetimeSeconds = 900
        /// The control plane's base URL (staff sign in to the portal through its login); by default the
        /// host of `jwksURL`.
        public var controlPlaneURL: String {
            get { controlPlaneOverride ?? jwksURL.replacingOccurrences(of: "/.well-known/jwks.json", with: "") }
            set { controlPlaneOverride = newValue }
        }
        var controlPlaneOverride: String?
        /// The portal's sessions end after this long without a request (`NZILA_WEB_IDLE_SECONDS`).
        public var webIdleSeconds = Env().int("NZILA_WEB_IDLE_SECONDS", default: 1_800)
        /// `Secure` on the portal's cookies: off only for `nzila dev` and tests on plain http.
        public var secureCookies = Env()["NZILA_WEB_INSECURE_COOKIES"] != "1"
        /// The tenant migration version this build's queries need; a tenant behind it answers 503
        /// until `nzila migrate apply` upgrades it, instead of failing on a missing column (0: no check).
        public var requiredTenantSchemaVersion = 0
        /// Requests still running after this answer 503 (0: no bound).
        public var requestDeadlineSeconds = Double(Env().int("NZILA_REQUEST_DEADLINE", default: 15))
        /// A direct connection to PostgreSQL (not PgBouncer) for the registry's change feed; nil: none,
        /// and tenant changes are seen through the one-second cache lifetime only.
        public var changeFeedURL: DatabaseURL?
        /// The bearer token `GET /metrics` requires; unset, the plane serves no metrics.
        public var metricsToken = Env()["NZILA_METRICS_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        /// The platform's request rates (a ceiling tenants may lower in their configuration).
        public var rateLimits = RateLimitPolicy.platform()
        /// Proxies whose `X-Forwarded-For` names the client (`NZILA_TRUSTED_PROXIES`, comma-separated
        /// networks such as `10.0.0.0/8`); the per-address limits key on that client. Empty: the peer.
        public var trustedProxies = ClientAddress.networks(Env()["NZILA_TRUSTED_PROXIES"])
        /// How long a tenant's `rate_limits` section is trusted before it is read again.
        public var rateLimitConfigSeconds = Double(Env().int("NZILA_RATE_CONFIG_SECONDS", default: 30))
        /// How often the remittance worker sweeps every tenant for due orders (it is also kicked by requests).
        public var remittanceSweepSeconds = Env().int("NZILA_REMITTANCE_SWEEP_SECONDS", default: 10)
        /// How often expired holds of idle accounts are released (also at once when a test clock moves).
        public var holdExpirySweepSeconds = Env().int("NZILA_HOLD_EXPIRY_SWEEP_SECONDS", default: 300)
        /// How often the tontine scheduler looks for due cycles (a moved test clock wakes it at once).
        public var tontineSweepSeconds = Env().int("NZILA_TONTINE_SWEEP_SECONDS", default: 60)
        /// How often the loan scheduler looks for loans to age (a moved test clock wakes it at once).
        public var loanSweepSeconds = Env().int("NZILA_LOAN_SWEEP_SECONDS", default: 60)
        /// The seeded market's seed (paper trading): the same seed replays the same quotes.
        public var marketSeed = Env().string("NZILA_MARKET_SEED", default: "nzila")
        /// The market feed: the seeded simulation unless NZILA_MARKET_FEED=alphavantage, which then
        /// needs NZILA_ALPHAVANTAGE_KEY (and takes NZILA_ALPHAVANTAGE_URL, NZILA_ALPHAVANTAGE_SYMBOLS).
        public var alphaVantage: AlphaVantageFeed.Configuration? =
            Env()["NZILA_MARKET_FEED"] == "alphavantage" ? AlphaVantageFeed.Configuration(environment: ProcessInfo.processInfo.environment) : nil
        /// How often quotes and bars are taken from the feed into `reference` (a moved test clock wakes it at once).
        public var marketIngestSeconds = Env().int("NZILA_MARKET_INGEST_SECONDS", default: 15)
        /// How often working paper orders are matched against the stored quotes (a moved test clock wakes it at once).
        public var tradingMatchSeconds = Env().int("NZILA_TRADING_MATCH_SECONDS", default: 5)
        /// Tenants the matcher works on at once (each one transaction per due book): half a pool
        /// group's connections by default, the other half left to requests.
        public var tradingMatchWidth = Env().int("NZILA_TRADING_MATCH_WIDTH", default: 8)
        /// How often the paper accounts' daily snapshots are looked for (a moved test clock and stored bars wake it at once).
        public var tradingSnapshotSeconds = Env().int("NZILA_TRADING_SNAPSHOT_SECONDS", default: 300)
        /// The platform's cap on a loan's cost of credit, in basis points of APR: the Criminal Code's
        /// 35% (3,500) unless set lower; a tenant's `lending.rate_cap_bps` may only lower it further.
        public var lendingRateCapBps = min(Env().int("NZILA_LENDING_RATE_CAP_BPS", default: 3_500), 3_500)
        /// Spans per request, per statement and per partner call (nil: tracing off, the default).
        public var tracer: (any Tracer)?
        /// Follow the stack's test clock (`nzila dev --test-clock`): the change feed adopts each move
        /// the control plane announces. The plane's clock must then be movable.
        public var testClock = false
        /// Live streams: how long an unauthenticated stream may wait before its auth message, how many
        /// events may wait unread before a stream is closed as too slow, and the ping period (a peer
        /// that does not answer a ping by the next one is dropped).
        public var streamAuthSeconds = Double(Env().int("NZILA_STREAM_AUTH_SECONDS", default: 5))
        public var streamQueueLimit = Env().int("NZILA_STREAM_QUEUE_LIMIT", default: 1_000)
        public var streamPingSeconds = Env().int("NZILA_STREAM_PING_SECONDS", default: 30)
        /// The outbox relay (`EventRelay`): sweep period, credential checks, retention.
        public var events: EventRelay.Settings = {
            var settings = EventRelay.Settings()
            settings.sweepInterval = .seconds(max(1, Env().int("NZILA_EVENT_SWEEP_SECONDS", default: 10)))
            settings.retentionDays = max(1, Env().int("NZILA_EVENT_RETENTION_DAYS", default: 7))
            return settings
        }()
        /// Tenant webhooks (`WebhookDispatcher`): sweep period; loopback targets only in development
        /// (`nzila dev` turns it on, so the demo and tests can receive them).
        public var webhooks: WebhookDispatcher.Settings = {
            var settings = WebhookDispatcher.Settings()
            settings.sweepInterval = .seconds(max(1, Env().int("NZILA_WEBHOOK_SWEEP_SECONDS", default: 10)))
            settings.allowLoopback = Env()["NZILA_WEBHOOKS_ALLOW_LOOPBACK"] == "1"
            return settings
        }()
        /// Member notifications (`NotificationService`): sweep period.
        public var notifications: NotificationService.Settings = {
            var settings = NotificationService.Settings()
            settings.sweepInterval = .seconds(max(1, Env().int("NZILA_NOTIFICATION_SWEEP_SECONDS", default: 10)))
            return settings
        }()

        public init() {}
    }

    public let settings: Settings
    /// One pool per PgBouncer pool group (`nzila_g<N>`); a tenant's transactions use its group's pool.
    public let groupClients: [PostgresClient]
    public let directory: TenantDirectory
    /// The registry pool (PgBouncer, the application role).
    let registry: PostgresClient
    public let keyRing: KeyRing
    public let hasher: PasswordHasher
    /// The sanctions and PEP lists, indexed once for every request.
    public let screening = ScreeningIndexCache()
    /// Each tenant's data key for PII (document numbers), unsealed with the master key on first use.
    public let dataKeys: TenantDataKeys
    public let clock: NzilaCore.Clock
    public let logger: Logger
    let verifier = TokenVerifier(audience: Audience.dataPlane)
    let jwks: JWKSFetcher
    /// The master key: it derives each tenant's webhook secrets.
    let secrets: SecretBox
    /// A path at a tenant's address as partners reach it (where they post callbacks): the public address with the
    /// tenant's slug in it (nil when the template has no `{tenant}`: a partner could not say which tenant).
    public static func tenantURL(template: String, tenant: String, path: String) -> String? {
        guard template.contains("{tenant}") else { return nil }
        let base = template.replacingOccurrences(of: "{tenant}", with: tenant)
        return (base.hasSuffix("/") ? String(base.dropLast()) : base) + path
    }

    /// The payout partners and the worker that moves remittances through them (a Service to run).
    public let partners: PayoutPartners
    /// The identity verification providers (the registry's `identity` connections).
    public let identity: IdentityProviders
    /// What prices a quote when the reference rate is stale (nil: reference rates never go stale).
    public let rateFallback: RateFallback?
    /// The bank-linking providers (the registry's `bank-links` connections).
    public let bankLinks: BankLinkProviders
    /// Where KYC files' sealed bytes are kept (nil: uploads and reveals answer 503).
    public let documents: (any DocumentStore)?
    /// Keeps the provider sets equal to the registry while the plane runs (with `Settings.partnerEnvironment`).
    public let partnerReload: PartnerReload?
    public let remittanceWorker: RemittanceWorker
    /// Moves tontine cycles along on the platform clock (autopay, grace, payouts).
    public let tontineScheduler: TontineScheduler
    /// Ages disbursed loans on the platform clock (autopay, penalties, delinquency buckets).
    public let loanScheduler: LoanScheduler
    /// Releases expired holds of idle accounts (postings release their own).
    public let holdExpiry: HoldExpiryWorker
    /// Paper trading's market: the seeded feed, and the service that takes it into `reference`.
    public let marketFeed: any QuoteFeed
    public let marketIngestion: MarketIngestion
    /// Fills working paper orders against the stored quotes, expires day orders at their close.
    public let orderMatcher: OrderMatcher
    public let portfolioSnapshotter: PortfolioSnapshotter
    public let alertWatcher: AlertWatcher
    public let copyGuard: CopyGuard
    /// The stream's `prices:<symbol>` topics.
    public let priceBroadcast: PriceBroadcast
    /// This instance's live streams, fed by the relay's announcements.
    public let events: EventHub
    /// Sends tenants' webhook deliveries (a worker), woken by the relay when it queues some.
    public let webhooks: WebhookDispatcher
    /// Plans and sends member notifications (a worker), woken by the relay when it publishes.
    public let notifications: NotificationService
    /// Token buckets per tenant and per caller (refilled by the platform clock), and each tenant's
    /// limits as last read.
    let rateLimiter: RateLimiter
    let addressLimiter: RateLimiter
    let tenantRateLimits = TenantRateLimits()

    public init(
        settings: Settings, registryClient: PostgresClient, groupClients: [PostgresClient], secrets: SecretBox, keys: any KeyProvider, logger: Logger,
        hasher: PasswordHasher = PasswordHasher(), clock: NzilaCore.Clock = .system, partners: PayoutPartners = .sandbox(),
        identity: IdentityProviders = IdentityProviders(), bankLinks: BankLinkProviders = BankLinkProviders(), rateFallback: RateFallback? = nil,
        documents: (any DocumentStore)? = nil, notifiers: Notifiers = .sandbox(), afterPartnerCall: @escaping @Sendable (UUID) throws -> Void = { _ in }
    ) {
        precondition(!groupClients.isEmpty, "at least one pool group")
        precondition(!settings.testClock || clock.movable != nil, "a test clock needs a movable platform clock")
        self.settings = settings
        self.groupClients = groupClients
        self.directory = TenantDirectory(client: registryClient, logger: logger)
        self.registry = registryClient
        self.keyRing = KeyRing(
            client: registryClient, secrets: secrets, tokenLifetimeSeconds: settings.tokenLifetimeSeconds, mayCreate: false, logger: logger)
        self.hasher = hasher
        self.dataKeys = TenantDataKeys(provider: keys)
        self.clock = clock
        self.rateLimiter = RateLimiter(clock: { clock.now().timeIntervalSince1970 })
        self.addressLimiter = RateLimiter(clock: { clock.now().timeIntervalSince1970 })
        self.logger = logger
        self.jwks = JWKSFetcher(url: settings.jwksURL, logger: logger)
        self.secrets = secrets
        self.partners = partners
        self.identity = identity
        self.documents = documents
        self.bankLinks = bankLinks
        self.rateFallback = rateFallback
        self.partnerReload = settings.partnerEnvironment.map {
            PartnerReload(
                registry: registryClient, environment: $0,
                sets: PartnerSets(partners: partners, identity: identity, bankLinks: bankLinks, rateFallback: rateFallback), logger: logger)
        }
        let required = settings.requiredTenantSchemaVersion
        // The workers' own sessions: no member, nothing audited, the plane's clock.
        let workerSession: @Sendable (TenantRef) -> TenantSession = { tenant in
            TenantSession(client: groupClients[tenant.poolGroup % groupClients.count], tenant: tenant, memberID: nil, audit: nil, clock: clock, logger: logger)
        }
        self.remittanceWorker = RemittanceWorker(
            step: PayoutStep(
                partners: partners, keys: dataKeys, tracer: settings.tracer,
                callbackURL: { [template = settings.publicURL ?? "http://{tenant}.\(settings.baseDomain):\(settings.port)"] tenant, path in
                    DataPlane.tenantURL(template: template, tenant: tenant.slug.value, path: path)
                },
                afterPartnerCall: afterPartnerCall),
            tenants: { try await DataPlane.activeTenants(registryClient, required: required, domain: "remittance", logger: logger) },
            session: workerSession,
            clock: { clock.now() }, clockMoves: clock.movable?.moves(), sweepInterval: .seconds(max(1, settings.remittanceSweepSeconds)),
            logger: logger)
        self.tontineScheduler = TontineScheduler(
            tenants: { try await DataPlane.activeTenants(registryClient, required: required, domain: "tontine", logger: logger) },
            session: workerSession, clockMoves: clock.movable?.moves(),
            sweepInterval: .seconds(max(1, settings.tontineSweepSeconds)), logger: logger)
        self.loanScheduler = LoanScheduler(
            tenants: { try await DataPlane.activeTenants(registryClient, required: required, domain: "lending", logger: logger) },
            session: workerSession, clockMoves: clock.movable?.moves(),
            sweepInterval: .seconds(max(1, settings.loanSweepSeconds)), logger: logger)
        self.events = EventHub(session: workerSession, logger: logger)
        self.webhooks = WebhookDispatcher(
            tenants: { try await DataPlane.activeTenants(registryClient, required: required, logger: logger) }, session: workerSession, secrets: secrets,
            clock: clock, settings: settings.webhooks, logger: logger)
        self.notifications = NotificationService(
            tenants: { try await DataPlane.activeTenants(registryClient, required: required, logger: logger) }, session: workerSession, secrets: secrets,
            notifiers: notifiers, clock: clock, settings: settings.notifications, logger: logger)
        let source: String
        if let alphaVantage = settings.alphaVantage {
            self.marketFeed = AlphaVantageFeed(alphaVantage, logger: logger)
            source = "alphavantage"
        } else {
            self.marketFeed = SeededQuoteFeed.shared(seed: settings.marketSeed)
            source = "seeded:\(settings.marketSeed)"
        }
        var ingestion = MarketIngestion.Settings()
        ingestion.interval = .seconds(max(1, settings.marketIngestSeconds))
        let prices = PriceBroadcast(client: registryClient, clock: clock, interval: ingestion.interval, logger: logger)
        self.priceBroadcast = prices
        let snapshots = PortfolioSnapshotter(
            client: registryClient, clock: clock,
            tenants: { try await DataPlane.activeTenants(registryClient, required: required, domain: "trading", logger: logger) },
            session: workerSession, clockMoves: clock.movable?.moves(), interval: .seconds(max(1, settings.tradingSnapshotSeconds)),
            width: max(1, settings.tradingMatchWidth), logger: logger)
        self.portfolioSnapshotter = snapshots
        let alerts = AlertWatcher(
            client: registryClient, tenants: { try await DataPlane.activeTenants(registryClient, required: required, domain: "trading", logger: logger) },
            session: workerSession, clockMoves: clock.movable?.moves(), interval: .seconds(max(1, settings.tradingMatchSeconds)),
            width: max(1, settings.tradingMatchWidth), logger: logger)
        self.alertWatcher = alerts
        let copies = CopyGuard(
            client: registryClient, tenants: { try await DataPlane.activeTenants(registryClient, required: required, domain: "trading", logger: logger) },
            session: workerSession, clockMoves: clock.movable?.moves(), interval: .seconds(max(1, settings.tradingMatchSeconds)),
            width: max(1, settings.tradingMatchWidth), logger: logger)
        self.copyGuard = copies
        self.marketIngestion = MarketIngestion(
            client: registryClient, feed: marketFeed, source: source, clock: clock, settings: ingestion, logger: logger, stored: {
                prices.wake()
                snapshots.wake()
                alerts.wake()
                copies.wake()
            })
        self.orderMatcher = OrderMatcher(
            client: registryClient, clock: clock,
            tenants: { try await DataPlane.activeTenants(registryClient, required: required, domain: "trading", logger: logger) },
            session: workerSession, clockMoves: clock.movable?.moves(), interval: .seconds(max(1, settings.tradingMatchSeconds)),
            width: max(1, settings.tradingMatchWidth), logger: logger, onFills: { copies.wake() })
        self.holdExpiry = HoldExpiryWorker(
            tenants: { try await DataPlane.activeTenants(registryClient, required: required, logger: logger) },
            session: workerSession,
            clockMoves: clock.movable?.moves(), interval: .seconds(max(1, settings.holdExpirySweepSeconds)), logger: logger)
    }

    /// Active tenants at this build's schema version, with `domain` enabled if one is named: what the
    /// workers sweep.
    public static func activeTenants(_ registry: PostgresClient, required: Int, domain: String? = nil, logger: Logger) async throws -> [TenantRef] {
        try await registry.statement(
            """
            SELECT id, slug, status, pool_group, schema_version, enabled_domains FROM control.tenants
            WHERE status = 'active' AND schema_version >= \(required) AND (\(domain)::text IS NULL OR \(domain) = ANY(enabled_domains))
            """, logger: logger
        ) { try await $0.all((UUID, String, String, Int, Int, [String]).self).compactMap(TenantDirectory.reference) }
    }

    /// A tenant's secret for a webhook provider: derived from the master key, so nothing is stored and
    /// the operator reads it with `nzila tenants webhook-secret`.
    public func webhookSecret(tenant: TenantRef, provider: String) -> String {
        Self.webhookSecret(secrets, tenantID: tenant.id, provider: provider)
    }

    /// Every tenant column sealed under the tenant's data key, as the domains declare them: what a data key
    /// rotation re-seals (a test checks the list against the tenant schema's sealed columns).
    public static let sealedColumns: [SealedColumn] = KYCStore.sealedColumns + RemittanceStore.sealedColumns + BankLinkStore.sealedColumns

    public static func webhookSecret(_ secrets: SecretBox, tenantID: TenantID, provider: String) -> String {
        secrets.derivedSecret("nzila webhook secret \(tenantID.rawValue.lowercased) \(provider)")
    }

    /// The outbox relay and this instance's fan-out (a Service every data plane runs; it numbers
    /// events only if `publishes`, which a plane without workers turns off).
    public func eventRelay(publishes: Bool = true) -> EventRelay {
        var relaySettings = settings.events
        relaySettings.publishes = publishes
        let required = settings.requiredTenantSchemaVersion
        return EventRelay(
            url: settings.changeFeedURL, hub: events,
            tenants: { [registry, logger] in try await DataPlane.activeTenants(registry, required: required, logger: logger) },
            session: { [self] in session(tenant: $0, principal: nil) }, clock: clock, clockMoves: clock.movable?.moves(), verifier: verifier,
            settings: relaySettings, logger: logger, queued: { [webhooks] in webhooks.wake($0) }, published: { [notifications] in notifications.wake($0) })
    }

    /// The registry's partner changes wake the reload, when the plane reloads.
    var partnerWakes: [String: @Sendable () -> Void] {
        guard let partnerReload else { return [:] }
        return [PartnerReload.channel: { partnerReload.wake() }]
    }

    /// The service that pushes registry changes into the directory, when a direct URL is configured.
    public var changeFeed: TenantChangeFeed? {
        settings.changeFeedURL.map {
            TenantChangeFeed(
                url: $0, directory: directory, verifier: verifier, clock: clock, testClock: settings.testClock ? clock.movable : nil, logger: logger,
                wakes: partnerWakes.merging([PriceBroadcast.channel: { [priceBroadcast] in priceBroadcast.wake() }]) { $1 })
        }
    }

    func client(for tenant: TenantRef) -> PostgresClient {
        groupClients[tenant.poolGroup % groupClients.count]
    }

    /// Resolves the tenant per API.md: Host first, else X-Tenant; both naming different tenants is a
    /// 400; unknown 404, suspended 403, offboarded 410.
    func resolveTenant(_ request: Request) async throws -> TenantRef {
        let now = clock.now()
        let fromHost: TenantRef?
        switch TenantAddress.fromHost(request.head.authority, baseDomain: settings.baseDomain) {
        case .slug(let raw):
            guard let slug = try? TenantSlug(raw), let tenant = try await directory.tenant(slug: slug, now: now) else {
                throw Problem.tenantNotFound("No tenant is served at this host.")
            }
            fromHost = tenant
        case .domain(let host):
            fromHost = try await directory.tenant(domain: host, now: now)
        case .none:
            fromHost = nil
        }
        var tenant = fromHost
        if let header = request.headers[.xTenant] {
            guard let slug = try? TenantSlug(header), let named = try await directory.tenant(slug: slug, now: now) else {
                throw Problem.tenantNotFound("No tenant \(header.prefix(64)).")
            }
            if let fromHost, fromHost.id != named.id {
                throw Problem.badRequest("tenant-mismatch", "The Host and X-Tenant header name different tenants.")
            }
            tenant = named
        }
        guard let tenant else {
            throw Problem.badRequest("tenant-required", "Name the tenant with Host <slug>.\(settings.baseDomain) or an X-Tenant header.")
        }
        switch tenant.status {
        case .active:
            guard tenant.schemaVersion >= settings.requiredTenantSchemaVersion else {
                throw Problem(
                    .serviceUnavailable, "tenant-schema-behind", "Tenant being upgraded",
                    detail: "This credit union's data is being upgraded; retry shortly.", headers: [.retryAfter: "30"])
            }
            return tenant
        case .suspended: throw Problem(.forbidden, "tenant-suspended", "Tenant suspended", detail: "This credit union is suspended.")
        case .offboarded: throw Problem(.gone, "tenant-offboarded", "Tenant offboarded", detail: "This credit union has left the platform.")
        }
    }

    /// Verifies the bearer token against the control plane's JWKS (refetched when a new kid appears)
    /// and checks its tenant claim against the resolved tenant.
    func authenticate(_ request: Request, tenant: TenantRef) async throws -> Principal {
        guard let token = request.bearerToken else { throw Problem.unauthorized("Send a bearer token.") }
        return try await authenticate(token: token, tenant: tenant).principal
    }

    /// A bearer token of this tenant: the caller, and when the token expires.
    func authenticate(token: String, tenant: TenantRef) async throws -> (principal: Principal, expiresAt: Date) {
        let claims = try await verify(token)
        guard let id = claims.subjectID, claims.role != .platformAdmin else { throw Problem.unauthorized("The token is not meant for this service.") }
        guard claims.tenant == tenant.slug.value else { throw Problem.forbidden("The token belongs to another tenant.") }
        return (Principal(id: id, role: claims.role, tenant: claims.tenant), claims.exp.value)
    }

    /// The token's claims if it verifies (learning a rotated key first when it names one), else 401.
    func verify(_ token: String) async throws -> AccessClaims {
        let claims: AccessClaims
        do {
            claims = try await verifier.verify(token, now: clock.now())
        } catch .unknownKID(let kid) {
            // A rotated key: the key ring reads the keys from the registry at once; the control plane's
            // JWKS over HTTP is the fallback.
            if let keys = try? await keyRing.reload() { try? await verifier.install(keys) }
            var known = verifier.knows(kid: kid)
            if !known { known = await jwks.refresh(into: verifier, wanting: kid) }
            guard known else { throw Problem.unauthorized("The token is invalid or expired.") }
            do { claims = try await verifier.verify(token, now: clock.now()) } catch { throw Problem.unauthorized("The token is invalid or expired.") }
        } catch {
            throw Problem.unauthorized("The token is invalid or expired.")
        }
        return claims
    }

    func session(tenant: TenantRef, principal: Principal?, audit: AuditAction? = nil) -> TenantSession {
        let member = principal.flatMap { $0.role == .member ? MemberID($0.id) : nil }
        return TenantSession(client: client(for: tenant), tenant: tenant, memberID: member, audit: audit, clock: clock, logger: logger)
    }

    /// What a staff member's write records in the audit log; nil for reads and for members.
    static func auditAction(_ request: Request, principal: Principal) -> AuditAction? {
        guard principal.role.isStaff, ![.get, .head, .options].contains(request.method) else { return nil }
        let path = request.uri.path
        let template = path.split(separator: "/", omittingEmptySubsequences: false)
            .map { UUID(uuidString: String($0)) == nil ? String($0) : "{id}" }.joined(separator: "/")
        return AuditAction(
            actor: AuditActor(principal, request: request), action: "\(request.method.rawValue) \(template)", target: String(path.prefix(500)))
    }
}

/// Fetches the control plane's JWKS, at most once per `minimumInterval` so a flood of tokens with
/// made-up kids cannot turn into a flood of fetches.
actor JWKSFetcher {
    let url: String
    let logger: Logger
    var lastFetch: ContinuousClock.Instant?
    let minimumIntervalSeconds: Double = 5

    init(url: String, logger: Logger) {
        self.url = url
        self.logger = logger
    }

    /// Returns whether the verifier now knows `kid`.
    func refresh(into verifier: TokenVerifier, wanting kid: String) async -> Bool {
        if verifier.knows(kid: kid) { return true }
        // A throttle on this process's own work, so the monotonic clock, not business time.
        if let lastFetch, ContinuousClock.now - lastFetch < .seconds(minimumIntervalSeconds) { return false }
        lastFetch = .now
        do {
            var request = HTTPClientRequest(url: url)
            request.method = .GET
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
            guard response.status == .ok else { return false }
            let body = try await response.body.collect(upTo: 1 << 20)
            let set = try JSONDecoder().decode(JWKSet.self, from: Data(buffer: body))
            try await verifier.install(set)
        } catch {
            logger.warning("JWKS fetch failed", metadata: ["url": "\(url)", "error": "\(error)"])
            return false
        }
        return verifier.knows(kid: kid)
    }
}
