import Foundation
import Hummingbird
import NzilaCore
import NzilaDatabase

/// The compliance officers' queue and FINTRAC reports: `/v1/compliance/cases`, `/v1/compliance/reports`.
/// Each change is a case event in the same transaction, and (a staff write) an audit entry.
public struct CaseRoutes: Sendable {
    /// What else a final decision does, in its transaction (the data plane resumes or refunds the
    /// remittance a case holds).
    public typealias DecisionHook = @Sendable (TenantDB, CaseRecord, CaseStatus, Principal, Date) async throws -> Void
    let onDecision: DecisionHook

    public init(onDecision: @escaping DecisionHook = { _, _, _, _, _ in }) {
        self.onDecision = onDecision
    }

    struct AssignBody: StrictBody {
        static let fields: Set<String> = ["assignee_id"]
        let assigneeId: String?
    }

    struct CommentBody: StrictBody {
        static let fields: Set<String> = ["comment"]
        let comment: String
    }

    struct DecisionBody: StrictBody {
        static let fields: Set<String> = ["decision", "reason"]
        let decision: String
        let reason: String
    }

    struct ReportBody: StrictBody {
        static let fields: Set<String> = ["grounds"]
        let grounds: String
    }

    public func mount(on routes: TenantRoutes) {
        routes.route(.get, "/v1/compliance/cases", "The case queue, oldest first (?status=open,escalated by default)", access: .staff(.readCompliance), answer: Page<CaseRecord>.self, use: { request, context in
            let query = request.queryDictionary
            var statuses: [CaseStatus] = [.open, .escalated]
            if let raw = query["status"] {
                let parsed = raw.split(separator: ",").map { CaseStatus(rawValue: String($0)) }
                guard !parsed.isEmpty, parsed.allSatisfy({ $0 != nil }) else {
                    throw Problem.validation(field: "status", "must list open, escalated, released or rejected, comma-separated")
                }
                statuses = parsed.compactMap { $0 }
            }
            let page = try PageRequest(query: query)
            return try Response.json(try await context.session.run { try await CaseStore($0).list(statuses: statuses, page: page) })
        })
        routes.route(.get, "/v1/compliance/cases/{id}", "A case with every step taken on it", access: .staff(.readCompliance), answer: CaseRecord.self, use: { request, context in
            let id = try context.pathUUID("Case")
            guard let record = try await context.session.run({ try await CaseStore($0).find(id) }) else { throw Problem.notFound("Case \(id.lowercased)") }
            return try Response.json(record)
        })
        routes.route(.post, "/v1/compliance/cases/{id}/assign", "Assign a case (to the caller unless assignee_id names another officer)", access: .staff(.manageCases), body: AssignBody.self, answer: CaseRecord.self, use: { request, context in
            let id = try context.pathUUID("Case")
            let body = try await request.decodeStrict(AssignBody.self)
            let assignee: UUID
            if let raw = body.assigneeId {
                guard let parsed = UUID(uuidString: raw) else { throw Problem.validation(field: "assignee_id", "must be a UUID") }
                assignee = parsed
            } else {
                assignee = context.principal.id
            }
            return try Response.json(try await Self.change(id, context) { store, found in
                if case .failure(let refusal) = CaseRules.assign(status: found.status) { throw refusal }
                try await store.assign(id, to: assignee, by: context.principal)
            })
        })
        routes.route(.post, "/v1/compliance/cases/{id}/comments", "Comment on a case", access: .staff(.manageCases), body: CommentBody.self, answer: CaseRecord.self, use: { request, context in
            let id = try context.pathUUID("Case")
            let body = try await request.decodeStrict(CommentBody.self)
            let comment = body.comment.trimmingCharacters(in: .whitespacesAndNewlines)
            guard (1...4000).contains(comment.count) else { throw Problem.validation(field: "comment", "must be 1 to 4000 characters") }
            let record = try await Self.change(id, context) { store, _ in try await store.event(id, action: "commented", note: comment, by: context.principal) }
            return try Response.json(record, status: .created)
        })
        routes.route(.post, "/v1/compliance/cases/{id}/decision", "Release, reject or escalate a case", access: .staff(.manageCases), body: DecisionBody.self, answer: CaseRecord.self, use: { request, context in
            let id = try context.pathUUID("Case")
            let body = try await request.decodeStrict(DecisionBody.self)
            var errors: [FieldError] = []
            let decision = CaseDecision(rawValue: body.decision)
            if decision == nil { errors.append(FieldError(field: "decision", message: "must be release, reject or escalate")) }
            let reason = body.reason.trimmingCharacters(in: .whitespacesAndNewlines)
            if !(1...4000).contains(reason.count) { errors.append(FieldError(field: "reason", message: "must be 1 to 4000 characters")) }
            guard errors.isEmpty, let decision else { throw Problem.validation(errors) }
            return try Response.json(try await Self.change(id, context) { store, found in
                switch CaseRules.decide(decision, status: found.status, role: context.principal.role) {
                case .failure(let refusal): throw refusal
                case .success(let next):
                    try await store.decide(id, status: next, reason: reason, by: context.principal)
                    try await onDecision(store.db, found, next, context.principal, context.now)
                    // A cleared (or confirmed) screening changes the member's risk factors.
                    if let member = found.memberID { try await CustomerRiskStore(store.db).refresh(member: member.rawValue, because: "case \(id.lowercased) \(next.rawValue)") }
                }
            })
        })
        routes.route(.post, "/v1/compliance/cases/{id}/str", "Draft a Suspicious Transaction Report from a rejected (confirmed) case", access: .staff(.manageCases), body: ReportBody.self, answer: ReportRecord.self, use: { request, context in
            let id = try context.pathUUID("Case")
            let body = try await request.decodeStrict(ReportBody.self)
            let grounds = body.grounds.trimmingCharacters(in: .whitespacesAndNewlines)
            guard (20...10_000).contains(grounds.count) else {
                throw Problem.validation(field: "grounds", "must explain the grounds for suspicion in 20 to 10000 characters")
            }
            let report = try await context.session.run { db -> ReportRecord in
                guard let found = try await CaseStore(db).find(id, lock: true) else { throw Problem.notFound("Case \(id.lowercased)") }
                guard found.status == .rejected else {
                    throw Problem(.conflict, "case-not-confirmed", "Case not confirmed",
                                  detail: "A Suspicious Transaction Report is drafted from a case an officer rejected (confirmed); this one is \(found.status.rawValue).")
                }
                return try await ReportDrafts(db).suspiciousTransaction(case: found, grounds: grounds, by: context.principal, now: context.now)
            }
            return try Response.json(report, status: .created, headers: [.location: "/v1/compliance/reports/\(report.id)"])
        })
        routes.route(.get, "/v1/compliance/reports", "FINTRAC reports, newest first", access: .staff(.readCompliance), answer: Page<ReportRecord>.self, use: { request, context in
            let page = try PageRequest(query: request.queryDictionary)
            return try Response.json(try await context.session.run { try await ReportDrafts($0).list(page) })
        })
        routes.route(.get, "/v1/compliance/reports/{id}", "One FINTRAC report as JSON, with its filing deadline", access: .staff(.readCompliance), answer: ReportRecord.self, use: { request, context in
            let id = try context.pathUUID("Report")
            guard let report = try await context.session.run({ try await ReportDrafts($0).find(id) }) else { throw Problem.notFound("Report \(id.lowercased)") }
            return try Response.json(report)
        })
    }

    /// Locks the case, applies `body`, and returns the case as it now is.
    static func change(_ id: UUID, _ context: TenantRequestContext, _ body: @escaping @Sendable (CaseStore, CaseRecord) async throws -> Void) async throws -> CaseRecord {
        try await context.session.run { db in
            let store = CaseStore(db)
            guard let found = try await store.find(id, lock: true, events: false) else { throw Problem.notFound("Case \(id.lowercased)") }
            try await body(store, found)
            guard let updated = try await store.find(id) else { throw Problem.internalError }
            return updated
        }
    }
}
