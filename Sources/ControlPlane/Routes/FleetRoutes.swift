import Foundation
import Hummingbird
import NzilaCore
import NzilaDatabase

/// What a platform admin reads about the fleet (the console's fleet pages, or curl): tenants per
/// schema version and those a rollout could not migrate, the warm pool, the signing keys, and the
/// doctor's database checks. Read-only; platform admins only (`tenants.manage`). The same queries
/// serve `nzila migrate status`, `nzila keys list` and `nzila doctor` (`FleetStatus`, `Doctor`).
extension ControlPlane {
    struct FleetMigrations: Codable, Sendable {
        struct Version: Codable, Sendable {
            let version: Int
            let tenants: Int
        }
        struct Failure: Codable, Sendable {
            let tenant: String
            let schemaVersion: Int
            let targetVersion: Int
            let attempts: Int
            let failedAt: Date
            let error: String
        }
        /// The newest tenant schema version this build ships.
        let latestVersion: Int
        let tenants: Int
        /// Tenants per schema version, newest first.
        let versions: [Version]
        /// Tenants still below a version a rollout failed to reach, newest failure first.
        let failures: [Failure]
    }

    struct WarmPoolState: Codable, Sendable {
        struct Version: Codable, Sendable {
            let version: Int
            let schemas: Int
        }
        /// How many schemas this control plane keeps ready (`--warm-pool`, `NZILA_WARM_POOL_SIZE`; each control plane has its own).
        let targetSize: Int
        /// Unclaimed schemas at the latest version: what provisioning takes.
        let ready: Int
        let latestVersion: Int
        let versions: [Version]
    }

    struct SigningKeyView: Codable, Sendable {
        let kid: String
        /// `active` signs new tokens; `retiring` no longer signs but is still published so tokens it signed verify; `retired`.
        let state: String
        let createdAt: Date
        let retiredAt: Date?
        /// When a retired key leaves the JWKS (from this plane's token lifetime).
        let publishedUntil: Date?
    }

    struct SigningKeys: Codable, Sendable {
        let data: [SigningKeyView]
    }

    struct DoctorReport: Codable, Sendable {
        struct Finding: Codable, Sendable {
            let severity: String
            let check: String
            let problem: String
            let fix: String
        }
        let findings: [Finding]
        /// What this route does not check (run `nzila doctor` on a host with the stack's credentials).
        let notChecked: [String]
    }

    func addFleetRoutes(_ routes: ControlRoutes) {
        routes.route(.get, "/v1/fleet/migrations", "Tenants per schema version and the tenants a rollout could not migrate, with their last error", access: .staff(.manageTenants), answer: FleetMigrations.self, use: { _, _ in
            let tenants = try await self.provisioner.migrator.tenantVersions(self.client)
            let versions = Dictionary(grouping: tenants, by: \.version).map { FleetMigrations.Version(version: $0.key, tenants: $0.value.count) }
                .sorted { $0.version > $1.version }
            let failures = try await FleetStatus.migrationFailures(self.client, logger: self.logger).map {
                FleetMigrations.Failure(tenant: $0.slug, schemaVersion: $0.schemaVersion, targetVersion: $0.target, attempts: $0.attempts, failedAt: $0.failedAt, error: $0.error)
            }
            return try Response.json(FleetMigrations(
                latestVersion: self.provisioner.migrator.catalog.latestTenantVersion, tenants: tenants.count, versions: versions, failures: failures))
        })
        routes.route(.get, "/v1/fleet/warm-pool", "The warm pool: schemas ready for provisioning, by version, and the target size", access: .staff(.manageTenants), answer: WarmPoolState.self, use: { _, _ in
            let latest = self.provisioner.migrator.catalog.latestTenantVersion
            let counts = try await WarmPool.counts(self.client, logger: self.logger).sorted { $0.version > $1.version }
            return try Response.json(WarmPoolState(
                targetSize: self.settings.warmPoolSize, ready: counts.filter { $0.version == latest }.reduce(0) { $0 + $1.schemas }, latestVersion: latest,
                versions: counts.map { WarmPoolState.Version(version: $0.version, schemas: $0.schemas) }))
        })
        routes.route(.get, "/v1/signing-keys", "The keys that sign access tokens: id, state and times (never a private half)", access: .staff(.manageTenants), answer: SigningKeys.self, use: { _, _ in
            let now = self.clock.now()
            let lifetime = self.settings.tokenLifetimeSeconds
            let keys = try await FleetStatus.signingKeys(self.client, logger: self.logger).reversed().map { key in
                SigningKeyView(
                    kid: key.kid, state: key.state(at: now, tokenLifetimeSeconds: lifetime).rawValue, createdAt: key.createdAt, retiredAt: key.retiredAt,
                    publishedUntil: key.publishedUntil(tokenLifetimeSeconds: lifetime))
            }
            return try Response.json(SigningKeys(data: keys))
        })
        routes.route(.get, "/v1/doctor", "The doctor's database checks: clocks, PostgreSQL settings, roles, forced row-level security", access: .staff(.manageTenants), answer: DoctorReport.self, use: { _, _ in
            let findings = try await Doctor.examineDatabase(self.client, logger: self.logger).map {
                DoctorReport.Finding(severity: $0.severity.rawValue, check: $0.check, problem: $0.problem, fix: $0.fix)
            }
            return try Response.json(DoctorReport(findings: findings, notChecked: ["pgbouncer", "drift"]))
        })
    }
}
