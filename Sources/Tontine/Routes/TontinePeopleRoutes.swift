import Foundation
import Hummingbird
import NzilaCore
import NzilaDatabase

/// Swaps of turns, disputes, dissolution and a member's tontine record.
struct TontinePeopleRoutes: Sendable {
    struct SwapBody: StrictBody {
        static let fields: Set<String> = ["with_member_id"]
        let withMemberId: String?
    }

    struct DisputeBody: StrictBody {
        static let fields: Set<String> = ["cycle", "reason"]
        let cycle: Int?
        let reason: String?
    }

    struct ResolveBody: StrictBody {
        static let fields: Set<String> = ["outcome", "action", "reason"]
        let outcome: String?
        let action: String?
        let reason: String?
    }

    struct ReasonBody: StrictBody {
        static let fields: Set<String> = ["reason"]
        let reason: String?
    }

    /// A required reason of 1 to 2,000 characters.
    static func reason(_ text: String?, field: String = "reason") throws -> String {
        let trimmed = text?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        guard (1...2000).contains(trimmed.unicodeScalars.count) else { throw Problem.validation(field: field, "must be 1 to 2,000 characters") }
        return trimmed
    }

    func mount(on routes: TenantRoutes) {
        routes.route(.post, "/v1/tontines/{id}/swaps", "Ask another member to swap turns (both unpaid)", access: .ownOrStaff(.manageTontines), body: SwapBody.self, answer: TontineRecord.self, use: { request, context in
            let id = TontineID(try context.pathUUID("Tontine"))
            let body = try await request.decodeStrict(SwapBody.self)
            guard let member = context.memberID else {
                throw RuleError(.unprocessable, "members-swap", "Members swap", detail: "A swap is asked for by a member of the circle.")
            }
            guard let other = body.withMemberId.flatMap(MemberID.init) else { throw Problem.validation(field: "with_member_id", "must be a member's UUID") }
            let record = try await context.session.run { db in
                _ = try await CirclePeople.requestSwap(db, circle: id, requester: member, with: other)
                return try await TontineView(db: db).record(id, viewer: member)
            }
            return try Response.json(record, status: .created, headers: [.location: "/v1/tontines/\(id)"])
        })
        for (verb, accept) in [("accept", true), ("decline", false)] {
            routes.route(.post, "/v1/tontines/{id}/swaps/{swap_id}/\(verb)", accept ? "Accept a swap asked of you: the turns exchange" : "Decline a swap (or withdraw your own)", access: .ownOrStaff(.manageTontines), answer: TontineRecord.self, use: { _, context in
                let id = TontineID(try context.pathUUID("Tontine"))
                let swap = TontineSwapID(try context.pathUUID("Swap", "swap_id"))
                guard let member = context.memberID else {
                    throw RuleError(.unprocessable, "members-swap", "Members swap", detail: "Only the members of a swap answer it.")
                }
                return try Response.json(try await context.session.run { db in
                    try await CirclePeople.decide(db, circle: id, swap: swap, by: member, accept: accept)
                    return try await TontineView(db: db).record(id, viewer: member)
                })
            })
        }
        routes.route(.post, "/v1/tontines/{id}/disputes", "Dispute a cycle's money (staff resolve it)", access: .ownOrStaff(.manageTontines), body: DisputeBody.self, answer: TontineRecord.DisputeView.self, use: { request, context in
            let id = TontineID(try context.pathUUID("Tontine"))
            let body = try await request.decodeStrict(DisputeBody.self)
            guard let member = context.memberID else {
                throw RuleError(.unprocessable, "members-dispute", "Members dispute", detail: "A dispute is opened by a member of the circle.")
            }
            var errors: [FieldError] = []
            if !(1...50).contains(body.cycle ?? 0) { errors.append(FieldError(field: "cycle", message: "must be a cycle number, 1 to 50")) }
            let text = body.reason?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            if !(1...2000).contains(text.unicodeScalars.count) { errors.append(FieldError(field: "reason", message: "must be 1 to 2,000 characters")) }
            guard errors.isEmpty, let cycle = body.cycle else { throw Problem.validation(errors) }
            let dispute = try await context.session.run { try await CirclePeople.openDispute($0, circle: id, member: member, cycle: cycle, reason: text) }
            return try Response.json(TontineView.view(dispute), status: .created, headers: [.location: "/v1/tontines/\(id)"])
        })
        routes.route(.post, "/v1/tontines/{id}/disputes/{dispute_id}/resolve", "Resolve a dispute: upheld (refund the contribution or waive the late fee) or rejected, with a reason", access: .staff(.manageTontines), idempotent: true, body: ResolveBody.self, answer: TontineRecord.self, use: { request, context in
            let id = TontineID(try context.pathUUID("Tontine"))
            let dispute = TontineDisputeID(try context.pathUUID("Dispute", "dispute_id"))
            let raw = try await request.jsonBody()
            let body = try decodeStrictJSON(ResolveBody.self, from: raw)
            var errors: [FieldError] = []
            let outcome = body.outcome.flatMap(DisputeStatus.init(rawValue:)).flatMap { $0 == .open ? nil : $0 }
            if outcome == nil { errors.append(FieldError(field: "outcome", message: "must be upheld or rejected")) }
            let action = body.action.flatMap(DisputeAction.init(rawValue:))
            if body.action != nil, action == nil { errors.append(FieldError(field: "action", message: "must be refund_contribution or waive_late_fee")) }
            if action != nil, outcome == .rejected { errors.append(FieldError(field: "action", message: "is taken only when the dispute is upheld")) }
            let text = body.reason?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            if !(1...2000).contains(text.unicodeScalars.count) { errors.append(FieldError(field: "reason", message: "must be 1 to 2,000 characters")) }
            guard errors.isEmpty, let outcome else { throw Problem.validation(errors) }
            return try await context.idempotentWrite(request, route: "/v1/tontines/\(id)/disputes/\(dispute)/resolve", raw: raw, status: .ok) { db in
                try await CirclePeople.resolve(db, circle: id, dispute: dispute, outcome: outcome, action: action, reason: text, by: TontineActor(context.principal))
                return (try await TontineView(db: db).record(id, viewer: nil), "/v1/tontines/\(id)")
            }
        })
        routes.route(.post, "/v1/tontines/{id}/cycles/{cycle}/advance", "Resolve a short cycle: the guarantee advances what is missing (owed as arrears) and the recipient is paid", access: .staff(.manageTontines), idempotent: true, body: ReasonBody.self, answer: TontineRecord.self, use: { request, context in
            let id = TontineID(try context.pathUUID("Tontine"))
            guard let number = context.parameters.get("cycle").flatMap(Int.init), (1...50).contains(number) else {
                throw Problem.notFound("Cycle \(context.parameters.get("cycle") ?? "")")
            }
            let raw = try await request.jsonBody()
            let reason = try Self.reason(try decodeStrictJSON(ReasonBody.self, from: raw).reason)
            return try await context.idempotentWrite(request, route: "/v1/tontines/\(id)/cycles/\(number)/advance", raw: raw, status: .ok) { db in
                try await CirclePeople.advanceShort(db, circle: id, cycle: number, reason: reason)
                return (try await TontineView(db: db).record(id, viewer: nil), "/v1/tontines/\(id)")
            }
        })
        routes.route(.post, "/v1/tontines/{id}/dissolve", "Dissolve a circle: settle every member's net position so the pool ends at 0", access: .staff(.manageTontines), idempotent: true, body: ReasonBody.self, answer: TontineRecord.self, use: { request, context in
            let id = TontineID(try context.pathUUID("Tontine"))
            let raw = try await request.jsonBody()
            let reason = try Self.reason(try decodeStrictJSON(ReasonBody.self, from: raw).reason)
            return try await context.idempotentWrite(request, route: "/v1/tontines/\(id)/dissolve", raw: raw, status: .ok) { db in
                try await CirclePeople.dissolve(db, circle: id, reason: reason, by: TontineActor(context.principal))
                return (try await TontineView(db: db).record(id, viewer: nil), "/v1/tontines/\(id)")
            }
        })
        routes.route(.get, "/v1/members/{id}/tontine-record", "A member's tontine record: cycles due, paid on time, late, missed", access: .ownOrStaff(.readMembers), answer: TontineCreditRecord.self, use: { _, context in
            let member = MemberID(try context.pathUUID("Member"))
            guard context.memberID == nil || context.memberID == member else { throw Problem.notFound("Member \(member)") }
            let today = CycleClock.day(at: Int64(context.now.timeIntervalSince1970.rounded(.down)))!
            let record = try await context.session.run { db -> TontineCreditRecord in
                guard try await TontineStore(db).memberExists(member) else { throw Problem.notFound("Member \(member)") }
                let r = try await TontinePeopleStore(db: db).record(member, today: today)
                return TontineCreditRecord(
                    memberId: member, cyclesDue: r.due, paidOnTime: r.onTime, paidLate: r.late, missed: r.missed,
                    onTimeBps: TontineCredit.ratioBps(onTime: r.onTime, due: r.due), circles: r.circles, completedCircles: r.completed,
                    delinquentCircles: r.delinquent)
            }
            return try Response.json(record)
        })
    }
}
