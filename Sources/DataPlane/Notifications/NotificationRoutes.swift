import Foundation
import Hummingbird
import NzilaCore
import NzilaDatabase

struct DeviceBody: StrictBody {
    static let fields: Set<String> = ["platform", "token", "member_id"]
    /// fcm (Android, and iOS through Firebase) or apns.
    let platform: String
    /// The push token the platform gave the app.
    let token: String
    /// Staff registering a device at the branch name the member; a member's app leaves it out.
    let memberId: String?
}

struct PreferencesBody: StrictBody {
    static let fields: Set<String> = ["locale", "categories"]
    /// en-CA or fr-CA.
    let locale: String?
    /// Category → {push, sms, email}; categories left out keep their choices.
    let categories: [String: ChannelChoice]?
}

extension DataPlane {
    func addNotificationRoutes(_ routes: TenantRoutes) {
        let secrets = self.secrets
        routes.route(
            .post, "/v1/devices", "Register a device for push notifications (the member's app; staff for a member)", access: .ownOrStaff(.createMember),
            body: DeviceBody.self, answer: DeviceRecord.self
        ) { request, context in
            let body = try await request.decodeStrict(DeviceBody.self)
            var errors: [FieldError] = []
            if !["fcm", "apns"].contains(body.platform) { errors.append(FieldError(field: "platform", message: "must be fcm or apns")) }
            if !(16...4_096).contains(body.token.count) || body.token.contains(where: { $0.isWhitespace || $0 == "/" }) {
                errors.append(FieldError(field: "token", message: "must be the platform's push token (16 to 4,096 characters, no spaces or slashes)"))
            }
            guard errors.isEmpty else { throw Problem.validation(errors) }
            let member = try context.subject(named: body.memberId)
            guard let record = try await context.session.run({ try await NotificationStore(db: $0, secrets: secrets).register(member: member, platform: body.platform, token: body.token) })
            else { throw Problem.validation(field: "member_id", "names no active member") }
            return try Response.json(record, status: .created, headers: [.location: "/v1/devices/\(record.id)"])
        }
        routes.route(
            .get, "/v1/devices", "A member's devices (their own; staff: ?member_id=)", access: .ownOrStaff(.readMembers), answer: Page<DeviceRecord>.self
        ) { request, context in
            let member = try context.subject(named: request.queryDictionary["member_id"])
            let devices = try await context.session.run { try await NotificationStore(db: $0, secrets: secrets).devices(member: member) }
            return try Response.json(Page(data: devices, nextCursor: nil))
        }
        routes.route(.delete, "/v1/devices/{id}", "Remove a device: it gets no more pushes", access: .ownOrStaff(.createMember)) { _, context in
            let id = DeviceID(try context.pathUUID("Device"))
            let member = context.memberID
            guard try await context.session.run({ try await NotificationStore(db: $0, secrets: secrets).removeDevice(id, member: member) }) else {
                throw Problem.notFound("Device \(id)")
            }
            return Response(status: .noContent)
        }
        routes.route(
            .get, "/v1/members/{id}/notification-preferences", "A member's notification locale and channels per category", access: .ownOrStaff(.readMembers),
            answer: NotificationPreferences.self
        ) { _, context in
            let member = try context.subject(named: try context.pathUUID("Member").lowercased)
            guard let preferences = try await context.session.run({ try await NotificationStore(db: $0, secrets: secrets).preferences(member: member) }) else {
                throw Problem.notFound("Member \(member)")
            }
            return try Response.json(preferences)
        }
        routes.route(
            .put, "/v1/members/{id}/notification-preferences",
            "Set the locale and the channels of some categories (a critical confirmation still goes out, by SMS without a device)",
            access: .ownOrStaff(.createMember), body: PreferencesBody.self, answer: NotificationPreferences.self
        ) { request, context in
            let member = try context.subject(named: try context.pathUUID("Member").lowercased)
            let body = try await request.decodeStrict(PreferencesBody.self)
            var errors: [FieldError] = []
            if let locale = body.locale, !NotificationsSection.locales.contains(locale) { errors.append(FieldError(field: "locale", message: "must be en-CA or fr-CA")) }
            var categories: [NotificationCategory: ChannelChoice] = [:]
            for (name, choice) in body.categories ?? [:] {
                guard let category = NotificationCategory(rawValue: name) else {
                    errors.append(FieldError(field: "categories.\(name.prefix(40))", message: "must be one of \(NotificationCategory.allCases.map(\.rawValue).joined(separator: ", "))"))
                    continue
                }
                categories[category] = choice
            }
            guard errors.isEmpty else { throw Problem.validation(errors) }
            guard let preferences = try await context.session.run({
                try await NotificationStore(db: $0, secrets: secrets).setPreferences(member: member, locale: body.locale, categories: categories)
            }) else { throw Problem.notFound("Member \(member)") }
            return try Response.json(preferences)
        }
        routes.route(
            .get, "/v1/notifications", "Messages sent or recorded, newest first: a member's own; staff all (or ?member_id=)", access: .ownOrStaff(.readMembers),
            answer: Page<NotificationRecord>.self
        ) { request, context in
            let page = try PageRequest(query: request.queryDictionary)
            var member = context.memberID
            if member == nil, let raw = request.queryDictionary["member_id"] {
                guard let id = MemberID(raw) else { throw Problem.validation(field: "member_id", "must be a UUID") }
                member = id
            }
            return try Response.json(try await context.session.run { try await NotificationStore(db: $0, secrets: secrets).list(page, member: member) })
        }
    }
}
