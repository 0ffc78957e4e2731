import Foundation
import Logging
import NzilaCore
import PostgresNIO

/// `nzila keys rotate-master`: every key the master wraps — the platform key and each tenant's data keys, offboarded
/// tenants' included — is re-wrapped under the provider's newest master (for a local provider, `current`, with the
/// old master given as `previous`; for a key service, its newest key version). Each key is read, re-wrapped with no
/// transaction open, and written back only if it is still what was read, so a rerun (after an interruption, or to
/// be sure) does the same again safely. Nothing sealed under a data key changes.
public enum MasterRotation {
    public struct Report: Sendable, Equatable {
        public var platformKeys = 0
        public var tenants = 0
        public var dataKeys = 0
    }

    /// `tenants` and `platform`: a test's own tenants only, and not the platform key (the suite shares one database).
    public static func run(
        client: PostgresClient, provider: any KeyProvider, now: Date, logger: Logger, tenants only: [UUID]? = nil, platform includePlatform: Bool = true
    ) async throws -> Report {
        var report = Report()
        let platform = includePlatform
            ? try await client.statement("SELECT id, wrapped FROM control.platform_keys ORDER BY id", logger: logger) { try await $0.all((Int, Data).self) }
            : []
        for (id, wrapped) in platform {
            let rewrapped = try await provider.rewrap(wrapped)
            try await client.statement(
                "UPDATE control.platform_keys SET wrapped = \(rewrapped), rewrapped_at = \(now) WHERE id = \(id) AND wrapped = \(wrapped)", logger: logger
            ) { _ in }
            report.platformKeys += 1
        }
        let tenants = try await client.statement(
            "SELECT id, schema_name FROM control.tenants WHERE purged_at IS NULL AND (\(only == nil) OR id = ANY(\(only ?? []))) ORDER BY slug", logger: logger
        ) { try await $0.all((UUID, String).self) }
        for (tenant, schema) in tenants {
            func inTenant<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
                try await client.transaction(logger: logger) { connection in
                    try await connection.query(
                        "SELECT set_config('search_path', \(schema), true), set_config('app.tenant_id', \(tenant.uuidString), true)", logger: logger)
                    return try await body(connection)
                }
            }
            let keys = try await inTenant { try await $0.query("SELECT id, sealed_key FROM tenant_data_keys ORDER BY id", logger: logger).all((Int, Data).self) }
            var rewrapped: [(Int, Data, Data)] = []
            for (id, wrapped) in keys { rewrapped.append((id, wrapped, try await provider.rewrap(wrapped))) }
            try await inTenant { connection in
                for (id, old, new) in rewrapped {
                    try await connection.query("UPDATE tenant_data_keys SET sealed_key = \(new) WHERE id = \(id) AND sealed_key = \(old)", logger: logger)
                }
            }
            report.tenants += 1
            report.dataKeys += keys.count
        }
        return report
    }
}
