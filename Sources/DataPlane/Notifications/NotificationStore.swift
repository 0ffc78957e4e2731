import Crypto
import Foundation
import NzilaCore
import NzilaDatabase
import PostgresNIO

public enum DeviceTag {}
public enum NotificationTag {}
public typealias DeviceID = Identifier<DeviceTag>
public typealias NotificationID = Identifier<NotificationTag>

/// A member's registered device. The token itself is never shown again.
public struct DeviceRecord: Codable, Sendable, Equatable {
    public let id: DeviceID
    public let memberId: MemberID
    /// fcm or apns.
    public let platform: String
    /// The token's last characters.
    public let tokenHint: String
    public let createdAt: Date
}

/// A member's notification choices: their locale and, per category, the channels they want.
public struct NotificationPreferences: Codable, Sendable, Equatable {
    public let memberId: MemberID
    public let locale: String
    public let categories: [String: ChannelChoice]
}

/// A message planned for a member, and what became of it.
public struct NotificationRecord: Codable, Sendable, Equatable {
    public let id: NotificationID
    public let memberId: MemberID
    public let eventSeq: Int64
    public let eventType: String
    public let category: String
    public let template: String
    public let critical: Bool
    /// push, sms or email.
    public let channel: String
    /// What may be shown of where it went: "•••• 4567", "a•••@example.com", a token's last characters.
    public let recipientHint: String
    public let locale: String
    public let title: String
    public let body: String
    /// pending, sent, recorded (by the sandbox) or failed.
    public let status: String
    public let provider: String?
    public let attempts: Int
    public let lastError: String?
    public let createdAt: Date
    public let sentAt: Date?
}

/// The SQL of member notifications (the only place it lives).
struct NotificationStore {
    let db: TenantDB
    let secrets: SecretBox

    // MARK: devices

    func seal(_ token: String, device: UUID) throws -> Data {
        try secrets.seal(Data("\(db.tenant.id.rawValue.lowercased):\(device.lowercased):\(token)".utf8))
    }

    func open(_ sealed: Data, device: UUID) throws -> String {
        let text = String(decoding: try secrets.open(sealed), as: UTF8.self)
        let prefix = "\(db.tenant.id.rawValue.lowercased):\(device.lowercased):"
        guard text.hasPrefix(prefix) else { throw SecretBox.Failure.unsealFailed }
        return String(text.dropFirst(prefix.count))
    }

    static let deviceColumns = "id, member_id, platform, token_hint, created_at"

    /// Registers a device (the same token again answers the device it already is). Nil when the
    /// member is not an active member of this tenant.
    func register(member: MemberID, platform: String, token: String) async throws -> DeviceRecord? {
        guard try await db.query("SELECT 1 FROM members WHERE id = \(member) AND status = 'active'").first(Int32.self) != nil else { return nil }
        let digest = Data(SHA256.hash(data: Data(token.utf8)))
        if let existing = try await db.query(
            "SELECT \(unescaped: Self.deviceColumns) FROM devices WHERE member_id = \(member) AND token_digest = \(digest)"
        ).first((DeviceID, MemberID, String, String, Date).self) {
            return DeviceRecord(id: existing.0, memberId: existing.1, platform: existing.2, tokenHint: existing.3, createdAt: existing.4)
        }
        let id = UUID()
        let row = try await db.query(
            """
            INSERT INTO devices (id, member_id, platform, token_sealed, token_digest, token_hint, created_at)
            VALUES (\(id), \(member), \(platform), \(try seal(token, device: id)), \(digest), \("…" + token.suffix(6)), \(db.now))
            ON CONFLICT (member_id, token_digest) DO NOTHING
            RETURNING \(unescaped: Self.deviceColumns)
            """
        ).first((DeviceID, MemberID, String, String, Date).self)
        return row.map { DeviceRecord(id: $0.0, memberId: $0.1, platform: $0.2, tokenHint: $0.3, createdAt: $0.4) }
    }

    func devices(member: MemberID) async throws -> [DeviceRecord] {
        try await db.query("SELECT \(unescaped: Self.deviceColumns) FROM devices WHERE member_id = \(member) ORDER BY created_at DESC, id DESC")
            .all((DeviceID, MemberID, String, String, Date).self)
            .map { DeviceRecord(id: $0.0, memberId: $0.1, platform: $0.2, tokenHint: $0.3, createdAt: $0.4) }
    }

    /// Removes a device (a member's own only, when `member` is given); whether there was one.
    func removeDevice(_ id: DeviceID, member: MemberID?) async throws -> Bool {
        try await db.query(
            "DELETE FROM devices WHERE id = \(id) AND (\(member?.rawValue)::uuid IS NULL OR member_id = \(member?.rawValue)) RETURNING id"
        ).first(UUID.self) != nil
    }

    // MARK: preferences

    func preferences(member: MemberID) async throws -> NotificationPreferences? {
        guard let locale = try await db.query(
            "SELECT coalesce(l.locale, 'en-CA') FROM members m LEFT JOIN member_locales l ON l.member_id = m.id WHERE m.id = \(member)"
        ).first(String.self) else { return nil }
        let rows = try await db.query("SELECT category, push, sms, email FROM notification_preferences WHERE member_id = \(member)")
            .all((String, Bool, Bool, Bool).self)
        var categories = Dictionary(uniqueKeysWithValues: NotificationCategory.allCases.map { ($0.rawValue, $0.defaults) })
        for row in rows { categories[row.0] = ChannelChoice(push: row.1, sms: row.2, email: row.3) }
        return NotificationPreferences(memberId: member, locale: locale, categories: categories)
    }

    /// Sets the locale (if given) and the categories given; the others keep their choices.
    func setPreferences(member: MemberID, locale: String?, categories: [NotificationCategory: ChannelChoice]) async throws -> NotificationPreferences? {
        guard try await db.query("SELECT 1 FROM members WHERE id = \(member)").first(Int32.self) != nil else { return nil }
        if let locale {
            try await db.query(
                """
                INSERT INTO member_locales (member_id, locale, updated_at) VALUES (\(member), \(locale), \(db.now))
                ON CONFLICT (member_id) DO UPDATE SET locale = EXCLUDED.locale, updated_at = EXCLUDED.updated_at
                """)
        }
        if !categories.isEmpty {
            let ordered = categories.sorted { $0.key.rawValue < $1.key.rawValue }
            try await db.query(
                """
                INSERT INTO notification_preferences (member_id, category, push, sms, email, updated_at)
                SELECT \(member), c, p, s, e, \(db.now)
                FROM unnest(\(ordered.map(\.key.rawValue))::text[], \(ordered.map(\.value.push))::bool[], \(ordered.map(\.value.sms))::bool[],
                            \(ordered.map(\.value.email))::bool[]) AS x(c, p, s, e)
                ON CONFLICT (member_id, category) DO UPDATE SET push = EXCLUDED.push, sms = EXCLUDED.sms, email = EXCLUDED.email, updated_at = EXCLUDED.updated_at
                """)
        }
        return try await preferences(member: member)
    }

    // MARK: planning

    /// Reads up to `limit` published events after the tenant's notification cursor (skip-locked: one
    /// planner per tenant at a time), writes the messages they call for, and moves the cursor past
    /// them, in this transaction. Nil when another planner holds the cursor; else how many events it
    /// read and how many messages it wrote.
    func plan(limit: Int, creditUnion: String, section: NotificationsSection) async throws -> (read: Int, planned: Int)? {
        var held = try await db.query("SELECT last_seq FROM notification_cursor FOR UPDATE SKIP LOCKED").first(Int64.self)
        if held == nil {
            // A schema imported from an archive older than its cursor starts at what is already numbered
            // (if the row is only locked, this inserts nothing: another planner has it).
            held = try await db.query(
                """
                INSERT INTO notification_cursor (last_seq) SELECT coalesce(max(last_seq), 0) FROM outbox_relay
                ON CONFLICT DO NOTHING RETURNING last_seq
                """
            ).first(Int64.self)
        }
        guard let cursor = held else { return nil }
        let events = try await EventLog(db).events(after: cursor, limit: limit)
        guard let last = events.last?.seq else { return (0, 0) }
        let wanted = events.flatMap { event in
            NotificationRules.intents(type: event.type, audience: event.audience, payload: event.payload, largeThreshold: section.largeThreshold).map { (event, $0) }
        }
        var planned = 0
        if !wanted.isEmpty {
            let members = Array(Set(wanted.map(\.1.member)))
            let people = try await db.query(
                """
                SELECT m.id, m.phone, m.email, coalesce(l.locale, 'en-CA') FROM members m LEFT JOIN member_locales l ON l.member_id = m.id
                WHERE m.id = ANY(\(members)) AND m.status = 'active'
                """
            ).all((UUID, String?, String, String).self)
            let devices = try await db.query("SELECT member_id, id, token_hint FROM devices WHERE member_id = ANY(\(members)) ORDER BY created_at, id")
                .all((UUID, UUID, String).self)
            let choices = try await db.query("SELECT member_id, category, push, sms, email FROM notification_preferences WHERE member_id = ANY(\(members))")
                .all((UUID, String, Bool, Bool, Bool).self)
            var contacts: [UUID: (NotificationRules.Contact, String)] = [:]
            for person in people {
                let theirs = Dictionary(
                    choices.filter { $0.0 == person.0 }.compactMap { row in NotificationCategory(rawValue: row.1).map { ($0, ChannelChoice(push: row.2, sms: row.3, email: row.4)) } },
                    uniquingKeysWith: { $1 })
                let contact = NotificationRules.Contact(
                    devices: devices.filter { $0.0 == person.0 }.map { ($0.1, $0.2) }, phone: person.1?.isEmpty == false ? person.1 : nil, email: person.2,
                    choices: theirs)
                contacts[person.0] = (contact, person.3)
            }
            var columns = (
                member: [UUID](), seq: [Int64](), type: [String](), category: [String](), template: [String](), critical: [Bool](), channel: [String](),
                device: [String](), hint: [String](), locale: [String](), title: [String](), body: [String]()
            )
            for (event, intent) in wanted {
                guard let (contact, locale) = contacts[intent.member],
                    let text = NotificationRules.render(intent, locale: locale, creditUnion: creditUnion, section: section)
                else { continue }
                for delivery in NotificationRules.deliveries(intent.category, to: contact) {
                    columns.member.append(intent.member)
                    columns.seq.append(event.seq)
                    columns.type.append(event.type)
                    columns.category.append(intent.category.rawValue)
                    columns.template.append(intent.template)
                    columns.critical.append(intent.category.isCritical)
                    columns.channel.append(delivery.channel.rawValue)
                    columns.device.append(delivery.device?.lowercased ?? "")
                    columns.hint.append(delivery.hint)
                    columns.locale.append(locale)
                    columns.title.append(text.title)
                    columns.body.append(text.body)
                }
            }
            if !columns.member.isEmpty {
                planned = try await db.query(
                    """
                    WITH written AS (
                        INSERT INTO notifications (member_id, event_seq, event_type, category, template, critical, channel, device_id, recipient_hint,
                                                   locale, title, body, next_attempt_at, created_at)
                        SELECT m, s, t, c, k, x, ch, nullif(d, '')::uuid, h, l, ti, b, \(db.now), \(db.now)
                        FROM unnest(\(columns.member)::uuid[], \(columns.seq)::int8[], \(columns.type)::text[], \(columns.category)::text[],
                                    \(columns.template)::text[], \(columns.critical)::bool[], \(columns.channel)::text[], \(columns.device)::text[],
                                    \(columns.hint)::text[], \(columns.locale)::text[], \(columns.title)::text[], \(columns.body)::text[])
                             AS u(m, s, t, c, k, x, ch, d, h, l, ti, b)
                        ON CONFLICT DO NOTHING
                        RETURNING 1)
                    SELECT count(*)::int8 FROM written
                    """
                ).first(Int.self) ?? 0
            }
        }
        try await db.query("UPDATE notification_cursor SET last_seq = \(last)")
        return (events.count, planned)
    }

    // MARK: sending

    /// A message claimed for one attempt, with its address.
    struct Claimed: Sendable {
        let id: UUID
        let attempt: Int
        let channel: NotificationChannel
        let device: UUID?
        let platform: String?
        /// The token, phone or e-mail (nil: the device or phone is gone).
        let address: String?
        let title: String
        let body: String
        let eventType: String
        let eventSeq: Int64
    }

    /// Claims up to `limit` due messages (skip-locked, leased on the database's clock as webhook
    /// deliveries are) with their addresses.
    func claim(limit: Int) async throws -> [Claimed] {
        let rows = try await db.query(
            """
            WITH due AS (
                SELECT id FROM notifications WHERE status = 'pending' AND next_attempt_at <= \(db.now)
                  AND (leased_until IS NULL OR leased_until <= clock_timestamp())
                ORDER BY next_attempt_at, event_seq LIMIT \(limit) FOR UPDATE SKIP LOCKED)
            UPDATE notifications n SET attempts = n.attempts + 1, leased_until = clock_timestamp() + interval '60 seconds'
            FROM due WHERE n.id = due.id
            RETURNING n.id, n.attempts, n.channel, n.device_id, n.member_id, n.title, n.body, n.event_type, n.event_seq
            """
        ).all((UUID, Int32, String, UUID?, UUID, String, String, String, Int64).self)
        guard !rows.isEmpty else { return [] }
        let members = Array(Set(rows.map(\.4)))
        let people = Dictionary(
            try await db.query("SELECT id, phone, email FROM members WHERE id = ANY(\(members))").all((UUID, String?, String).self).map { ($0.0, ($0.1, $0.2)) },
            uniquingKeysWith: { first, _ in first })
        let deviceIDs = rows.compactMap(\.3)
        let devices = Dictionary(
            try await db.query("SELECT id, platform, token_sealed FROM devices WHERE id = ANY(\(deviceIDs))").all((UUID, String, Data).self).map { ($0.0, ($0.1, $0.2)) },
            uniquingKeysWith: { first, _ in first })
        return rows.map { row in
            let channel = NotificationChannel(rawValue: row.2) ?? .push
            var address: String?
            var platform: String?
            switch channel {
            case .push:
                if let id = row.3, let device = devices[id] {
                    platform = device.0
                    // A token that does not open (as after an import) leaves the message undeliverable.
                    address = try? open(device.1, device: id)
                }
            case .sms: address = people[row.4]?.0
            case .email: address = people[row.4]?.1
            }
            return Claimed(
                id: row.0, attempt: Int(row.1), channel: channel, device: row.3, platform: platform, address: address, title: row.5, body: row.6,
                eventType: row.7, eventSeq: row.8)
        }
    }

    /// Records an attempt's outcome: sent (or recorded by the sandbox), retried later, failed; an
    /// unregistered device is removed.
    func record(_ claimed: Claimed, provider: String, outcome: NotifierOutcome) async throws {
        let now = db.now
        switch outcome {
        case .sent, .recorded:
            let status = outcome == .recorded ? "recorded" : "sent"
            var providerMessageID: String?
            if case .sent(let id) = outcome { providerMessageID = id }
            try await db.query(
                """
                UPDATE notifications SET status = \(status), provider = \(provider), provider_message_id = \(providerMessageID), sent_at = \(now),
                    leased_until = NULL, last_error = NULL
                WHERE id = \(claimed.id) AND attempts = \(claimed.attempt)
                """)
        case .failed(let reason, let retry):
            let again = retry && claimed.attempt < NotificationRules.maximumAttempts
            try await db.query(
                """
                UPDATE notifications SET status = \(again ? "pending" : "failed"), provider = \(provider), last_error = \(String(reason.prefix(500))),
                    next_attempt_at = \(now.addingTimeInterval(NotificationRules.retryDelay(afterAttempt: claimed.attempt))), leased_until = NULL
                WHERE id = \(claimed.id) AND attempts = \(claimed.attempt)
                """)
        case .unregistered:
            try await db.query(
                """
                UPDATE notifications SET status = 'failed', provider = \(provider), last_error = 'the device is no longer registered', leased_until = NULL
                WHERE id = \(claimed.id) AND attempts = \(claimed.attempt)
                """)
            if let device = claimed.device { try await db.query("DELETE FROM devices WHERE id = \(device)") }
            try await fallBack(claimed)
        }
        if case .failed(_, let retry) = outcome, !(retry && claimed.attempt < NotificationRules.maximumAttempts) { try await fallBack(claimed) }
    }

    /// A critical message whose push failed for good reaches the member anyway: when no other push of
    /// it can still arrive (none sent, none pending), it goes by SMS, else by e-mail (once: the
    /// message's unique index holds one per event, member and channel).
    func fallBack(_ claimed: Claimed) async throws {
        guard claimed.channel == .push else { return }
        try await db.query(
            """
            WITH failed AS (
                SELECT n.* FROM notifications n WHERE n.id = \(claimed.id) AND n.critical
                  AND NOT EXISTS (SELECT 1 FROM notifications o WHERE o.event_seq = n.event_seq AND o.member_id = n.member_id
                                  AND o.channel = 'push' AND o.status IN ('pending', 'sent', 'recorded'))),
            person AS (
                SELECT m.id, nullif(m.phone, '') AS phone, m.email FROM members m JOIN failed f ON f.member_id = m.id)
            INSERT INTO notifications (member_id, event_seq, event_type, category, template, critical, channel, device_id, recipient_hint,
                                       locale, title, body, next_attempt_at, created_at)
            SELECT f.member_id, f.event_seq, f.event_type, f.category, f.template, true,
                   CASE WHEN p.phone IS NOT NULL THEN 'sms' ELSE 'email' END, NULL,
                   CASE WHEN p.phone IS NOT NULL THEN '•••• ' || right(regexp_replace(p.phone, '[^0-9]', '', 'g'), 4)
                        ELSE left(p.email, 1) || '•••' || substr(p.email, strpos(p.email, '@')) END,
                   f.locale, f.title, f.body, \(db.now), \(db.now)
            FROM failed f JOIN person p ON p.id = f.member_id
            ON CONFLICT DO NOTHING
            """)
    }

    /// A message with no address left (its device removed, no phone): failed, with why.
    func undeliverable(_ claimed: Claimed) async throws {
        try await db.query(
            """
            UPDATE notifications SET status = 'failed', last_error = \(claimed.channel == .push ? "the device was removed" : "no \(claimed.channel.rawValue) address"),
                leased_until = NULL
            WHERE id = \(claimed.id) AND attempts = \(claimed.attempt)
            """)
    }

    // MARK: reading

    static let columns = """
        id, member_id, event_seq, event_type, category, template, critical, channel, recipient_hint, locale, title, body, status, provider, attempts,
        last_error, created_at, sent_at, (extract(epoch FROM created_at) * 1000000)::int8
        """

    func list(_ page: PageRequest, member: MemberID?) async throws -> Page<NotificationRecord> {
        let after = page.after
        let rows = try await db.query(
            """
            SELECT \(unescaped: Self.columns) FROM notifications
            WHERE (\(member?.rawValue)::uuid IS NULL OR member_id = \(member?.rawValue))
              AND (\(after == nil) OR (created_at, id) < ('epoch'::timestamptz + \(after?.position ?? 0) * interval '1 microsecond', \(after?.id ?? UUID())))
            ORDER BY created_at DESC, id DESC LIMIT \(page.limit + 1)
            """
        ).all((NotificationID, MemberID, Int64, String, String, String, Bool, String, String, String, String, String, String, String?, Int32, String?, Date, Date?, Int64).self)
        return page.page(
            of: rows,
            item: {
                NotificationRecord(
                    id: $0.0, memberId: $0.1, eventSeq: $0.2, eventType: $0.3, category: $0.4, template: $0.5, critical: $0.6, channel: $0.7, recipientHint: $0.8,
                    locale: $0.9, title: $0.10, body: $0.11, status: $0.12, provider: $0.13, attempts: Int($0.14), lastError: $0.15, createdAt: $0.16, sentAt: $0.17)
            }, cursor: { PageCursor(position: $0.18, id: $0.0.rawValue) })
    }
}
