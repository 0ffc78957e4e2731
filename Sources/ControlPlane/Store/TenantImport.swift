import Foundation
import Logging
import NzilaCore
import NzilaDatabase
import PostgresNIO

extension TenantLifecycleTools {
    /// Restores an export into a new tenant `slug` (a new id, role and schema at this build's
    /// version), in one transaction: the tables' rows with the new tenant id, its configuration
    /// history, its registry settings. Entries are replayed through the ledger's own triggers (every
    /// journal must balance again) and the resulting balances must equal the exported ones.
    public func importArchive(_ archive: TenantArchive, as slug: TenantSlug, name: String?, actor: String) async throws -> TenantRecord {
        let manifest = try archive.verify()
        // Table names reach SQL: only the tables this build's migrations create are accepted (an
        // archive is a file, and a file can lie). Column names are checked against the live table.
        let known = Set(provisioner.migrator.catalog.tenantTables)
        if let stranger = manifest.tables.first(where: { !known.contains($0.name) }) {
            throw TenantArchive.Failure.malformed("the export names a table this build does not have: \(stranger.name.prefix(64))")
        }
        guard manifest.schemaVersion <= provisioner.migrator.catalog.latestTenantVersion else {
            throw TenantArchive.Failure.malformed("the export is at tenant schema version \(manifest.schemaVersion), newer than this build")
        }
        guard let registryLine = try archive.lines("registry.json").first,
            let registry = try JSONSerialization.jsonObject(with: Data(registryLine.utf8)) as? [String: Any]
        else { throw TenantArchive.Failure.malformed("registry.json holds no registry row") }
        let displayName = name ?? (registry["name"] as? String) ?? slug.value
        let template = try TenantTemplate.load(named: (registry["template"] as? String) ?? "default", from: projectRoot, tenantName: displayName)
        let schema = slug.schemaName
        return try await client.transaction(logger: logger) { connection in
            let record = try await provisioner.provision(id: UUID(), slug: slug, name: displayName, template: template, on: connection, logger: logger)
            // A schema claimed from the warm pool comes with the id it is pinned to.
            let id = record.id.rawValue
            try await connection.query("SELECT set_config('app.tenant_id', \(id.uuidString), true)", logger: logger)
            // The entries replayed below move balances through the ledger's trigger, which would also
            // write each one's balance event again: the archive's outbox already holds them.
            try await connection.query("SELECT set_config('app.replaying', 'on', true)", logger: logger)
            // What provisioning seeded from the template gives way to what the tenant had.
            try await connection.query(PostgresQuery(unsafeSQL: "DELETE FROM \(schema).tenant_config"), logger: logger)
            try await connection.query(PostgresQuery(unsafeSQL: "DELETE FROM \(schema).accounts"), logger: logger)
            // The event relay's and the notifier's cursors come from the archive (a schema built at this
            // version starts each at 0).
            for cursor in ["outbox_relay", "notification_cursor"] {
                try await connection.query(PostgresQuery(unsafeSQL: "DELETE FROM \(schema).\(cursor)"), logger: logger)
            }
            try await connection.query("DELETE FROM control.tenant_config_versions WHERE tenant_id = \(id)", logger: logger)
            var expectedBalances: [String: (Int64, Int64, String)] = [:]
            for table in manifest.tables {
                let names: [String] = try await connection.query(
                    """
                    SELECT attname::text FROM pg_attribute
                    WHERE attrelid = \(schema + "." + table.name)::regclass AND attnum > 0 AND NOT attisdropped
                    """, logger: logger
                ).all(String.self)
                let current = Set(names)
                // Accounts start open and empty; their entries bring the balances back through the
                // ledger's triggers, and held amounts and statuses are set once the holds are in.
                var skip: Set<String> = ["tenant_id"]
                if table.name == "accounts" { skip.formUnion(["balance_minor", "held_minor", "status"]) }
                let columns = table.columns.map { $0[0] }.filter { current.contains($0) && !skip.contains($0) }
                let identity = try await connection.query(
                    """
                    SELECT count(*)::int FROM pg_attribute WHERE attrelid = \(schema + "." + table.name)::regclass AND attidentity <> ''
                    """, logger: logger
                ).first(Int.self) ?? 0
                let list = columns.map { "\"\($0)\"" }.joined(separator: ", ")
                let lines = try archive.lines(table.file)
                if table.name == "accounts" {
                    for line in lines {
                        guard let row = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let accountID = row["id"] as? String else { continue }
                        expectedBalances[accountID] = (
                            (row["balance_minor"] as? NSNumber)?.int64Value ?? 0, (row["held_minor"] as? NSNumber)?.int64Value ?? 0, row["status"] as? String ?? "open"
                        )
                    }
                }
                for batch in stride(from: 0, to: lines.count, by: 1_000) {
                    let json = "[" + lines[batch..<min(batch + 1_000, lines.count)].joined(separator: ",") + "]"
                    try await connection.query(
                        PostgresQuery(
                            unsafeSQL: """
                                INSERT INTO \(schema).\(table.name) (\(list)) \(identity > 0 ? "OVERRIDING SYSTEM VALUE" : "")
                                SELECT \(list) FROM json_populate_recordset(NULL::\(schema).\(table.name), $1::json)
                                """, binds: try bind(json)), logger: logger)
                }
                if identity > 0 {
                    try await connection.query(
                        PostgresQuery(
                            unsafeSQL: """
                                SELECT setval(pg_get_serial_sequence('\(schema).\(table.name)', a.attname), coalesce((SELECT max(id) FROM \(schema).\(table.name)), 0) + 1, false)
                                FROM pg_attribute a WHERE a.attrelid = '\(schema).\(table.name)'::regclass AND a.attidentity <> ''
                                """), logger: logger)
                }
            }
            // Held amounts and statuses, then the check that every balance came back exactly.
            for (accountID, (balance, held, status)) in expectedBalances {
                guard let uuid = UUID(uuidString: accountID) else { continue }
                let actual = try await connection.query(
                    PostgresQuery(
                        unsafeSQL: "UPDATE \(schema).accounts SET held_minor = $1, status = $2 WHERE id = $3 RETURNING balance_minor",
                        binds: try bind(held, status, uuid)), logger: logger
                ).first(Int64.self)
                guard actual == balance else {
                    throw TenantArchive.Failure.malformed("account \(accountID): entries give \(actual.map(String.init) ?? "nothing"), the export says \(balance)")
                }
            }
            for line in try archive.lines("config_versions.jsonl") {
                try await connection.query(
                    """
                    INSERT INTO control.tenant_config_versions (tenant_id, version, config, created_by, created_at, reason, author_role, rolled_back_from)
                    SELECT \(id), version, config, created_by, created_at, reason, author_role, rolled_back_from
                    FROM json_populate_record(NULL::control.tenant_config_versions, \(line)::json)
                    """, logger: logger)
            }
            try await connection.query(
                """
                UPDATE control.tenants SET enabled_domains = coalesce((
                    SELECT ARRAY(SELECT jsonb_array_elements_text(config -> 'domains')) FROM control.tenant_config_versions
                    WHERE tenant_id = \(id) ORDER BY version DESC LIMIT 1), enabled_domains)
                WHERE id = \(id)
                """, logger: logger)
            try await connection.query(
                """
                INSERT INTO control.audit_log (actor_role, tenant_id, action, target, detail)
                VALUES ('operator', \(id), 'tenant.import', \("tenant:\(slug.value)"),
                        jsonb_build_object('from', \(manifest.slug)::text, 'from_tenant_id', \(manifest.tenantId)::text,
                                           'export', \(archive.folder.path)::text, 'by', \(actor)::text))
                """, logger: logger)
            return record
        }
    }
}
