import Ledger
import Compliance
import Foundation
import Hummingbird
import NzilaCore
import NzilaDatabase

/// `/v1/remittances` on the data plane: place an order from a quote, read orders with their status
/// log, cancel; and `GET /v1/members/{id}/limits`.
public struct RemittanceRoutes: Sendable {
    let screening: ScreeningIndexCache
    let keys: TenantDataKeys
    /// Tells the worker a tenant has an order to move (it also sweeps on its own).
    let kick: @Sendable (TenantRef) -> Void

    public init(screening: ScreeningIndexCache, keys: TenantDataKeys, kick: @escaping @Sendable (TenantRef) -> Void) {
        self.screening = screening
        self.keys = keys
        self.kick = kick
    }

    struct PlaceBody: StrictBody {
        static let fields: Set<String> = ["quote_id", "recipient", "funding", "account_id", "device_id"]
        static let recipientFields: Set<String> = [
            "name", "country", "msisdn", "mobile_operator", "bank_code", "account_number", "id_type", "id_number",
        ]
        struct RecipientBody: Decodable {
            let name: String?
            let country: String?
            let msisdn: String?
            let mobileOperator: String?
            let bankCode: String?
            let accountNumber: String?
            let idType: String?
            let idNumber: String?
        }
        let quoteId: String
        let recipient: RecipientBody
        let funding: String?
        let accountId: String?
        let deviceId: String?
    }

    struct CancelBody: StrictBody {
        static let fields: Set<String> = ["reason"]
        let reason: String?
    }

    public func mount(on routes: TenantRoutes) {
        routes.route(.post, "/v1/remittances", "Send a remittance from a live quote (KYC limits and screening first; funded from an account or by webhook)", access: .ownOrStaff(.sendRemittances), idempotent: true, body: PlaceBody.self, answer: RemittanceOrder.self, use: { request, context in
            let raw = try await request.jsonBody()
            let placement = try Self.placement(raw, context: context)
            let index = try await screening.index(context.session.unaudited)
            guard !index.listVersions.isEmpty else {
                throw Problem(.serviceUnavailable, "screening-lists-missing", "Screening lists missing",
                              detail: "No sanctions list is loaded, so no remittance can be screened; an operator must load one.")
            }
            let response: Response
            do {
                response = try await context.idempotentWrite(request, route: "/v1/remittances", raw: raw) { db in
                    let order = try await placement.place(db, index: index, keys: keys, now: context.now)
                    return (order, "/v1/remittances/\(order.id)")
                }
            } catch let refused as OrderPlacement.Refused {
                try await Self.recordBlocked(refused, context: context)
                throw refused
            }
            kick(context.tenant)
            return response
        })
        routes.route(.get, "/v1/remittances", "Remittances, newest first: a member's own; staff all, or ?member_id=", access: .ownOrStaff(.readRemittances), answer: Page<RemittanceOrder>.self, use: { request, context in
            let query = request.queryDictionary
            var member = context.memberID?.rawValue
            if member == nil, let raw = query["member_id"] {
                guard let id = UUID(uuidString: raw) else { throw Problem.validation(field: "member_id", "must be a UUID") }
                member = id
            }
            let page = try PageRequest(query: query)
            return try Response.json(try await context.session.run { try await RemittanceStore($0).list(member: member, page: page) })
        })
        routes.route(.get, "/v1/remittances/{id}", "A remittance with its status log", access: .ownOrStaff(.readRemittances), answer: RemittanceOrder.self, use: { request, context in
            let id = try context.pathUUID("Remittance")
            guard let found = try await context.session.run({ try await RemittanceStore($0).find(id, member: context.memberID?.rawValue, log: true) }) else {
                throw Self.notFound(id)
            }
            return try Response.json(found.order)
        })
        routes.route(.post, "/v1/remittances/{id}/cancel", "Cancel a remittance before its money moves, or while held (refunded)", access: .ownOrStaff(.sendRemittances), idempotent: true, body: CancelBody.self, answer: RemittanceOrder.self, use: { request, context in
            let id = try context.pathUUID("Remittance")
            let raw = request.headers[.contentType] == nil ? Data("{}".utf8) : try await request.jsonBody()
            let body = try decodeStrictJSON(CancelBody.self, from: raw)
            let reason = (body.reason?.trimmingCharacters(in: .whitespacesAndNewlines)).flatMap { $0.isEmpty ? nil : $0 } ?? "cancelled by the \(context.principal.role.rawValue)"
            guard reason.count <= 500 else { throw Problem.validation(field: "reason", "must be at most 500 characters") }
            return try await context.idempotentWrite(request, route: "/v1/remittances/\(id.lowercased)/cancel", raw: raw, status: .ok) { db in
                let store = RemittanceStore(db)
                guard let found = try await store.find(id, member: context.memberID?.rawValue, lock: true) else { throw Self.notFound(id) }
                try await OrderReview.cancel(db, found.order, by: context.principal, reason: reason)
                guard let after = try await store.find(id, log: true) else { throw Problem.internalError }
                return (after.order, "/v1/remittances/\(id.lowercased)")
            }
        })
        routes.route(.get, "/v1/members/{id}/limits", "A member's KYC send limits: used and remaining over 30 days and 24 hours", access: .ownOrStaff(.readMembers), answer: LimitsView.self, use: { request, context in
            let id = try context.pathUUID("Member")
            guard context.memberID == nil || context.memberID?.rawValue == id else { throw Problem.notFound("Member \(id.lowercased)") }
            guard let profile = try await context.session.run({ try await SenderProfile.load($0, member: id, now: context.now, lock: false) }) else {
                throw Problem.notFound("Member \(id.lowercased)")
            }
            return try Response.json(LimitsView(memberId: id.lowercased, currency: "CAD", usage: profile.usage(at: context.now)))
        })
        routes.route(.get, "/v1/members/{id}/devices", "The devices a member has sent from, newest first: when each was first seen, by which order, for how much (fraud review)", access: .staff(.readCompliance), answer: [DeviceView].self, use: { _, context in
            let id = try context.pathUUID("Member")
            let devices = try await context.session.run { db -> [DeviceView]? in
                guard try await db.query("SELECT 1 FROM members WHERE id = \(id)").first(Int.self) != nil else { return nil }
                return try await db.query(
                    """
                    SELECT device_id, first_seen_at, first_remittance_id, first_amount_minor FROM member_devices
                    WHERE member_id = \(id) ORDER BY first_seen_at DESC, device_id
                    """
                ).all((String, Date, UUID?, Int64?).self).map {
                    DeviceView(deviceId: $0.0, firstSeenAt: $0.1, firstRemittanceId: $0.2?.lowercased, firstAmount: $0.3.map { Money(minorUnits: $0, currency: .cad) })
                }
            }
            guard let devices else { throw Problem.notFound("Member \(id.lowercased)") }
            return try Response.json(devices)
        })
    }

    /// A device of the member's change history (0040): the order that first came from it, when none is older than 0040.
    struct DeviceView: Codable, Sendable {
        let deviceId: String
        let firstSeenAt: Date
        let firstRemittanceId: String?
        let firstAmount: Money?
    }

    struct LimitsView: Encodable {
        let memberId: String
        let currency: String
        let usage: KYCLimitUsage

        enum CodingKeys: String, CodingKey { case memberId, currency, tier, thirtyDays, twentyFourHours }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(memberId, forKey: .memberId)
            try container.encode(currency, forKey: .currency)
            try container.encode(usage.tier, forKey: .tier)
            try container.encode(usage.thirtyDays, forKey: .thirtyDays)
            try container.encode(usage.twentyFourHours, forKey: .twentyFourHours)
        }
    }

    static func notFound(_ id: UUID) -> Problem {
        Problem(.notFound, "remittance-not-found", "Remittance not found", detail: "Remittance \(id.lowercased) was not found.")
    }

    /// The body checked field by field (the recipient's fields too), every error at once.
    static func placement(_ raw: Data, context: TenantRequestContext) throws -> OrderPlacement {
        let body = try decodeStrictJSON(PlaceBody.self, from: raw)
        var errors: [FieldError] = []
        if let object = try? JSONSerialization.jsonObject(with: raw) as? [String: Any], let recipient = object["recipient"] as? [String: Any] {
            errors += recipient.keys.filter { !PlaceBody.recipientFields.contains($0) }.sorted().map { FieldError(field: "recipient.\($0)", message: "unknown field") }
        }
        let quote = UUID(uuidString: body.quoteId)
        if quote == nil { errors.append(FieldError(field: "quote_id", message: "must be a UUID")) }
        var funding: OrderPlacement.Funding?
        switch body.funding ?? "account" {
        case "account":
            if let account = body.accountId.flatMap(UUID.init(uuidString:)) { funding = .account(AccountID(account)) } else {
                errors.append(FieldError(field: "account_id", message: "must be the UUID of the member's CAD account the money comes from"))
            }
        case "webhook": funding = .webhook
        case "interac", "card": funding = .provider(body.funding!)
        default: errors.append(FieldError(field: "funding", message: "must be account, webhook, interac or card"))
        }
        if let device = body.deviceId, !(1...200).contains(device.count) { errors.append(FieldError(field: "device_id", message: "must be 1 to 200 characters")) }
        guard errors.isEmpty, let quote, let funding else { throw Problem.validation(errors) }
        var fields = OrderPlacement.RecipientFields()
        let r = body.recipient
        (fields.name, fields.country, fields.msisdn, fields.mobileOperator) = (r.name, r.country, r.msisdn, r.mobileOperator)
        (fields.bankCode, fields.accountNumber, fields.idType, fields.idNumber) = (r.bankCode, r.accountNumber, r.idType, r.idNumber)
        return OrderPlacement(
            quoteID: quote, recipient: fields, funding: funding, deviceID: body.deviceId, principal: context.principal, callerMember: context.memberID?.rawValue)
    }

    /// A refusal rolled everything back; a blocked name is still recorded and queued for the officers
    /// (in its own transaction), so the attempt is never invisible.
    static func recordBlocked(_ refused: OrderPlacement.Refused, context: TenantRequestContext) async throws {
        guard !refused.blocked.isEmpty, let member = refused.memberID else { return }
        try await context.session.unaudited.run { db in
            for (purpose, name, result) in refused.blocked {
                let record = try await ScreeningStore(db).record(
                    id: UUID(), purpose: purpose, memberID: purpose == "remittance-sender" ? member : nil, query: ScreeningQuery(name: name), result: result,
                    by: context.principal)
                try await CaseStore(db).open(
                    kind: "screening", memberID: member, screeningID: record.id.rawValue,
                    summary: "Remittance refused: \(purpose == "remittance-sender" ? "sender" : "recipient") \(name) blocked by screening", by: context.principal)
            }
        }
    }
}

extension RemittanceRoutes.LimitsView: Decodable {
    /// The keys `encode(to:)` writes: the usage's own (tier and both windows) sit beside the member
    /// and currency, so they are read by the usage's decoding from the same object.
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        memberId = try container.decode(String.self, forKey: .memberId)
        currency = try container.decode(String.self, forKey: .currency)
        usage = try KYCLimitUsage(from: decoder)
    }
}
