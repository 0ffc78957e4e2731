import Foundation
import Logging
import NzilaCore
import NzilaDatabase
import PostgresNIO
import Synchronization

/// Resolves hostnames and slugs to tenants from the registry, with an in-memory cache (including
/// "no such tenant"). While the change feed (`TenantChangeFeed`) is connected, the registry announces
/// every change and the entries of the changed tenant are dropped at once, so entries may live
/// `pushedTTLSeconds`; while it is not, they live `fallbackTTLSeconds`, so a control-plane change
/// (suspension, a new domain) is still seen within about a second.
public final class TenantDirectory: Sendable {
    let client: PostgresClient
    let logger: Logger
    let fallbackTTLSeconds: Double
    let pushedTTLSeconds: Double
    let feedConnected = Atomic<Bool>(false)
    let feedLosses = Atomic<Int>(0)
    let cache = Mutex<[String: (TenantRef?, Date)]>([:])
    /// Bumped by every drop: a registry read that started before one may have read the old row, so its
    /// answer is used but not cached.
    let generation = Atomic<Int>(0)
    static let cacheLimit = 10_000

    public init(client: PostgresClient, fallbackTTLSeconds: Double = 1.0, pushedTTLSeconds: Double = 30, logger: Logger) {
        self.client = client
        self.fallbackTTLSeconds = fallbackTTLSeconds
        self.pushedTTLSeconds = pushedTTLSeconds
        self.logger = logger
    }

    /// Whether the change feed is connected (so changes arrive as pushes).
    public var isFeedConnected: Bool { feedConnected.load(ordering: .acquiring) }

    /// How many times the feed has reported itself down (a failed connection attempt counts), so a
    /// test or an operator can tell a feed that keeps failing from one that never tried.
    public var feedLossCount: Int { feedLosses.load(ordering: .acquiring) }

    var ttlSeconds: Double { isFeedConnected ? pushedTTLSeconds : fallbackTTLSeconds }

    /// The change feed connected (entries may live longer) or lost (back to the short lifetime).
    /// Either way every entry is dropped: changes may have been missed while it was down.
    public func feed(connected: Bool) {
        generation.add(1, ordering: .sequentiallyConsistent)
        cache.withLock { $0.removeAll(keepingCapacity: true) }
        feedConnected.store(connected, ordering: .releasing)
        if !connected { feedLosses.add(1, ordering: .releasing) }
    }

    /// Drops what is cached about one tenant: its slug entry, its hostnames, and every "no such
    /// host" (the change may be a new domain).
    public func forget(slug: String) {
        generation.add(1, ordering: .sequentiallyConsistent)
        cache.withLock { cache in
            cache = cache.filter { key, entry in
                guard let tenant = entry.0 else { return !key.hasPrefix("host:") && key != "slug:\(slug)" }
                return tenant.slug.value != slug
            }
        }
    }

    public func tenant(slug: TenantSlug, now: Date) async throws -> TenantRef? {
        try await cached("slug:\(slug.value)", now: now) {
            try await self.client.statement(
                "SELECT id, slug, status, pool_group, schema_version, enabled_domains FROM control.tenants WHERE slug = \(slug.value)", logger: self.logger
            ) { try await $0.first((UUID, String, String, Int, Int, [String]).self) }
        }
    }

    public func tenant(domain: String, now: Date) async throws -> TenantRef? {
        try await cached("host:\(domain)", now: now) {
            try await self.client.statement(
                """
                SELECT t.id, t.slug, t.status, t.pool_group, t.schema_version, t.enabled_domains FROM control.tenant_domains d
                JOIN control.tenants t ON t.id = d.tenant_id WHERE d.hostname = \(domain)
                """, logger: self.logger
            ) { try await $0.first((UUID, String, String, Int, Int, [String]).self) }
        }
    }

    func cached(_ key: String, now: Date, load: () async throws -> (UUID, String, String, Int, Int, [String])?) async throws -> TenantRef? {
        if let (tenant, at) = cache.withLock({ $0[key] }), now.timeIntervalSince(at) < ttlSeconds {
            return tenant
        }
        let started = generation.load(ordering: .sequentiallyConsistent)
        let tenant = try await load().flatMap(Self.reference)
        cache.withLock { cache in
            guard generation.load(ordering: .sequentiallyConsistent) == started else { return }
            if cache.count >= TenantDirectory.cacheLimit { cache.removeAll(keepingCapacity: true) }
            cache[key] = (tenant, now)
        }
        return tenant
    }
}

extension TenantDirectory {
    /// A registry row (id, slug, status, pool_group, schema_version, enabled_domains) as a TenantRef;
    /// nil for a row no valid tenant could have.
    static func reference(_ row: (UUID, String, String, Int, Int, [String])) -> TenantRef? {
        guard let slug = try? TenantSlug(row.1), let status = TenantRef.Status(rawValue: row.2) else { return nil }
        return TenantRef(id: TenantID(row.0), slug: slug, status: status, poolGroup: row.3, schemaVersion: row.4, enabledDomains: Set(row.5))
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
