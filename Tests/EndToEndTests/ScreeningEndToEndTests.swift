import Compliance
import Foundation
import HTTPTypes
import NzilaCore
import NzilaDatabase
import PostgresNIO
import Testing

@Suite("Screening through the data plane")
struct ScreeningEndToEndTests {
    @Test("staff screen a name: decision, candidates with list, entry, version and reasons, recorded, readable, immutable; others refused")
    func screens() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "scr")
            let hit = try await planes.data(
                .post, "/v1/compliance/screenings", token: f.staffToken, tenant: f.slug,
                json: ["name": "Dr. Aiman AL ZAWAHIRI", "date_of_birth": "1951-06-19", "nationality": "eg"])
            #expect(hit.status == .created, "\(hit.text)")
            let result = try #require(hit.json["result"] as? [String: Any])
            #expect(result["decision"] as? String == "review" || result["decision"] as? String == "block", "\(result)")
            let top = try #require((result["candidates"] as? [[String: Any]])?.first)
            #expect(top["source"] as? String == "ofac-sdn" && top["source_id"] as? String == "6365")
            #expect((top["list_version"] as? String)?.hasPrefix("sha256:") == true)
            #expect((top["reasons"] as? [String])?.contains("date of birth 1951-06-19 matches") == true)
            #expect(result["normalized_name"] as? [String] == ["aiman", "zawahiri"])
            #expect((result["list_versions"] as? [String: String])?.keys.sorted() == ["ca-sema", "eu", "ofac-sdn", "pep", "un"])
            #expect((hit.json["subject"] as? [String: Any])?["nationality"] as? String == "EG")
            let id = try #require(hit.json["id"] as? String)
            #expect(hit.headers[.location] == "/v1/compliance/screenings/\(id)")

            let again = try await planes.data(.get, "/v1/compliance/screenings/\(id)", token: f.staffToken, tenant: f.slug)
            #expect(again.status == .ok && (again.json["result"] as? [String: Any])?["score"] as? Double == result["score"] as? Double)

            let clear = try await planes.data(.post, "/v1/compliance/screenings", token: f.staffToken, tenant: f.slug, json: ["name": "Jane Tremblay"])
            #expect((clear.json["result"] as? [String: Any])?["decision"] as? String == "clear")
            #expect(((clear.json["result"] as? [String: Any])?["candidates"] as? [Any])?.isEmpty == true)

            // Bad input names every field; members may not screen; the record cannot be changed.
            let bad = try await planes.data(
                .post, "/v1/compliance/screenings", token: f.staffToken, tenant: f.slug,
                json: ["name": "12345", "date_of_birth": "1951-02-30", "nationality": "Egypt", "member_id": "nope"])
            #expect(bad.status == .unprocessableContent)
            let fields = Set(((bad.json["errors"] as? [[String: Any]]) ?? []).compactMap { $0["field"] as? String })
            #expect(fields == ["name", "date_of_birth", "nationality", "member_id"], "\(bad.text)")
            let stranger = try await planes.data(
                .post, "/v1/compliance/screenings", token: f.staffToken, tenant: f.slug, json: ["name": "Jane Doe", "member_id": UUID().uuidString])
            #expect(stranger.status == .unprocessableContent && stranger.text.contains("member_id"))
            let member = try await planes.data(.post, "/v1/compliance/screenings", token: f.members[0].token, tenant: f.slug, json: ["name": "Jane Doe"])
            #expect(member.status == .forbidden)
            let stored = try await harness.owner.statement(
                "SELECT count(*)::int FROM control.audit_log WHERE tenant_id = \(UUID(uuidString: f.tenantID)!) AND action = 'POST /v1/compliance/screenings'",
                logger: harness.logger
            ) { try await $0.first(Int.self) }
            #expect(stored == 2, "each recorded screening is audited once")
            await #expect(throws: (any Error).self) {
                try await harness.owner.transaction(logger: harness.logger) { connection in
                    try await connection.query("SELECT set_config('app.tenant_id', \(f.tenantID), true)", logger: harness.logger)
                    try await connection.query(PostgresQuery(unsafeSQL: "UPDATE t_\(f.slug).screenings SET decision = 'clear'"), logger: harness.logger)
                }
            }
        }
    }

    @Test("a new list version is what screening uses; loading the same file twice changes nothing; the rescreen queues members it now flags, once; an earlier version can be activated again")
    func listVersions() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "scrv")
            let marker = "Zyxwv \(UUID().uuidString.lowercased().filter(\.isLetter).prefix(6)) Qwerty"
            // Enrolled while the name is on no list: screened at onboarding, clear, no case.
            let enrolled = try await planes.data(
                .post, "/v1/members", token: f.staffToken, tenant: f.slug,
                json: ["email": "marker@\(f.slug).test", "full_name": marker, "password": "member password 42!"])
            #expect(enrolled.status == .created)
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nzila-pep-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let file = folder.appendingPathComponent("pep.csv")
            try "id,name,aliases,date_of_birth,country,position\nT-1,\(marker),,1980,Canada,Mayor\n".write(to: file, atomically: true, encoding: .utf8)
            let list = try ListLoader.load(file, format: .pepCSV)
            let first = try await ScreeningLists.save(list, loadedBy: "tests", client: harness.owner, logger: harness.logger)
            let second = try await ScreeningLists.save(list, loadedBy: "tests", client: harness.owner, logger: harness.logger)
            #expect(first.new && !second.new && second.listID == first.listID && first.entries == 1)
            let entries = try await harness.owner.statement(
                "SELECT names, nationalities FROM reference.screening_entries WHERE list_id = \(first.listID)", logger: harness.logger
            ) { try await $0.first(([String], [String]).self) }
            #expect(entries?.0 == [marker] && entries?.1 == ["CA"])

            // Screening now uses the new PEP version (read through the tenant's own session, as the data plane does).
            let tenant = TenantRef(
                id: TenantID(UUID(uuidString: f.tenantID)!), slug: try TenantSlug(f.slug), status: .active, poolGroup: 0,
                schemaVersion: harness.catalog.latestTenantVersion, enabledDomains: ["compliance"])
            let session = TenantSession(client: harness.groups[0], tenant: tenant, memberID: nil, clock: .system, logger: harness.logger)
            let index = try await ScreeningIndexCache(recheck: .zero).index(session)
            let result = index.screen(ScreeningQuery(name: marker))
            #expect(result.decision == .block && result.candidates.first?.source == "pep", "\(result)")
            #expect(index.listVersions["pep"] == list.version && result.candidates.first?.listVersion == list.version)

            // The rescreen flags the member and opens one case; run again, it opens no second one.
            let screening = MemberScreening(cache: ScreeningIndexCache(recheck: .zero), logger: harness.logger)
            let run = try await screening.rescreen(session: session, index: index)
            #expect(run.screened == 3 && run.flagged == 1 && run.casesOpened == 1, "\(run)")
            #expect(try await screening.rescreen(session: session, index: index).casesOpened == 0)
            let queue = try await planes.data(.get, "/v1/compliance/cases", token: f.staffToken, tenant: f.slug)
            let cases = queue.json["data"] as? [[String: Any]] ?? []
            #expect(cases.count == 1 && cases.first?["member_id"] as? String == enrolled.json["id"] as? String)
            #expect((cases.first?["summary"] as? String)?.hasSuffix("[rescreen]") == true)

            // A newer version without the marker replaces it; activating the first version again screens against it
            // again (a rollback), and the versions say which is current.
            let newer = folder.appendingPathComponent("pep-newer.csv")
            try "id,name,aliases,date_of_birth,country,position\nT-2,Someone Else \(UUID().uuidString.lowercased().filter(\.isLetter).prefix(6)),,1970,Canada,Mayor\n".write(to: newer, atomically: true, encoding: .utf8)
            let third = try await ScreeningLists.save(ListLoader.load(newer, format: .pepCSV), loadedBy: "tests", client: harness.owner, logger: harness.logger)
            #expect(third.new)
            #expect(try await ScreeningIndexCache(recheck: .zero).index(session).screen(ScreeningQuery(name: marker)).decision == .clear)
            let rolledBack = try await harness.owner.withConnection { connection in
                try await ScreeningLists.activate(
                    version: "#\(first.listID)", source: nil, by: "tests", at: WebhookTests.start, on: connection, logger: harness.logger)
            }
            #expect(rolledBack.activated.listID == first.listID && rolledBack.replaced?.listID == third.listID)
            let afterRollback = try await ScreeningIndexCache(recheck: .zero).index(session)
            #expect(afterRollback.screen(ScreeningQuery(name: marker)).decision == .block && afterRollback.listVersions["pep"] == list.version)
            let versions = try await harness.owner.withConnection { try await ScreeningLists.versions(on: $0, logger: harness.logger) }
            let pep = versions.filter { $0.source == "pep" }
            #expect(pep.first?.listID == first.listID && pep.first?.current == true && pep.first?.activatedAt == WebhookTests.start)
            #expect(pep.filter(\.current).count == 1 && pep.contains { $0.listID == third.listID && !$0.current })
            // Activating the current version changes nothing; an unknown version is named.
            let again = try await harness.owner.withConnection { connection in
                try await ScreeningLists.activate(version: "#\(first.listID)", source: "pep", by: "tests", at: WebhookTests.start, on: connection, logger: harness.logger)
            }
            #expect(again.replaced == nil)
            await #expect(throws: Problem.self) {
                try await harness.owner.withConnection { connection in
                    try await ScreeningLists.activate(version: "1999-01-01", source: "pep", by: "tests", at: WebhookTests.start, on: connection, logger: harness.logger)
                }
            }
        }
    }

    @Test("a member enrolled under a listed name is screened at onboarding and queued for the officers")
    func onboarding() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "onb")
            let enrolled = try await planes.data(
                .post, "/v1/members", token: f.staffToken, tenant: f.slug,
                json: ["email": "viktor@\(f.slug).test", "full_name": "Viktor Fedorovych Yanukovych", "password": "member password 42!"])
            #expect(enrolled.status == .created)
            let queue = try await planes.data(.get, "/v1/compliance/cases", token: f.staffToken, tenant: f.slug)
            let cases = queue.json["data"] as? [[String: Any]] ?? []
            #expect(cases.count == 1 && cases.first?["member_id"] as? String == enrolled.json["id"] as? String, "\(queue.text)")
            #expect((cases.first?["summary"] as? String)?.contains("eu EU.2711.62") == true && (cases.first?["summary"] as? String)?.hasSuffix("[onboarding]") == true)
            let screened = try await harness.owner.transaction(logger: harness.logger) { connection in
                try await connection.query("SELECT set_config('app.tenant_id', \(f.tenantID), true)", logger: harness.logger)
                return try await connection.query(
                    PostgresQuery(unsafeSQL: "SELECT count(*)::int FROM t_\(f.slug).screenings WHERE purpose = 'onboarding'"), logger: harness.logger
                ).first(Int.self)
            }
            #expect(screened == 3, "the two fixture members and this one are each screened once at enrolment")
        }
    }

    @Test("the tenant's screening thresholds decide, within the platform's bounds")
    func tenantThresholds() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "scrt")
            func screen() async throws -> [String: Any] {
                let reply = try await planes.data(
                    .post, "/v1/compliance/screenings", token: f.staffToken, tenant: f.slug, json: ["name": "Viktar Fedarovich Yanukovich"])
                return reply.json["result"] as? [String: Any] ?? [:]
            }
            #expect(try await screen()["decision"] as? String == "review")
            let path = "/v1/tenants/\(f.slug)/config"
            let current = try await planes.control(.get, path, token: f.staffToken)
            var config = try #require(current.json["config"] as? [String: Any])
            let ifMatch = HTTPField.Name("If-Match")!
            config["compliance"] = ["screening": ["review_bps": 9_500, "block_bps": 9_900]]
            let looser = try await planes.control(
                .put, path, token: f.staffToken, json: ["config": config, "reason": "Fewer reviews"], headers: [ifMatch: current.headers[HTTPField.Name("ETag")!] ?? ""])
            #expect(looser.status == .unprocessableContent && looser.text.contains("compliance.screening.review_bps"), "\(looser.text)")
            config["compliance"] = ["screening": ["review_bps": 7_000, "block_bps": 9_000]]
            let stricter = try await planes.control(
                .put, path, token: f.staffToken, json: ["config": config, "reason": "Block close matches"], headers: [ifMatch: current.headers[HTTPField.Name("ETag")!] ?? ""])
            #expect(stricter.status == .ok, "\(stricter.text)")
            let result = try await screen()
            #expect(result["decision"] as? String == "block" && (result["thresholds"] as? [String: Any])?["block"] as? Double == 0.9, "\(result)")
        }
    }
}
