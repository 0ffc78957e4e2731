import Foundation
import Logging
import NzilaCore
import NzilaDatabase
import PostgresNIO
import Synchronization

/// Resolves hostnames and slugs to tenants from the registry, with an in-memory cache whose entries
/// (including "no such tenant") live `ttlSeconds`, so a control-plane change (suspension, a new
/// domain) is seen within about a second without a registry query per request.
public final class TenantDirectory: Sendable {
    let client: PostgresClient
    let logger: Logger
    let ttlSeconds: Double
    let cache = Mutex<[String: (TenantRef?, Date)]>([:])
    static let cacheLimit = 10_000

    public init(client: PostgresClient, ttlSeconds: Double = 1.0, logger: Logger) {
        self.client = client
        self.ttlSeconds = ttlSeconds
        self.logger = logger
    }

    public func tenant(slug: TenantSlug, now: Date) async throws -> TenantRef? {
        try await cached("slug:\(slug.value)", now: now) {
            try await self.client.statement(
                "SELECT id, slug, status, pool_group, schema_version FROM control.tenants WHERE slug = \(slug.value)", logger: self.logger
            ) { try await $0.first((UUID, String, String, Int, Int).self) }
        }
    }

    public func tenant(domain: String, now: Date) async throws -> TenantRef? {
        try await cached("host:\(domain)", now: now) {
            try await self.client.statement(
                """
                SELECT t.id, t.slug, t.status, t.pool_group, t.schema_version FROM control.tenant_domains d
                JOIN control.tenants t ON t.id = d.tenant_id WHERE d.hostname = \(domain)
                """, logger: self.logger
            ) { try await $0.first((UUID, String, String, Int, Int).self) }
        }
    }

    func cached(_ key: String, now: Date, load: () async throws -> (UUID, String, String, Int, Int)?) async throws -> TenantRef? {
        if let (tenant, at) = cache.withLock({ $0[key] }), now.timeIntervalSince(at) < ttlSeconds {
            return tenant
        }
        let tenant = try await load().flatMap { row -> TenantRef? in
            guard let slug = try? TenantSlug(row.1), let status = TenantRef.Status(rawValue: row.2) else { return nil }
            return TenantRef(id: TenantID(row.0), slug: slug, status: status, poolGroup: row.3, schemaVersion: row.4)
        }
        cache.withLock { cache in
            if cache.count >= TenantDirectory.cacheLimit { cache.removeAll(keepingCapacity: true) }
            cache[key] = (tenant, now)
        }
        return tenant
    }
}

/// The rules of API.md for finding a request's tenant, as a pure function of its Host and X-Tenant.
public enum TenantAddress: Equatable, Sendable {
    case slug(String)
    case domain(String)
    case none

    /// What the Host header names: `<slug>.<base domain>`, a custom domain, or nothing (the bare base
    /// domain, an IP address or localhost).
    public static func fromHost(_ host: String?, baseDomain: String) -> TenantAddress {
        guard var host = host?.lowercased(), !host.isEmpty else { return .none }
        if host.hasPrefix("[") { return .none }  // IPv6 literal
        if let colon = host.lastIndex(of: ":") { host = String(host[..<colon]) }
        if host == baseDomain || host == "localhost" || host.allSatisfy({ $0.isNumber || $0 == "." }) { return .none }
        let suffix = "." + baseDomain
        if host.hasSuffix(suffix) {
            let label = String(host.dropLast(suffix.count))
            return label.contains(".") ? .domain(host) : .slug(label)
        }
        return .domain(host)
    }
}
