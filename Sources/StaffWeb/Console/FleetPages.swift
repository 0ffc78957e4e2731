import Foundation
import HTTPTypes
import Hummingbird
import NzilaCore
import NzilaDatabase

/// The console's fleet pages: schema versions and the tenants a rollout could not migrate (with
/// their error), the warm pool, the signing keys, and the doctor's database checks, each over its
/// control-plane route.
extension StaffSite {
    func mountFleet(on router: Router<PlaneRequestContext>) {
        router.get("/console/fleet") { request, context in
            try await withSession(request, context) { page in try await fleetPage(page) }
        }
        router.get("/console/keys") { request, context in
            try await withSession(request, context) { page in try await keysPage(page) }
        }
        router.get("/console/doctor") { request, context in
            try await withSession(request, context) { page in try await doctorPage(page) }
        }
    }

    func fleetPage(_ page: Page) async throws -> Response {
        try page.require(.get, "/v1/fleet/migrations")
        let migrations = try await page.get("/v1/fleet/migrations").object ?? [:]
        let latest = migrations.int64("latest_version")
        let bars = migrations.objects("versions").map { row in
            SVGChart.Bar(
                label: page.text("console.version", ["version": row.string("version")]) + (row.int64("version") == latest ? " ✓" : ""),
                value: row.int64("tenants"))
        }
        let failures: [[String: Any]] = migrations.objects("failures").map { failure in
            [
                "tenant": failure.string("tenant"), "at": failure.string("schema_version"), "target": failure.string("target_version"),
                "attempts": failure.string("attempts"), "when": WebFormat.time(failure.string("failed_at")), "error": failure.string("error"),
            ]
        }
        var warm: [String: Any] = ["shown": false]
        if page.allows(.get, "/v1/fleet/warm-pool") {
            let pool = try await page.get("/v1/fleet/warm-pool").object ?? [:]
            warm = [
                "shown": true, "ready": pool.int64("ready"), "target": pool.int64("target_size"),
                "versions": pool.objects("versions").map { ["version": $0.string("version"), "schemas": $0.string("schemas"), "stale": $0.int64("version") != latest] },
            ]
        }
        return page.render("console-fleet", title: page.text("console.fleet.title"), [
            "latest": latest, "tenants": migrations.int64("tenants"), "chart": SVGChart.bars(bars, title: page.text("console.by_version")),
            "failures": failures, "hasFailures": !failures.isEmpty, "warm": warm,
        ])
    }

    func keysPage(_ page: Page) async throws -> Response {
        try page.require(.get, "/v1/signing-keys")
        let keys: [[String: Any]] = try await page.get("/v1/signing-keys").items.map { key in
            [
                "kid": key.string("kid"), "state": page.text("console.key.\(key.string("state"))"), "created": WebFormat.time(key.string("created_at")),
                "retired": WebFormat.time(key.string("retired_at")), "until": WebFormat.time(key.string("published_until")),
            ]
        }
        return page.render("console-keys", title: page.text("console.keys.title"), ["keys": keys])
    }

    func doctorPage(_ page: Page) async throws -> Response {
        try page.require(.get, "/v1/doctor")
        let report = try await page.get("/v1/doctor").object ?? [:]
        let findings: [[String: Any]] = report.objects("findings").map { finding in
            [
                "severity": page.text("console.doctor.\(finding.string("severity"))"), "error": finding.string("severity") == "error",
                "check": finding.string("check"), "problem": finding.string("problem"), "fix": finding.string("fix"),
            ]
        }
        return page.render("console-doctor", title: page.text("console.doctor.title"), [
            "findings": findings, "hasFindings": !findings.isEmpty,
            "notChecked": (report["not_checked"] as? [String] ?? []).joined(separator: ", "),
        ])
    }
}
