import Foundation
import Hummingbird
import NzilaCore
import NzilaDatabase
import NzilaValues

struct ProfileBody: StrictBody {
    static let fields: Set<String> = ["display_name", "public", "copyable", "member_id"]
    /// 2 to 40 characters, unique in the credit union (case and outer spaces aside).
    let displayName: String?
    /// Shown on the leaderboards (default false).
    let `public`: Bool?
    /// Others may copy this member's trades (needs public; default false).
    let copyable: Bool?
    let memberId: String?
}

/// Opt-in profiles and the tenant's leaderboards (`Leaderboard`, `LeaderboardStore`).
struct LeaderboardRoutes {
    func mount(on routes: TenantRoutes) {
        routes.route(
            .put, "/v1/trading/profile", "Set the member's trading profile: display name, on the leaderboards or not, copyable or not",
            access: .ownOrStaff(.manageTrading), body: ProfileBody.self, answer: TradingProfile.self
        ) { request, context in
            let body = try await request.decodeStrict(ProfileBody.self)
            let member = try context.subject(named: body.memberId)
            var errors: [FieldError] = []
            let name = (body.displayName ?? "").trimmingCharacters(in: .whitespaces)
            if !(2...40).contains(name.unicodeScalars.count) || name.contains(where: { $0.isNewline || $0.isASCII && !$0.isPrintable }) {
                errors.append(FieldError(field: "display_name", message: "must be 2 to 40 characters on one line"))
            }
            let isPublic = body.public ?? false
            let copyable = body.copyable ?? false
            if copyable && !isPublic { errors.append(FieldError(field: "copyable", message: "needs a public profile: others must see whom they copy")) }
            guard errors.isEmpty else { throw Problem.validation(errors) }
            let profile = try await context.session.run { db -> TradingProfile in
                if try await WatchStore(db).unlistedMember(member) { throw Problem.validation(field: "member_id", "names no active member") }
                switch try await LeaderboardStore(db).setProfile(member: member, displayName: name, public: isPublic, copyable: copyable) {
                case .success(let profile):
                    // No longer copyable: the copies stop mirroring now, and each follower is told.
                    if !copyable {
                        let store = CopyStore(db)
                        for copy in try await store.orphaned(leader: member) {
                            _ = try await store.transition(copy, to: .leaderLeft, reason: nil, closePositions: false, detail: "the leader is no longer copyable")
                        }
                    }
                    return profile
                case .failure(.nameTaken):
                    throw RuleError(.conflict, "display-name-taken", "Display name taken", detail: "Another member of the credit union uses \(name).")
                }
            }
            return try Response.json(profile)
        }
        routes.route(
            .get, "/v1/trading/profile", "The member's trading profile (staff: ?member_id=)", access: .ownOrStaff(.readTrading), answer: TradingProfile.self
        ) { request, context in
            let member = try context.subject(named: request.queryDictionary["member_id"])
            guard let profile = try await context.session.run({ try await LeaderboardStore($0).profile(member: member) }) else {
                throw Problem.notFound("Trading profile")
            }
            return try Response.json(profile)
        }
        routes.route(
            .get, "/v1/trading/leaderboard", "The credit union's leaderboard (?period=1w|1m|3m|ytd|all): members who opted in, by period return, with risk",
            access: .ownOrStaff(.readTrading), answer: Page<LeaderboardEntry>.self
        ) { request, context in
            let query = request.queryDictionary
            let page = try PageRequest(query: query)
            guard let period = Leaderboard.Period(rawValue: query["period"] ?? "1m") else {
                throw Problem.validation(field: "period", "must be 1w, 1m, 3m, ytd or all")
            }
            let board = try await context.session.run { try await LeaderboardStore($0).leaderboard(period, page: page) }
            return try Response.json(board)
        }
    }
}

extension Character {
    /// Not a control character.
    var isPrintable: Bool { unicodeScalars.allSatisfy { !($0.properties.generalCategory == .control) } }
}
