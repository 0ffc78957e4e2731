import Foundation
import HTTPTypes
import NzilaCore
import Testing

/// The portal in a real browser: headless Chromium driven by Selenium (`Tests/Browser/portal_walk.py`),
/// axe-core on every page, screenshots under `.build/portal-screenshots/`. The walk acts through the
/// pages only; this test prepares the tenant and checks what the walk did through the API.
@Suite("Portal in a browser", .serialized)
struct PortalBrowserTests {
    @Test("a teller enrols and deposits, an officer decides cases, an admin rebrands and rolls back, an auditor sees no action; forged posts are refused")
    func walk() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "web")
            let admin = try await planes.adminToken()
            var staff: [Role: (email: String, password: String)] = [:]
            for role in [Role.teller, .complianceOfficer, .auditor] {
                let email = "\(role.rawValue)@\(f.slug).test"
                let created = try await planes.control(
                    .post, "/v1/tenants/\(f.slug)/staff", token: admin, json: ["email": email, "password": "staff password 123", "role": role.rawValue])
                try #require(created.status == .created, "\(created.text)")
                staff[role] = (email, "staff password 123")
            }
            // Two open cases: both fixture members screened against a listed name.
            var cases: [String] = []
            for member in f.members {
                let screening = try await planes.data(
                    .post, "/v1/compliance/screenings", token: f.staffToken, tenant: f.slug, json: ["name": "Ayman al-Zawahiri", "member_id": member.id])
                try #require(screening.status == .created, "\(screening.text)")
            }
            let queue = try await planes.data(.get, "/v1/compliance/cases", token: f.staffToken, tenant: f.slug)
            for item in queue.json["data"] as? [[String: Any]] ?? [] { cases.append(try #require(item["id"] as? String)) }
            try #require(cases.count == 2, "two open cases: \(queue.text)")

            // A webhook endpoint for the admin's pages (no relay runs here, so nothing is sent to it).
            let hook = try await planes.data(
                .post, "/v1/webhook-endpoints", token: f.staffToken, tenant: f.slug,
                json: ["url": "https://hooks.example.com/nzila", "event_types": ["account.*"], "description": "core banking"])
            try #require(hook.status == .created, "\(hook.text)")
            let strGrounds = "Walked: the name is on the consolidated list and the funds moved at once."
            let newEmail = "walked@\(f.slug).test"
            let config: [String: Any] = [
                "base": "http://\(f.slug).localhost:\(planes.dp.port!)",
                "screenshots": harness.root.appendingPathComponent(".build/portal-screenshots").path,
                "teller": ["email": staff[.teller]!.email, "password": staff[.teller]!.password],
                "officer": ["email": staff[.complianceOfficer]!.email, "password": staff[.complianceOfficer]!.password],
                "auditor": ["email": staff[.auditor]!.email, "password": staff[.auditor]!.password],
                "admin": ["email": "admin@\(f.slug).test", "password": "staff password 123"],
                "newMember": ["name": "Awa Diallo", "email": newEmail],
                "releaseCase": cases[0], "rejectCase": cases[1], "strGrounds": strGrounds,
            ]
            let report = try await BrowserWalk.run(script: harness.root.appendingPathComponent("Tests/Browser/portal_walk.py"), config: config)
            #expect(report["ok"] as? Bool == true, "the walk failed: \(report["error"] ?? "") at \(report["url"] ?? "") after \(report["steps"] ?? [])")
            let violations = report["violations"] as? [[String: Any]] ?? []
            #expect(violations.isEmpty, "axe-core found serious or critical violations: \(violations)")
            #expect((report["pages"] as? [String] ?? []).count >= 9, "pages checked: \(report["pages"] ?? [])")

            // Forged and replayed posts.
            #expect(report["replayStatus"] as? Int == 303, "a replayed deposit form redirects like the first")
            #expect(report["forgedNoToken"] as? Int == 403)
            #expect(report["forgedWrongToken"] as? Int == 403)
            #expect(report["forgedOrigin"] as? Int == 403)
            #expect(report["forgedNoSession"] as? Int == 401)
            #expect(report["auditorEnrolPage"] as? Bool == true, "the auditor is refused the enrol page")

            // The admin's branding change and rollback, through the control plane's API.
            #expect(report["previewFollowed"] as? Bool == true)
            #expect(report["brandApplied"] as? String == "rgb(122, 31, 92)", "the portal wears the saved colours at once")
            #expect(report["staleReview"] as? Int == 412 && report["staleSave"] as? Int == 412, "forms opened on an older version are refused")
            let first = try #require(report["firstVersion"] as? Int)
            #expect(report["savedVersion"] as? Int == first + 1 && report["rolledBackVersion"] as? Int == first + 2, "\(report)")
            let versions = try await planes.control(.get, "/v1/tenants/\(f.slug)/config/versions", token: admin)
            let rows = versions.json["data"] as? [[String: Any]] ?? []
            #expect(rows.first?["version"] as? Int == first + 2 && rows.first?["rolled_back_from"] as? Int == first, "\(versions.text)")
            #expect(rows.dropFirst().first?["reason"] as? String == "Portal walk: new colours")
            let saved = try await planes.control(.get, "/v1/tenants/\(f.slug)/config/versions/\(first + 1)", token: admin)
            let savedBranding = (saved.json["config"] as? [String: Any])?["branding"] as? [String: Any]
            #expect(savedBranding?["primary_color"] as? String == "#7A1F5C" && savedBranding?["display_name"] as? String == "Walked Credit Union", "\(saved.text)")
            let original = try await planes.control(.get, "/v1/tenants/\(f.slug)/config/versions/\(first)", token: admin)
            let now = try await planes.control(.get, "/v1/tenants/\(f.slug)/config", token: admin)
            #expect((now.json["config"] as? [String: Any]).map { ConfigChange.json($0) } == (original.json["config"] as? [String: Any]).map { ConfigChange.json($0) })

            // What the walk did, through the API: the member, one account holding the deposit once.
            let memberID = try #require(report["memberId"] as? String)
            let member = try await planes.data(.get, "/v1/members/\(memberID)", token: f.staffToken, tenant: f.slug)
            #expect(member.json["email"] as? String == newEmail && member.json["full_name"] as? String == "Awa Diallo")
            let accounts = try await planes.data(.get, "/v1/accounts?member_id=\(memberID)", token: f.staffToken, tenant: f.slug)
            let listed = accounts.json["data"] as? [[String: Any]] ?? []
            #expect(listed.count == 1)
            let balance = (listed.first?["ledger_balance"] as? [String: Any])?["amount"] as? Int
            #expect(balance == 12_550, "the deposit posted once: \(accounts.text)")
            let forged = try await planes.data(.get, "/v1/members?q=forged", token: f.staffToken, tenant: f.slug)
            #expect((forged.json["data"] as? [Any])?.isEmpty == true, "no forged post enrolled anyone")

            // The officer's decisions.
            for (id, status) in [(cases[0], "released"), (cases[1], "rejected")] {
                let decided = try await planes.data(.get, "/v1/compliance/cases/\(id)", token: f.staffToken, tenant: f.slug)
                #expect(decided.json["status"] as? String == status, "\(decided.text)")
            }
            // The STR the officer drafted from the confirmed case, and the audit page that lists it.
            let reports = try await planes.data(.get, "/v1/compliance/reports", token: f.staffToken, tenant: f.slug)
            let drafted = (reports.json["data"] as? [[String: Any]] ?? []).first
            #expect(drafted?["case_id"] as? String == cases[1] && report["reportPath"] as? String == "/portal/compliance/reports/\(drafted?["id"] as? String ?? "-")", "\(reports.text)")
            #expect(reports.text.contains(strGrounds))
            #expect((report["auditText"] as? String)?.contains("POST /v1/compliance/cases/{id}/str") == true, "\(report["auditText"] ?? "")")
        }
    }
}

@Suite("Console in a browser", .serialized)
struct ConsoleBrowserTests {
    @Test("a platform admin creates a tenant from a template and suspends it; tenant staff cannot sign in")
    func walk() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "con")
            let slug = "walk_\(UUID().uuidString.prefix(8).lowercased())"
            let report = try await BrowserWalk.run(
                script: harness.root.appendingPathComponent("Tests/Browser/console_walk.py"),
                config: [
                    "base": "http://127.0.0.1:\(planes.cp.port!)",
                    "screenshots": harness.root.appendingPathComponent(".build/portal-screenshots").path,
                    "admin": ["email": harness.adminEmail, "password": harness.adminPassword],
                    "staff": ["email": "admin@\(f.slug).test", "password": "staff password 123"],
                    "slug": slug, "name": "Walked Credit Union",
                ])
            #expect(report["ok"] as? Bool == true, "the walk failed: \(report["error"] ?? "") at \(report["url"] ?? "") after \(report["steps"] ?? [])")
            let violations = report["violations"] as? [[String: Any]] ?? []
            #expect(violations.isEmpty, "axe-core found serious or critical violations: \(violations)")
            #expect(report["statusShown"] as? String == "Suspended")
            // Through the API: the tenant exists, from the default template, suspended; both steps audited.
            let admin = try await planes.adminToken()
            let tenant = try await planes.control(.get, "/v1/tenants/\(slug)", token: admin)
            #expect(tenant.json["status"] as? String == "suspended" && tenant.json["template"] as? String == "default", "\(tenant.text)")
            let audit = try await planes.control(.get, "/v1/audit?tenant=\(slug)", token: admin)
            let actions = (audit.json["data"] as? [[String: Any]] ?? []).compactMap { $0["action"] as? String }
            #expect(actions.contains { $0.contains("suspend") } && actions.contains { $0.contains("provision") || $0.contains("create") }, "\(actions)")
            #expect((report["auditText"] as? String)?.contains("suspend") == true)
            // The fleet pages show what the API says: the latest version, the active key and no private half.
            let fleet = try await planes.control(.get, "/v1/fleet/migrations", token: admin)
            #expect(report["latestVersion"] as? Int == fleet.json["latest_version"] as? Int, "\(fleet.text)")
            let keys = try await planes.control(.get, "/v1/signing-keys", token: admin)
            let active = (keys.json["data"] as? [[String: Any]] ?? []).first { $0["state"] as? String == "active" }?["kid"] as? String
            #expect(active != nil && (report["keysText"] as? String)?.contains(active ?? "-") == true, "\(keys.text)")
            #expect(!keys.text.contains("private") && !keys.text.contains("PRIVATE"))
            planes.scope.add(try #require(tenant.json["id"] as? String))
        }
    }
}

/// Runs a browser walk script: its config on stdin, its JSON report from stdout. The wait is on the
/// process's exit (a thread of its own, not the test's), bounded by the script's own page waits.
enum BrowserWalk {
    static func run(script: URL, config: [String: Any]) async throws -> [String: Any] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nzila-browser-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("config.json"), output = directory.appendingPathComponent("report.json")
        let errors = directory.appendingPathComponent("stderr.txt")
        try JSONSerialization.data(withJSONObject: config).write(to: input)
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path]
        process.standardInput = try FileHandle(forReadingFrom: input)
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: errors)
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
        guard status == 0, let line = text.split(separator: "\n").last, let report = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            Issue.record("the browser walk exited \(status): \(text.suffix(2_000)) \(stderr.suffix(4_000))")
            return [:]
        }
        return report
    }
}
