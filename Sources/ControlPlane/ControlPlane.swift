import Foundation
import Hummingbird
import NIOSSL
import Logging
import NzilaCore
import NzilaDatabase
import PostgresNIO
import StaffWeb
import Tracing

/// Everything the control plane's handlers share, built once at start-up.
public struct ControlPlane: Sendable {
    public struct Settings: Sendable {
        public var host = "127.0.0.1"
        public var port = 8080
        /// Serve TLS 1.3 with this configuration (`PlaneTLS`; nil: plain HTTP).
        public var tls: TLSConfiguration?
        public var poolGroups = 2
        public var tokenLifetimeSeconds = 900
        /// Requests still running after this answer 503 (0: no bound).
        public var requestDeadlineSeconds = Double(Env().int("NZILA_REQUEST_DEADLINE", default: 15))
        /// The bearer token `GET /metrics` requires; unset, the plane serves no metrics.
        public var metricsToken = Env()["NZILA_METRICS_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        /// Spans per request and per statement (nil: tracing off, the default).
        public var tracer: (any Tracer)?
        public var projectRoot: URL
        /// Where offboarding writes tenant exports (the CLI uses `<state>/exports`).
        public var exportDirectory: URL
        /// Unclaimed tenant schemas kept ready at this build's version (0: none; provisioning builds).
        public var warmPoolSize = 0
        /// Whether provisioning claims a warm schema when one is ready.
        public var claimWarmSchemas = true
        /// Serve `GET /v1/test-clock` and `POST /v1/test-clock/advance` (`nzila dev --test-clock`
        /// only; the plane's clock must then be movable).
        public var testClock = false
        /// Staff login, refresh and logout per source address, before any password is hashed
        /// (`NZILA_RATE_ADDRESS_PER_SECOND` / `_BURST`, as on the data plane).
        public var addressRateLimit = RateLimitPolicy.platform().address
        /// Proxies whose `X-Forwarded-For` names the client (`NZILA_TRUSTED_PROXIES`).
        public var trustedProxies = ClientAddress.networks(Env()["NZILA_TRUSTED_PROXIES"])
        /// The console's sessions end after this long without a request (`NZILA_WEB_IDLE_SECONDS`).
        public var webIdleSeconds = Env().int("NZILA_WEB_IDLE_SECONDS", default: 1_800)
        /// `Secure` on the console's cookies: off only for `nzila dev` and tests on plain http.
        public var secureCookies = Env()["NZILA_WEB_INSECURE_COOKIES"] != "1"

        public init(projectRoot: URL) {
            self.projectRoot = projectRoot
            self.exportDirectory = projectRoot.appendingPathComponent(".nzila/exports", isDirectory: true)
        }
    }

    public var settings: Settings
    /// A direct connection pool as `nzila_owner`: provisioning runs DDL and takes advisory locks.
    public let client: PostgresClient
    public let keyRing: KeyRing
    public let provisioner: Provisioner
    /// Keeps `settings.warmPoolSize` schemas ready; run it as a service beside the application.
    public let warmPool: WarmPool
    public let hasher: PasswordHasher
    public let clock: NzilaCore.Clock
    public let logger: Logger
    let verifier = TokenVerifier(audience: Audience.controlPlane)
    /// Buckets per source address for the routes without a token, refilled by the platform clock.
    let addressLimiter: RateLimiter

    public init(
        settings: Settings, client: PostgresClient, secrets: SecretBox, catalog: SQLCatalog, logger: Logger,
        hasher: PasswordHasher = PasswordHasher(), clock: NzilaCore.Clock = .system,
        afterProvisioningStep: @escaping @Sendable (ProvisioningStep) throws -> Void = { _ in }
    ) {
        precondition(!settings.testClock || clock.movable?.isFrozen == false, "a test clock needs a movable clock that runs (not frozen)")
        self.settings = settings
        self.client = client
        self.addressLimiter = RateLimiter(clock: { clock.now().timeIntervalSince1970 })
        self.keyRing = KeyRing(client: client, secrets: secrets, tokenLifetimeSeconds: settings.tokenLifetimeSeconds, mayCreate: true, logger: logger)
        let migrator = Migrator(catalog: catalog, logger: logger)
        self.provisioner = Provisioner(
            migrator: migrator, poolGroups: settings.poolGroups, claimWarmSchemas: settings.claimWarmSchemas, afterStep: afterProvisioningStep)
        self.warmPool = WarmPool(client: client, migrator: migrator, size: settings.warmPoolSize, logger: logger)
        self.hasher = hasher
        self.clock = clock
        self.logger = logger
    }

    /// The caller of a secured route, from its bearer token; 401 for anything but a valid token
    /// meant for the control plane.
    func authenticate(_ request: Request) async throws -> Principal {
        guard let token = request.bearerToken else { throw Problem.unauthorized("Send a bearer token.") }
        let claims = try await verify(token)
        guard let id = claims.subjectID else { throw Problem.unauthorized("The token has no valid subject.") }
        // Logged out? The control plane is not a hot path: it asks the table every time.
        let revoked = try await revokedTokens.isRevoked(token)
        guard !revoked else { throw Problem.unauthorized("The token has been revoked.") }
        RequestFacts.note(principal: id, role: claims.role.rawValue)
        if let tenant = claims.tenant { RequestFacts.note(tenant: tenant) }
        return Principal(id: id, role: claims.role, tenant: claims.tenant)
    }

    /// The token's claims if its signature, expiry, issuer and audience hold, learning a key rotated
    /// in since this process last read the keys; 401 otherwise.
    func verify(_ token: String) async throws -> AccessClaims {
        if !verifier.knows(kid: try await keyRing.issuer().kid) {
            try await verifier.install(try await keyRing.jwks())
        }
        let claims: AccessClaims
        do {
            claims = try await verifier.verify(token, now: clock.now())
        } catch .unknownKID(let kid) {
            // A key rotated in since this process last read the keys.
            try await verifier.install(try await keyRing.reload())
            guard verifier.knows(kid: kid) else { throw Problem.unauthorized("The token is invalid or expired.") }
            do { claims = try await verifier.verify(token, now: clock.now()) } catch { throw Problem.unauthorized("The token is invalid or expired.") }
        } catch {
            throw Problem.unauthorized("The token is invalid or expired.")
        }
        return claims
    }
}

/// Builds the control-plane HTTP application. The caller runs `client` (it is not added as a service,
/// so the CLI can migrate before serving).
public func buildControlPlaneApplication(_ plane: ControlPlane) -> some ApplicationProtocol {
    let app = PlaneApplication(
        readiness: [plane.client], deadlineSeconds: plane.settings.requestDeadlineSeconds, logger: plane.logger, plane: "control",
        metricsToken: plane.settings.metricsToken, tracer: plane.settings.tracer)
    app.router.openRoute(.get, "/.well-known/jwks.json", "Public keys that verify access tokens", in: app.routes, answer: JWKSet.self) { _, _ in
        try Response.json(try await plane.keyRing.jwks(), headers: [.cacheControl: "public, max-age=300"])
    }
    let routes = ControlRoutes(plane, router: app.router, table: app.routes)
    plane.addAuthRoutes(routes)
    plane.addTenantRoutes(routes)
    plane.addLifecycleRoutes(routes)
    plane.addConfigRoutes(routes)
    plane.addAuditRoutes(routes)
    plane.addDomainRoutes(routes)
    plane.addOffboardRoutes(routes)
    plane.addTestClockRoutes(routes)
    plane.addFleetRoutes(routes)
    // The platform console: pages over the routes above, called in process.
    let api = InProcessAPI(table: app.routes)
    plane.console(api: api).mount(on: app.router)
    api.install(app.router)
    return app.application(
        title: "Nzila control plane", description: "Tenant registry, provisioning and identity.", host: plane.settings.host,
        port: plane.settings.port, name: "nzila-control-plane", logger: plane.logger, tls: plane.settings.tls)
}
