import Foundation
import Logging
import NzilaCore
import NzilaDatabase
import PostgresNIO

/// Lists in `reference` (Migrations/reference/0004, 0012): saving a loaded file as a new version (it becomes current),
/// listing the versions, activating an earlier one again, and reading the current version of each source back.
public enum ScreeningLists {
    public struct Saved: Sendable, Equatable {
        public let listID: Int64
        public let source: String
        public let version: String
        public let entries: Int
        /// False when this exact file was loaded before (nothing written).
        public let new: Bool
    }

    /// One transaction: the list row, then its entries in batches. The same file again is a no-op.
    public static func save(_ list: LoadedList, loadedBy: String, client: PostgresClient, logger: Logger) async throws -> Saved {
        try await client.transaction(logger: logger) { connection in
            let existing = try await connection.query(
                """
                SELECT id, version, entry_count FROM reference.screening_lists
                WHERE source = \(list.format.source) AND file_sha256 = \(list.sha256)
                """, logger: logger
            ).first((Int64, String, Int).self)
            if let (id, version, count) = existing {
                return Saved(listID: id, source: list.format.source, version: version, entries: count, new: false)
            }
            guard let id = try await connection.query(
                """
                INSERT INTO reference.screening_lists (source, format, version, file_sha256, entry_count, loaded_by)
                VALUES (\(list.format.source), \(list.format.rawValue), \(list.version), \(list.sha256), \(list.entries.count), \(loadedBy))
                RETURNING id
                """, logger: logger
            ).first(Int64.self) else { throw Problem.internalError }
            // Publishers repeat an id now and then (a corrected record); the last one wins.
            var byID: [String: ListEntry] = [:]
            var order: [String] = []
            for entry in list.entries {
                if byID.updateValue(entry, forKey: entry.sourceID) == nil { order.append(entry.sourceID) }
            }
            let entries = order.compactMap { byID[$0] }
            for start in stride(from: 0, to: entries.count, by: 2_000) {
                let batch = entries[start..<min(entries.count, start + 2_000)].map(Row.init)
                let json = String(decoding: try JSONEncoder().encode(batch), as: UTF8.self)
                try await connection.query(
                    """
                    INSERT INTO reference.screening_entries (list_id, source_id, kind, names, dates_of_birth, nationalities, programmes)
                    SELECT \(id), source_id, kind, names, dates_of_birth, nationalities, programmes
                    FROM jsonb_to_recordset(\(json)::jsonb)
                        AS x (source_id text, kind text, names text[], dates_of_birth text[], nationalities text[], programmes text[])
                    """, logger: logger)
            }
            return Saved(listID: id, source: list.format.source, version: list.version, entries: entries.count, new: true)
        }
    }

    struct Row: Encodable {
        let source_id: String
        let kind: String
        let names: [String]
        let dates_of_birth: [String]
        let nationalities: [String]
        let programmes: [String]

        init(_ entry: ListEntry) {
            source_id = entry.sourceID
            kind = entry.kind.rawValue
            names = entry.names
            dates_of_birth = entry.datesOfBirth
            nationalities = entry.nationalities
            programmes = entry.programmes
        }
    }

    /// "id=source@version,…" of the current version of each source (the one activated last: Migrations/reference/0012):
    /// changes exactly when a list does.
    static let currentKey: PostgresQuery = """
        SELECT coalesce(string_agg(id::text || '=' || source || '@' || version, ',' ORDER BY source), '')
        FROM (SELECT DISTINCT ON (source) id, source, version FROM reference.screening_lists ORDER BY source, activation DESC) AS current
        """

    /// One loaded version of a list, as `nzila reference list-versions` shows it.
    public struct Version: Sendable, Equatable {
        public let listID: Int64
        public let source: String
        public let format: String
        public let version: String
        public let entries: Int
        public let loadedAt: Date
        public let loadedBy: String
        /// When it last became the current version, and by whom (its load, or an activation).
        public let activatedAt: Date
        public let activatedBy: String
        /// Whether it is the version of its source screened against now.
        public let current: Bool
    }

    /// Every version of every list, by source, the current one first and then the others activated most recently first.
    public static func versions(on connection: PostgresConnection, logger: Logger) async throws -> [Version] {
        let rows = try await connection.query(
            """
            SELECT id, source, format, version, entry_count, loaded_at, loaded_by, coalesce(activated_at, loaded_at),
                   coalesce(activated_by, loaded_by), activation = max(activation) OVER (PARTITION BY source)
            FROM reference.screening_lists ORDER BY source, activation DESC
            """, logger: logger)
        var out: [Version] = []
        for try await (id, source, format, version, entries, loadedAt, loadedBy, activatedAt, activatedBy, current) in rows.decode(
            (Int64, String, String, String, Int, Date, String, Date, String, Bool).self)
        {
            out.append(Version(
                listID: id, source: source, format: format, version: version, entries: entries, loadedAt: loadedAt, loadedBy: loadedBy,
                activatedAt: activatedAt, activatedBy: activatedBy, current: current))
        }
        return out
    }

    /// Makes a loaded version the one screened against again (a rollback, or forward again): `version` is a version
    /// string, or a list id as `#12`; `source` is needed only when two lists share the version string. Returns the
    /// version activated and the one it replaces (nil when it was already current: nothing changes). The caller's
    /// transaction records it in the audit log.
    public static func activate(
        version: String, source: String?, by: String, at now: Date, on connection: PostgresConnection, logger: Logger
    ) async throws -> (activated: Version, replaced: Version?) {
        let all = try await versions(on: connection, logger: logger)
        let matching = all.filter { candidate in
            (version.hasPrefix("#") ? "#\(candidate.listID)" == version : candidate.version == version) && (source == nil || candidate.source == source)
        }
        guard let chosen = matching.first else {
            throw Problem.notFound("List version \(version)\(source.map { " of \($0)" } ?? "")")
        }
        guard matching.count == 1 else {
            throw Problem.conflict(
                "ambiguous-version",
                "Version \(version) is loaded for \(matching.map { "\($0.source) (#\($0.listID))" }.joined(separator: ", ")); name one with --source or #id.")
        }
        let replaced = all.first { $0.source == chosen.source && $0.current }
        if chosen.current { return (chosen, nil) }
        try await connection.query(
            """
            UPDATE reference.screening_lists
            SET activation = nextval('reference.screening_activation'), activated_at = \(now), activated_by = \(by)
            WHERE id = \(chosen.listID)
            """, logger: logger)
        let activated = Version(
            listID: chosen.listID, source: chosen.source, format: chosen.format, version: chosen.version, entries: chosen.entries,
            loadedAt: chosen.loadedAt, loadedBy: chosen.loadedBy, activatedAt: now, activatedBy: by, current: true)
        return (activated, replaced)
    }

    /// The entries of the lists a key names, with each source's version.
    static func load(key: String, db: TenantDB) async throws -> ScreeningIndex {
        var ids: [Int64] = []
        var versions: [String: String] = [:]
        for part in key.split(separator: ",") {
            let pieces = part.split(separator: "=", maxSplits: 1)
            guard pieces.count == 2, let id = Int64(pieces[0]), let at = pieces[1].firstIndex(of: "@") else { continue }
            ids.append(id)
            versions[String(pieces[1][..<at])] = String(pieces[1][pieces[1].index(after: at)...])
        }
        var entries: [ListEntry] = []
        let rows = try await db.query(
            """
            SELECT l.source, e.source_id, e.kind, e.names, e.dates_of_birth, e.nationalities, e.programmes
            FROM reference.screening_entries e JOIN reference.screening_lists l ON l.id = e.list_id
            WHERE e.list_id = ANY(\(ids)) ORDER BY e.list_id, e.source_id
            """)
        for try await (source, id, kind, names, dobs, nationalities, programmes) in rows.decode(
            (String, String, String, [String], [String], [String], [String]).self)
        {
            entries.append(ListEntry(
                source: source, sourceID: id, kind: ListEntry.Kind(rawValue: kind) ?? .entity, names: names, datesOfBirth: dobs,
                nationalities: nationalities, programmes: programmes))
        }
        return ScreeningIndex(entries: entries, listVersions: versions)
    }
}

/// The screening index of the lists currently loaded, shared by every request of a data plane. It
/// asks which list versions are current at most every `recheck` (one small query) and rebuilds the
/// index when they changed; a request never waits for more than that query unless a list changed.
public actor ScreeningIndexCache {
    var current: (key: String, index: ScreeningIndex)?
    var checkedAt: ContinuousClock.Instant?
    /// The check (and load) in flight: requests arriving meanwhile wait for it instead of loading the
    /// lists again, so a list change costs one load per data plane, not one per request.
    var inFlight: Task<(key: String, index: ScreeningIndex), any Error>?
    let recheck: Duration

    public init(recheck: Duration = .seconds(10)) {
        self.recheck = recheck
    }

    /// The index to screen with, read through `session` (the tenant's role reads `reference`).
    public func index(_ session: TenantSession) async throws -> ScreeningIndex {
        if let current, let checkedAt, ContinuousClock.now - checkedAt < recheck { return current.index }
        if let inFlight { return try await inFlight.value.index }
        let known = current
        let task = Task { try await Self.fetch(session, known: known) }
        inFlight = task
        defer { inFlight = nil }
        let fetched = try await task.value
        current = fetched
        checkedAt = .now
        return fetched.index
    }

    static func fetch(_ session: TenantSession, known: (key: String, index: ScreeningIndex)?) async throws -> (key: String, index: ScreeningIndex) {
        try await session.run { db in
            let key = try await db.query(ScreeningLists.currentKey).first(String.self) ?? ""
            if let known, known.key == key { return known }
            return (key, try await ScreeningLists.load(key: key, db: db))
        }
    }
}

/// Recorded screenings in the tenant's schema (Migrations/tenant/0005).
public struct ScreeningStore {
    let db: TenantDB

    public init(_ db: TenantDB) { self.db = db }

    public func record(
        id: UUID, purpose: String, memberID: UUID?, query: ScreeningQuery, result: ScreeningResult, by principal: Principal?
    ) async throws -> ScreeningRecord {
        try await record([Item(purpose: purpose, memberID: memberID, query: query, result: result)], ids: [id], by: principal)[0]
    }

    /// One screening to record with others in one statement.
    public struct Item: Sendable {
        public let purpose: String
        public let memberID: UUID?
        public let query: ScreeningQuery
        public let result: ScreeningResult

        public init(purpose: String, memberID: UUID?, query: ScreeningQuery, result: ScreeningResult) {
            self.purpose = purpose
            self.memberID = memberID
            self.query = query
            self.result = result
        }
    }

    /// Several screenings in one round trip (a remittance's sender and recipient), in order.
    public func record(_ items: [Item], by principal: Principal?) async throws -> [ScreeningRecord] {
        try await record(items, ids: items.map { _ in UUID() }, by: principal)
    }

    func record(_ items: [Item], ids: [UUID], by principal: Principal?) async throws -> [ScreeningRecord] {
        precondition(ids.count == items.count, "one id per screening")
        // Encoded once, the subject and result with the types' own keys, so they read back exactly; the
        // API renders them snake_case.
        struct Row: Encodable {
            let id: UUID
            let purpose: String
            let member_id: UUID?
            let subject: ScreeningRecord.Subject
            let normalized_name: [String]
            let decision: String
            let score: Double
            let result: ScreeningResult
        }
        let rows = zip(ids, items).map { id, item in
            Row(id: id, purpose: item.purpose, member_id: item.memberID,
                subject: .init(name: item.query.name, dateOfBirth: item.query.dateOfBirth, nationality: item.query.nationality),
                normalized_name: item.result.normalizedName, decision: item.result.decision.rawValue, score: item.result.score, result: item.result)
        }
        let json = String(decoding: try JSONEncoder().encode(rows), as: UTF8.self)
        let createdAt = try await db.query(
            """
            INSERT INTO screenings (id, purpose, member_id, subject, normalized_name, decision, score, result, requested_by, requested_role)
            SELECT id, purpose, member_id, subject, normalized_name, decision, round(score, 4), result, \(principal?.id), \(principal?.role.rawValue ?? "system")
            FROM jsonb_to_recordset(\(json)::jsonb)
                AS x (id uuid, purpose text, member_id uuid, subject jsonb, normalized_name text[], decision text, score numeric, result jsonb)
            RETURNING created_at
            """
        ).first(Date.self) ?? db.now
        return zip(ids, items).map { id, item in
            ScreeningRecord(
                id: ScreeningID(id), purpose: item.purpose, memberID: item.memberID.map { MemberID($0) },
                subject: .init(name: item.query.name, dateOfBirth: item.query.dateOfBirth, nationality: item.query.nationality), result: item.result,
                createdAt: createdAt)
        }
    }

    public func screening(_ id: UUID) async throws -> ScreeningRecord? {
        let row = try await db.query(
            "SELECT purpose, member_id, subject::text, result::text, created_at FROM screenings WHERE id = \(id)"
        ).first((String, UUID?, String, String, Date).self)
        guard let (purpose, member, subject, result, createdAt) = row else { return nil }
        let decoder = JSONDecoder()
        return ScreeningRecord(
            id: ScreeningID(id), purpose: purpose, memberID: member.map { MemberID($0) }, subject: try decoder.decode(ScreeningRecord.Subject.self, from: Data(subject.utf8)),
            result: try decoder.decode(ScreeningResult.self, from: Data(result.utf8)), createdAt: createdAt)
    }
}

extension ScreeningStore {
    /// Screenings newest first, a member's only when `member` is given (the member page's list).
    public func screenings(member: UUID?, page: PageRequest) async throws -> Page<ScreeningRecord> {
        let after = page.after
        let rows = try await db.query(
            """
            SELECT id, purpose, member_id, subject::text, result::text, created_at, (extract(epoch FROM created_at) * 1000000)::int8
            FROM screenings
            WHERE (\(member)::uuid IS NULL OR member_id = \(member))
              AND (\(after == nil) OR (created_at, id) < ('epoch'::timestamptz + \(after?.position ?? 0) * interval '1 microsecond', \(after?.id ?? UUID())))
            ORDER BY created_at DESC, id DESC LIMIT \(page.limit + 1)
            """
        ).all((UUID, String, UUID?, String, String, Date, Int64).self)
        let decoder = JSONDecoder()
        return try page.page(
            of: rows,
            item: { r in
                ScreeningRecord(
                    id: ScreeningID(r.0), purpose: r.1, memberID: r.2.map { MemberID($0) },
                    subject: try decoder.decode(ScreeningRecord.Subject.self, from: Data(r.3.utf8)),
                    result: try decoder.decode(ScreeningResult.self, from: Data(r.4.utf8)), createdAt: r.5)
            },
            cursor: { PageCursor(position: $0.6, id: $0.0) })
    }
}

/// A screening as the API returns it.
public struct ScreeningRecord: Codable, Sendable {
    public struct Subject: Codable, Sendable, Equatable {
        public let name: String
        public let dateOfBirth: String?
        public let nationality: String?
    }

    public let id: ScreeningID
    public let purpose: String
    public let memberID: MemberID?
    public let subject: Subject
    public let result: ScreeningResult
    public let createdAt: Date
}
