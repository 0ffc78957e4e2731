import Crypto
import Foundation
import Logging
import NzilaCore
import PostgresNIO

/// A column of a tenant table sealed (AES-256-GCM) under the tenant's data key, declared by the domain that owns it
/// so that a data key rotation re-seals it without knowing the domain. The value must have been sealed with the
/// binding (additional authenticated data) `binding` makes from the tenant's id and the row's `bound` columns.
public struct SealedColumn: Sendable {
    public let table: String
    public let sealed: String
    public let keyID: String
    /// uuid columns the binding is made of, in the order `binding` takes them (the row's `id` is always first).
    public let bound: [String]
    public let binding: @Sendable (_ tenant: UUID, _ values: [UUID]) -> Data

    public init(table: String, sealed: String, keyID: String = "key_id", bound: [String] = [], binding: @escaping @Sendable (UUID, [UUID]) -> Data) {
        self.table = table
        self.sealed = sealed
        self.keyID = keyID
        self.bound = bound
        self.binding = binding
    }

    var name: String { "\(table).\(sealed)" }

    /// Identifiers go into SQL as they are: only lower-case names are accepted.
    var wellFormed: Bool {
        ([table, sealed, keyID] + bound).allSatisfy { $0.range(of: "^[a-z_][a-z0-9_]*$", options: .regularExpression) != nil }
    }
}

/// Objects sealed under a tenant's data key that live outside the database (KYC files in the document store),
/// declared by their domain: a rotation asks it to re-seal a batch still under an older key.
public protocol SealedObjects: Sendable {
    var name: String { get }
    /// Re-seals up to `limit` objects still under a key older than `keyID`; returns how many (0: none left).
    func resealBatch(
        client: PostgresClient, tenant: UUID, schema: String, to keyID: Int, newKey: SymmetricKey, keys: [Int: SymmetricKey], limit: Int, logger: Logger
    ) async throws -> Int
}

/// `nzila keys rotate-data-key`: gives a tenant a new data key and re-seals every declared column under it, in batches
/// of `batchSize` rows (one transaction each, so the tenant keeps serving), then deletes the older keys nothing refers
/// to any more that were superseded at least `retention` ago (longer than a plane keeps a key in memory: 60 s).
/// A rotation stopped part-way (a crash, a kill) is resumed by the next run, which finishes it under the same key
/// instead of starting another; every batch is whole or not at all, so a row is always under exactly one key that
/// opens it. Rows a plane seals under the old key meanwhile (its key cache lasts a minute) are picked up by a pass
/// after `settle`, and any left after that keep their key alive until the next rotation re-seals them.
public struct DataKeyRotation: Sendable {
    public let columns: [SealedColumn]
    public var objects: [any SealedObjects] = []
    public let provider: any KeyProvider
    public var batchSize = 500
    public var retention: TimeInterval = 600
    /// How long the last pass waits for running planes to stop sealing under the old key (their cache is 60 s).
    public var settle: Duration = .seconds(65)
    let logger: Logger

    public init(columns: [SealedColumn], provider: any KeyProvider, logger: Logger) {
        self.columns = columns
        self.provider = provider
        self.logger = logger
    }

    public struct Report: Sendable, Equatable {
        public var keyID: Int
        public var resumed: Bool
        public var resealed: [String: Int]
        /// Older keys deleted by this run.
        public var deleted: [Int]
        /// Older keys kept: still referred to, or superseded too recently.
        public var kept: [Int]
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Runs (or resumes) the tenant's rotation on `client`, the owner's direct pool. `now` is the platform clock.
    /// `afterBatch` is called after each committed batch with the rows it re-sealed (a test stops the run there).
    public func run(
        client: PostgresClient, tenant: UUID, schema: String, now: @escaping @Sendable () -> Date,
        afterBatch: @Sendable (Int) throws -> Void = { _ in }
    ) async throws -> Report {
        guard columns.allSatisfy(\.wellFormed), schema.range(of: "^[a-z_][a-z0-9_]*$", options: .regularExpression) != nil else {
            throw Failure(description: "a sealed column or the schema is not a plain lower-case name")
        }
        let (keyID, resumed) = try await begin(client: client, tenant: tenant, schema: schema, now: now())
        let keys = try await unsealedKeys(client: client, tenant: tenant, schema: schema)
        guard let newKey = keys[keyID] else { throw Failure(description: "the new data key \(keyID) is not readable") }
        var report = Report(keyID: keyID, resumed: resumed, resealed: [:], deleted: [], kept: [])
        // Passes until one finds nothing to do; then, after the planes' key caches have lapsed, one more.
        var settled = false
        while true {
            var moved = 0
            for column in columns {
                while true {
                    let count = try await resealBatch(column, to: keyID, newKey: newKey, keys: keys, client: client, tenant: tenant, schema: schema)
                    guard count > 0 else { break }
                    report.resealed[column.name, default: 0] += count
                    moved += count
                    try afterBatch(count)
                }
            }
            for set in objects {
                while true {
                    let count = try await set.resealBatch(
                        client: client, tenant: tenant, schema: schema, to: keyID, newKey: newKey, keys: keys, limit: batchSize, logger: logger)
                    guard count > 0 else { break }
                    report.resealed[set.name, default: 0] += count
                    moved += count
                    try afterBatch(count)
                }
            }
            if moved > 0 { continue }
            if settled || settle == .zero { break }
            logger.info("waiting for running planes to seal under the new key", metadata: ["seconds": "\(settle.components.seconds)"])
            try await Task.sleep(for: settle)
            settled = true
        }
        (report.deleted, report.kept) = try await finish(keyID: keyID, client: client, tenant: tenant, schema: schema, now: now())
        return report
    }

    func inTenant<Result: Sendable>(
        _ client: PostgresClient, tenant: UUID, schema: String, _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await Self.inTenant(client, tenant: tenant, schema: schema, logger: logger, body)
    }

    /// A transaction as the owner on the tenant's schema, its rows visible (the tenant id set for forced RLS).
    public static func inTenant<Result: Sendable>(
        _ client: PostgresClient, tenant: UUID, schema: String, logger: Logger, _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await client.transaction(logger: logger) { connection in
            // A batch never waits long on a row a request holds: it fails, and a rerun resumes.
            try await connection.query(
                """
                SELECT set_config('search_path', \(schema), true), set_config('app.tenant_id', \(tenant.uuidString), true),
                       set_config('lock_timeout', '5s', true)
                """, logger: logger)
            return try await body(connection)
        }
    }

    /// The rotation's key: the newest, when a rotation to it was started and not finished; else a new one.
    func begin(client: PostgresClient, tenant: UUID, schema: String, now: Date) async throws -> (Int, Bool) {
        // Wrapped before the transaction: a key service's answer is awaited with no lock held.
        let sealed = try await provider.wrap(SymmetricKey(size: .bits256))
        return try await inTenant(client, tenant: tenant, schema: schema) { connection in
            // One rotation per tenant at a time.
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext('nzila.data-key-rotation.' || \(tenant.uuidString)))", logger: logger)
            let newest = try await connection.query(
                "SELECT id, rotation_started_at IS NOT NULL AND resealed_at IS NULL FROM tenant_data_keys ORDER BY id DESC LIMIT 1", logger: logger
            ).first((Int, Bool).self)
            if let (id, unfinished) = newest, unfinished { return (id, true) }
            let id = (newest?.0 ?? 0) + 1
            try await connection.query(
                "INSERT INTO tenant_data_keys (id, sealed_key, rotation_started_at) VALUES (\(id), \(sealed), \(now))", logger: logger)
            return (id, false)
        }
    }

    func unsealedKeys(client: PostgresClient, tenant: UUID, schema: String) async throws -> [Int: SymmetricKey] {
        let rows = try await inTenant(client, tenant: tenant, schema: schema) { connection in
            try await connection.query("SELECT id, sealed_key FROM tenant_data_keys", logger: logger).all((Int, Data).self)
        }
        var keys: [Int: SymmetricKey] = [:]
        for (id, sealed) in rows {
            do { keys[id] = try await provider.unwrap(sealed) } catch {
                throw Failure(description: "data key \(id) does not unwrap (\(provider.name)): \(error)")
            }
        }
        return keys
    }

    /// Re-seals up to `batchSize` rows still under an older key, in one transaction; returns how many.
    func resealBatch(
        _ column: SealedColumn, to keyID: Int, newKey: SymmetricKey, keys: [Int: SymmetricKey], client: PostgresClient, tenant: UUID, schema: String
    ) async throws -> Int {
        try await inTenant(client, tenant: tenant, schema: schema) { connection in
            let bound = column.bound.isEmpty ? "ARRAY[]::uuid[]" : "ARRAY[\(column.bound.joined(separator: ", "))]::uuid[]"
            let rows = try await connection.query(
                PostgresQuery(unsafeSQL: """
                    SELECT id, \(bound), \(column.sealed), \(column.keyID) FROM \(column.table)
                    WHERE \(column.keyID) < \(keyID) AND \(column.sealed) IS NOT NULL
                    ORDER BY id LIMIT \(batchSize) FOR UPDATE
                    """), logger: logger
            ).all((UUID, [UUID], Data, Int).self)
            guard !rows.isEmpty else { return 0 }
            var ids: [UUID] = []
            var boxes: [String] = []
            for (id, values, sealed, oldID) in rows {
                let binding = column.binding(tenant, [id] + values)
                guard let oldKey = keys[oldID], let box = try? AES.GCM.SealedBox(combined: sealed),
                    let plaintext = try? AES.GCM.open(box, using: oldKey, authenticating: binding)
                else {
                    throw Failure(description: "\(column.name) of row \(id.lowercased) does not open under data key \(oldID): nothing of this batch was changed")
                }
                guard let resealed = try AES.GCM.seal(plaintext, using: newKey, authenticating: binding).combined else {
                    throw Failure(description: "sealing failed")
                }
                ids.append(id)
                boxes.append(resealed.hexString)
            }
            let updated = try await connection.query(
                PostgresQuery(unsafeSQL: """
                    WITH moved AS (
                        UPDATE \(column.table) AS t SET \(column.sealed) = decode(v.box, 'hex'), \(column.keyID) = \(keyID)
                        FROM unnest($1::uuid[], $2::text[]) AS v(id, box) WHERE t.id = v.id RETURNING 1
                    ) SELECT count(*)::int FROM moved
                    """, binds: try Self.binds(ids, boxes)), logger: logger
            ).first(Int.self) ?? 0
            // The rows are locked: all of them move, or something (a policy, a trigger) stops them and the run with them.
            guard updated == rows.count else {
                throw Failure(description: "\(column.name): \(updated) of \(rows.count) locked rows were re-sealed; nothing of this batch was kept")
            }
            return rows.count
        }
    }

    static func binds(_ ids: [UUID], _ boxes: [String]) throws -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(ids)
        binds.append(boxes)
        return binds
    }

    /// Stamps the key resealed and deletes the older keys that nothing refers to (every foreign key to the keys
    /// table, whatever declared it) and that were superseded at least `retention` ago.
    func finish(keyID: Int, client: PostgresClient, tenant: UUID, schema: String, now: Date) async throws -> (deleted: [Int], kept: [Int]) {
        try await inTenant(client, tenant: tenant, schema: schema) { connection in
            try await connection.query("UPDATE tenant_data_keys SET resealed_at = \(now) WHERE id = \(keyID) AND resealed_at IS NULL", logger: logger)
            let references = try await connection.query(
                """
                SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c
                JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
                WHERE c.contype = 'f' AND c.confrelid = (quote_ident(\(schema)) || '.tenant_data_keys')::regclass
                """, logger: logger
            ).all((String, String).self)
            let unreferenced = references.map { "NOT EXISTS (SELECT 1 FROM \($0.0) r WHERE r.\($0.1) = k.id)" }.joined(separator: " AND ")
            let cutoff = now.addingTimeInterval(-retention)
            let deleted = try await connection.query(
                PostgresQuery(unsafeSQL: """
                    DELETE FROM tenant_data_keys k
                    WHERE k.id < $1 AND \(unreferenced.isEmpty ? "true" : unreferenced)
                      AND EXISTS (SELECT 1 FROM tenant_data_keys n WHERE n.id > k.id AND n.rotation_started_at <= $2)
                    RETURNING k.id
                    """, binds: try Self.deleteBinds(keyID, cutoff)), logger: logger
            ).all(Int.self)
            let kept = try await connection.query("SELECT id FROM tenant_data_keys WHERE id < \(keyID) ORDER BY id", logger: logger).all(Int.self)
            return (deleted.sorted(), kept)
        }
    }

    static func deleteBinds(_ keyID: Int, _ cutoff: Date) throws -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(keyID)
        binds.append(cutoff)
        return binds
    }
}
