import Foundation
import HTTPTypes
import NzilaCore
import NzilaDatabase
import PostgresNIO
import Testing

@Suite("Compliance cases and FINTRAC reports")
struct CaseTests {
    @Test("a member who does not clear opens a case; officers assign, comment, escalate; the senior rejects; an STR is drafted and exported")
    func lifecycle() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "case")
            let admin = try await planes.adminToken()
            var tokens: [Role: String] = [:]
            for role in [Role.complianceOfficer, .teller] {
                let email = "\(role.rawValue)@\(f.slug).test"
                let created = try await planes.control(
                    .post, "/v1/tenants/\(f.slug)/staff", token: admin, json: ["email": email, "password": "staff password 123", "role": role.rawValue])
                try #require(created.status == .created)
                tokens[role] = try await planes.login(planes.cp, email: email, password: "staff password 123")
            }
            let officer = try #require(tokens[.complianceOfficer]), teller = try #require(tokens[.teller])
            func data(_ method: HTTPRequest.Method, _ path: String, _ token: String, _ json: [String: Any]? = nil) async throws -> Planes.Reply {
                try await planes.data(method, path, token: token, tenant: f.slug, json: json)
            }
            let member = f.members[0]
            let deposit = try await planes.data(
                .post, "/v1/deposits", token: f.staffToken, tenant: f.slug, json: ["account_id": member.accountID, "amount": 950_000, "currency": "CAD"],
                headers: [.idempotencyKey: UUID().uuidString])
            #expect(deposit.status == .created)

            // Screening a member who matches a list entry opens a case; a clear one does not.
            let screening = try await data(.post, "/v1/compliance/screenings", officer, ["name": "Ayman al-Zawahiri", "member_id": member.id])
            #expect(screening.status == .created, "\(screening.text)")
            _ = try await data(.post, "/v1/compliance/screenings", officer, ["name": "Jane Tremblay", "member_id": f.members[1].id])
            let queue = try await data(.get, "/v1/compliance/cases", officer)
            let cases = try #require(queue.json["data"] as? [[String: Any]])
            #expect(cases.count == 1 && cases[0]["member_id"] as? String == member.id && cases[0]["kind"] as? String == "screening")
            #expect(cases[0]["screening_id"] as? String == screening.json["id"] as? String)
            #expect((cases[0]["summary"] as? String)?.contains("ofac-sdn 6365") == true)
            let id = try #require(cases[0]["id"] as? String)
            #expect(try await data(.get, "/v1/compliance/cases", teller).status == .forbidden)

            let assigned = try await data(.post, "/v1/compliance/cases/\(id)/assign", officer, [:])
            #expect(assigned.status == .ok && assigned.json["assigned_to"] as? String != nil)
            let comment = try await data(.post, "/v1/compliance/cases/\(id)/comments", officer, ["comment": "Same date of birth as the listed person."])
            #expect(comment.status == .created)
            let escalated = try await data(.post, "/v1/compliance/cases/\(id)/decision", officer, ["decision": "escalate", "reason": "Needs the senior's call"])
            #expect(escalated.json["status"] as? String == "escalated")
            let notMine = try await data(.post, "/v1/compliance/cases/\(id)/decision", officer, ["decision": "release", "reason": "x"])
            #expect(notMine.status == .forbidden && notMine.problemCode == "case-escalated")
            let early = try await data(.post, "/v1/compliance/cases/\(id)/str", officer, ["grounds": "Matches a listed terrorist leader by name and date of birth."])
            #expect(early.status == .conflict && early.problemCode == "case-not-confirmed")
            let bad = try await data(.post, "/v1/compliance/cases/\(id)/decision", f.staffToken, ["decision": "maybe", "reason": ""])
            #expect(bad.status == .unprocessableContent && bad.text.contains("decision") && bad.text.contains("reason"))
            let rejected = try await data(.post, "/v1/compliance/cases/\(id)/decision", f.staffToken, ["decision": "reject", "reason": "Confirmed match"])
            #expect(rejected.json["status"] as? String == "rejected" && rejected.json["decided_at"] != nil)
            let again = try await data(.post, "/v1/compliance/cases/\(id)/decision", f.staffToken, ["decision": "release", "reason": "Changed my mind"])
            #expect(again.status == .conflict && again.problemCode == "case-decided")
            #expect(try await data(.post, "/v1/compliance/cases/\(id)/assign", officer, [:]).problemCode == "case-decided")
            let steps = ((try await data(.get, "/v1/compliance/cases/\(id)", officer)).json["events"] as? [[String: Any]] ?? []).compactMap { $0["action"] as? String }
            #expect(steps == ["opened", "assigned", "commented", "escalated", "rejected"])
            #expect((try await data(.get, "/v1/compliance/cases?status=rejected", officer).json["data"] as? [Any])?.count == 1)

            // The STR: drafted once from the confirmed case, exported as JSON with its deadline.
            let grounds = "Member matches OFAC SDN entry 6365 by name; officer confirmed after review."
            let str = try await data(.post, "/v1/compliance/cases/\(id)/str", officer, ["grounds": grounds])
            #expect(str.status == .created, "\(str.text)")
            let report = try #require(str.json["report"] as? [String: Any])
            #expect(report["report_type"] as? String == "STR" && (report["reporting_entity"] as? [String: Any])?["name"] as? String == "Fixture \(f.slug)")
            #expect((report["details_of_suspicion"] as? [String: Any])?["grounds_for_suspicion"] as? String == grounds)
            let screened = (report["details_of_suspicion"] as? [String: Any])?["screening"] as? [String: Any]
            #expect(((screened?["candidates"] as? [[String: Any]])?.first)?["sourceID"] as? String == "6365")
            #expect((report["subjects"] as? [[String: Any]])?.first?["member_id"] as? String == member.id)
            #expect((report["transactions"] as? [[String: Any]])?.first?["amount_minor"] as? Int == 950_000)
            #expect((report["action_taken"] as? String)?.contains("rejected") == true)
            #expect((report["submission"] as? [String: Any])?["deadline"] as? String == "as soon as practicable" && str.json["due_at"] != nil)
            let reportID = try #require(str.json["id"] as? String)
            #expect(try await data(.post, "/v1/compliance/cases/\(id)/str", officer, ["grounds": grounds]).problemCode == "report-exists")
            let exported = try await data(.get, "/v1/compliance/reports/\(reportID)", officer)
            #expect(exported.status == .ok && exported.json["kind"] as? String == "str" && exported.json["case_id"] as? String == id)
            let listed = try await data(.get, "/v1/compliance/reports", officer)
            #expect((listed.json["data"] as? [[String: Any]])?.map { $0["id"] as? String } == [reportID])
            let audited = try await harness.owner.statement(
                """
                SELECT count(*)::int FROM control.audit_log WHERE tenant_id = \(UUID(uuidString: f.tenantID)!) AND action LIKE 'POST /v1/compliance/cases/%'
                """, logger: harness.logger
            ) { try await $0.first(Int.self) }
            // Assign, comment, escalate, reject and the STR; refused attempts wrote nothing, audit included.
            #expect(audited == 5, "\(audited ?? -1)")
        }
    }
}
