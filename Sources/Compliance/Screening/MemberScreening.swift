import Foundation
import Logging
import NzilaCore
import NzilaDatabase

/// Screens members against the lists: each new member at onboarding, and every member again when a
/// list changes (`nzila compliance rescreen`, run by `nzila reference load-sanctions`). A decision
/// other than clear is recorded and opens a case in the officers' queue (unless the member already
/// has an undecided screening case).
public struct MemberScreening: Sendable {
    let cache: ScreeningIndexCache
    let logger: Logger

    public init(cache: ScreeningIndexCache, logger: Logger) {
        self.cache = cache
        self.logger = logger
    }

    /// After enrolment. Never fails the enrolment: a failure (no list loaded, database trouble) is
    /// logged, and the next rescreen covers the member.
    public func onboard(memberID: UUID, fullName: String, session: TenantSession, by principal: Principal?) async {
        do {
            let index = try await cache.index(session.unaudited)
            guard !index.listVersions.isEmpty else {
                logger.warning("member not screened at onboarding: no screening list loaded", metadata: ["tenant": "\(session.tenant.slug)"])
                return
            }
            try await session.unaudited.run { db in
                let result = index.screen(ScreeningQuery(name: fullName), thresholds: try await ComplianceSettings.load(db).screening)
                try await Self.record(db, member: memberID, name: fullName, purpose: "onboarding", result: result, by: principal, alwaysRecord: true)
                // The member's first risk rating, with the screening among its factors.
                try await CustomerRiskStore(db).refresh(member: memberID, because: "enrolled and screened")
            }
        } catch {
            logger.error("member not screened at onboarding", metadata: ["tenant": "\(session.tenant.slug)", "error": "\(String(reflecting: error))"])
        }
    }

    public struct Summary: Sendable, Equatable {
        public var screened = 0
        public var flagged = 0
        public var casesOpened = 0
        public init() {}
    }

    /// Every active member of the session's tenant against `index`, in one transaction.
    public func rescreen(session: TenantSession, index: ScreeningIndex) async throws -> Summary {
        try await session.run { db in
            var summary = Summary()
            let thresholds = try await ComplianceSettings.load(db).screening
            for (id, name) in try await db.query("SELECT id, full_name FROM members WHERE status = 'active' ORDER BY id").all((UUID, String).self) {
                summary.screened += 1
                let result = index.screen(ScreeningQuery(name: name), thresholds: thresholds)
                guard result.decision != .clear else { continue }
                summary.flagged += 1
                if try await Self.record(db, member: id, name: name, purpose: "rescreen", result: result, by: nil, alwaysRecord: false) {
                    summary.casesOpened += 1
                }
                try await CustomerRiskStore(db).refresh(member: id, because: "rescreened: \(result.decision.rawValue)")
            }
            return summary
        }
    }

    /// Records the screening (always at onboarding; only when it does not clear on a rescreen) and
    /// opens a case when it does not clear and no undecided screening case is open for the member.
    /// Returns whether a case was opened.
    @discardableResult
    static func record(
        _ db: TenantDB, member: UUID, name: String, purpose: String, result: ScreeningResult, by principal: Principal?, alwaysRecord: Bool
    ) async throws -> Bool {
        guard alwaysRecord || result.decision != .clear else { return false }
        let record = try await ScreeningStore(db).record(
            id: UUID(), purpose: purpose, memberID: member, query: ScreeningQuery(name: name), result: result, by: principal)
        return try await queue(db, member: member, name: name, purpose: purpose, screening: record, result: result, by: principal)
    }

    /// Opens a screening case for a member who did not clear, unless one is still undecided for them
    /// (the officers already have the member in hand). Returns whether a case was opened.
    @discardableResult
    static func queue(
        _ db: TenantDB, member: UUID, name: String, purpose: String, screening: ScreeningRecord, result: ScreeningResult, by principal: Principal?
    ) async throws -> Bool {
        guard result.decision != .clear else { return false }
        let open = try await db.query(
            "SELECT EXISTS (SELECT 1 FROM compliance_cases WHERE member_id = \(member) AND kind = 'screening' AND status IN ('open', 'escalated'))"
        ).first(Bool.self) ?? false
        guard !open else { return false }
        try await CaseStore(db).open(
            kind: "screening", memberID: member, screeningID: screening.id.rawValue, summary: summary(name, result, purpose: purpose), by: principal)
        return true
    }

    static func summary(_ name: String, _ result: ScreeningResult, purpose: String) -> String {
        let top = result.candidates.first.map { " — \($0.matchedName) (\($0.source) \($0.sourceID), score \($0.score))" } ?? ""
        return "Screening \(result.decision.rawValue): \(name)\(top) [\(purpose)]"
    }
}
