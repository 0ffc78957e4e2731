import Crypto
import Foundation
import Logging
import NzilaCore
import NzilaDatabase
import PostgresNIO

/// A tenant's export: a self-describing folder with a manifest and a SHA-256 per file.
///
///     <exports>/<slug>-<time>/manifest.json          format, tenant, schema version, files
///                             registry.json          the control.tenants row
///                             config_versions.jsonl  every configuration version
///                             domains.jsonl          its hostnames
///                             tables/<table>.jsonl   every tenant table, one JSON object a row
///
/// Written from one REPEATABLE READ snapshot taken after every tenant table is locked in SHARE mode,
/// so writers still running when the tenant was offboarded finish first and none start.
public struct TenantArchive: Sendable {
    public static let format = "nzila-tenant-export"
    public static let formatVersion = 1

    public let folder: URL

    public init(folder: URL) { self.folder = folder }

    public struct FileEntry: Codable, Sendable, Equatable {
        public let file: String
        public let rows: Int
        public let sha256: String
    }

    public struct TableEntry: Codable, Sendable, Equatable {
        public let name: String
        public let file: String
        public let rows: Int
        public let sha256: String
        /// Column names and types, in table order.
        public let columns: [[String]]
    }

    public struct Manifest: Codable, Sendable, Equatable {
        public let format: String
        public let formatVersion: Int
        public let tenantId: String
        public let slug: String
        public let schemaVersion: Int
        public let exportedAt: Date
        public let files: [FileEntry]
        public let tables: [TableEntry]
    }

    public enum Failure: Error, CustomStringConvertible, Equatable {
        case missing(String)
        case checksum(String)
        case malformed(String)

        public var description: String {
            switch self {
            case .missing(let file): return "\(file) is missing"
            case .checksum(let file): return "\(file) does not match its checksum"
            case .malformed(let what): return what
            }
        }
    }

    // MARK: Export

    /// Exports the tenant into a new folder under `directory`; returns the archive, its manifest and
    /// the manifest's SHA-256 (recorded in `control.tenant_exports`).
    /// `tokenizer`: a copy for staging and support, its personal data replaced by format-preserving tokens
    /// (`TenantPII`), taken from a snapshot without holding writers back (`lock` false) while the tenant serves.
    public static func export(
        tenant id: UUID, slug: TenantSlug, tables: [String], into directory: URL, client: PostgresClient, logger: Logger,
        tokenizer: PIITokenizer? = nil, lock: Bool = true
    ) async throws -> (TenantArchive, Manifest, String) {
        let stamp = Date().rfc3339.replacingOccurrences(of: ":", with: "").replacingOccurrences(of: "-", with: "")
        let folder = directory.appendingPathComponent("\(slug.value)-\(stamp)", isDirectory: true)
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("tables"), withIntermediateDirectories: true)
        let schema = slug.schemaName
        let manifest = try await client.withTransaction(logger: logger) { connection -> Manifest in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
            // Before the first snapshot: wait for running writers, keep new ones out.
            if lock {
                let locked = tables.map { "\(schema).\($0)" }.joined(separator: ", ")
                try await connection.query(PostgresQuery(unsafeSQL: "LOCK TABLE \(locked) IN SHARE MODE"), logger: logger)
            }
            try await connection.query("SELECT set_config('app.tenant_id', \(id.uuidString), true)", logger: logger)
            func dump(_ query: PostgresQuery, to file: String, transform: ((String) throws -> String)? = nil) async throws -> FileEntry {
                let url = folder.appendingPathComponent(file)
                FileManager.default.createFile(atPath: url.path, contents: nil)
                let handle = try FileHandle(forWritingTo: url)
                defer { try? handle.close() }
                var hash = SHA256()
                var rows = 0
                for try await row in try await connection.query(query, logger: logger).decode(String.self) {
                    let line = try transform?(row) ?? row
                    let data = Data((line + "\n").utf8)
                    hash.update(data: data)
                    try handle.write(contentsOf: data)
                    rows += 1
                }
                return FileEntry(file: file, rows: rows, sha256: hash.finalize().hexString)
            }
            let registry = try await dump("SELECT row_to_json(t)::text FROM control.tenants t WHERE id = \(id)", to: "registry.json")
            let versions = try await dump(
                "SELECT row_to_json(v)::text FROM control.tenant_config_versions v WHERE tenant_id = \(id) ORDER BY version", to: "config_versions.jsonl")
            let domains = try await dump(
                "SELECT row_to_json(d)::text FROM control.tenant_domains d WHERE tenant_id = \(id) ORDER BY hostname", to: "domains.jsonl")
            var entries: [TableEntry] = []
            for table in tables {
                let columns = try await connection.query(
                    """
                    SELECT attname::text, format_type(atttypid, atttypmod) FROM pg_attribute
                    WHERE attrelid = \(schema + "." + table)::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum
                    """, logger: logger
                ).all((String, String).self)
                // Oldest first, so a row another row refers to (a reversed journal) loads before it.
                let names = Set(columns.map(\.0))
                let order = names.contains("created_at") && names.contains("id") ? "ORDER BY created_at, id" : names.contains("id") ? "ORDER BY id" : ""
                let personal = (TenantPII.byTable[table] ?? []).filter { names.contains($0.column) }
                let file: FileEntry
                if let tokenizer, !personal.isEmpty {
                    // The row without its personal columns, exactly as PostgreSQL writes it, then each personal value.
                    let without = personal.map { " - '\($0.column)'" }.joined()
                    let values = personal.map { ", to_jsonb(t.\($0.column))" }.joined()
                    file = try await dump(
                        PostgresQuery(unsafeSQL: "SELECT jsonb_build_array((to_jsonb(t)\(without))::text\(values))::text FROM \(schema).\(table) t \(order)"),
                        to: "tables/\(table).jsonl", transform: { try TenantPII.tokenizedLine($0, columns: personal, tokenizer: tokenizer) })
                } else {
                    file = try await dump(
                        PostgresQuery(unsafeSQL: "SELECT row_to_json(t)::text FROM \(schema).\(table) t \(order)"), to: "tables/\(table).jsonl")
                }
                entries.append(TableEntry(name: table, file: file.file, rows: file.rows, sha256: file.sha256, columns: columns.map { [$0.0, $0.1] }))
            }
            let version = try await connection.query("SELECT schema_version FROM control.tenants WHERE id = \(id)", logger: logger).first(Int.self) ?? 0
            return Manifest(
                format: format, formatVersion: formatVersion, tenantId: id.lowercased, slug: slug.value, schemaVersion: version,
                exportedAt: Date(), files: [registry, versions, domains], tables: entries)
        }
        let data = try Self.encoder.encode(manifest)
        try data.write(to: folder.appendingPathComponent("manifest.json"))
        return (TenantArchive(folder: folder), manifest, SHA256.hash(data: data).hexString)
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder.api
        encoder.outputFormatting.insert(.prettyPrinted)
        return encoder
    }

    // MARK: Verify

    /// Reads the manifest and checks every file against its checksum (and the manifest against
    /// `expectedManifest` when given); returns the manifest.
    public func verify(expectedManifest: String? = nil) throws(Failure) -> Manifest {
        guard let data = try? Data(contentsOf: folder.appendingPathComponent("manifest.json")) else { throw .missing("manifest.json") }
        if let expectedManifest, SHA256.hash(data: data).hexString != expectedManifest { throw .checksum("manifest.json") }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            return try Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        }
        guard let manifest = try? decoder.decode(Manifest.self, from: data), manifest.format == Self.format else {
            throw .malformed("manifest.json is not a \(Self.format) manifest")
        }
        guard manifest.formatVersion == Self.formatVersion else { throw .malformed("format version \(manifest.formatVersion) is not supported") }
        for (file, sha256) in manifest.files.map({ ($0.file, $0.sha256) }) + manifest.tables.map({ ($0.file, $0.sha256) }) {
            guard !file.contains(".."), let contents = try? Data(contentsOf: folder.appendingPathComponent(file)) else { throw .missing(file) }
            guard SHA256.hash(data: contents).hexString == sha256 else { throw .checksum(file) }
        }
        return manifest
    }

    /// The lines (JSON objects) of one file of the archive.
    func lines(_ file: String) throws -> [String] {
        let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
        return text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }
}

extension Digest {
    var hexString: String { Data(self).hexString }
}
