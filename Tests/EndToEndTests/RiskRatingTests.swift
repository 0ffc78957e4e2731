import Foundation
import HTTPTypes
import NzilaCore
import Testing

/// Issue 26: each member's AML risk rating from documented factors, kept with its reasons, recomputed when a factor
/// changes, shown to staff only, and used by the send decision (high risk: tier 4 before large sends).
@Suite("Customer risk rating")
struct RiskRatingTests {
    @Test("staff see a member's rating and why; a recorded profile re-rates at once; high risk needs tier 4 to send; members and other tenants see nothing")
    func rating() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes { planes in
            let f = try await planes.provisionFixture(prefix: "risk")
            let member = f.members[0]
            let path = "/v1/members/\(member.id)/risk"
            // Rated on the first read: nothing risky, the occupation not on file.
            let first = try await planes.data(.get, path, token: f.staffToken, tenant: f.slug)
            #expect(first.status == .ok, "\(first.text)")
            let current = try #require(first.json["current"] as? [String: Any])
            #expect(current["level"] as? String == "low" && current["score"] as? Int == 10, "\(first.text)")
            #expect((current["reasons"] as? [[String: Any]])?.first?["factor"] as? String == "occupation")
            // Never shown to the member (no tipping off).
            let own = try await planes.data(.get, path, token: member.token, tenant: f.slug)
            #expect(own.status == .forbidden || own.status == .notFound, "\(own.status)")

            // Bad input is named, field by field; nothing is written.
            let bad = try await planes.data(
                .put, "\(path)/profile", token: f.staffToken, tenant: f.slug,
                json: ["occupation": "Nurse!", "residence_country": "Canada", "expected_monthly_minor": -1, "pep": "maybe", "pep_associate": false])
            #expect(bad.status == .unprocessableContent, "\(bad.text)")
            for field in ["occupation", "residence_country", "expected_monthly_minor", "pep"] { #expect(bad.text.contains(field), "\(field): \(bad.text)") }
            let associate = try await planes.data(
                .put, "\(path)/profile", token: f.staffToken, tenant: f.slug, json: ["pep": "none", "pep_associate": true])
            #expect(associate.status == .unprocessableContent && associate.text.contains("pep_associate"))

            // A foreign PEP: high at once, the reason said, the earlier rating kept.
            let pep = try await planes.data(
                .put, "\(path)/profile", token: f.staffToken, tenant: f.slug,
                json: ["occupation": "nurse", "residence_country": "ca", "expected_monthly_minor": 50_000, "pep": "foreign", "pep_associate": false])
            #expect(pep.status == .ok, "\(pep.text)")
            let high = try #require(pep.json["current"] as? [String: Any])
            #expect(high["level"] as? String == "high" && (high["because"] as? String)?.contains("staff") == true, "\(pep.text)")
            #expect((pep.json["profile"] as? [String: Any])?["residence_country"] as? String == "CA")
            #expect((pep.json["history"] as? [Any])?.count == 2)

            // High risk: from the tenant's EDD threshold (100.00 CAD here), a remittance needs tier 4.
            try await planes.setConfigSection(f, "compliance", ["risk": ["edd_from_minor": 10_000, "high_risk_countries": ["NG"]]])
            try await planes.deposit(f, member: 0, minor: 200_000)
            let refused = try await planes.remit(f, sendMinor: 10_000)
            #expect(refused.status == .unprocessableContent && refused.problemCode == "edd-required", "\(refused.text)")
            let below = try await planes.remit(f, sendMinor: 9_999)
            #expect(below.status == .created, "below the threshold: \(below.text)")
            // A tenant may not loosen the platform's threshold.
            let path2 = "/v1/tenants/\(f.slug)/config"
            let config = try await planes.control(.get, path2, token: f.staffToken)
            var document = try #require(config.json["config"] as? [String: Any])
            document["compliance"] = ["risk": ["edd_from_minor": 500_000]]
            let looser = try await planes.control(
                .put, path2, token: f.staffToken, json: ["config": document, "reason": "Looser"],
                headers: [HTTPField.Name("If-Match")!: config.headers[HTTPField.Name("ETag")!] ?? ""])
            #expect(looser.status == .unprocessableContent && looser.text.contains("config.compliance.risk.edd_from_minor"), "\(looser.text)")

            // Cleared as a PEP, but sending to a country the credit union lists: the order re-rates the member.
            _ = try await planes.data(
                .put, "\(path)/profile", token: f.staffToken, tenant: f.slug,
                json: ["occupation": "nurse", "residence_country": "CA", "expected_monthly_minor": 50_000, "pep": "none", "pep_associate": false])
            let sent = try await planes.remit(f, sendMinor: 10_000)
            #expect(sent.status == .created, "\(sent.text)")
            let after = try await planes.data(.get, path, token: f.staffToken, tenant: f.slug)
            let rated = try #require(after.json["current"] as? [String: Any])
            let reasons = (rated["reasons"] as? [[String: Any]])?.compactMap { $0["factor"] as? String } ?? []
            #expect(reasons == ["recipients"] && rated["level"] as? String == "medium", "\(after.text)")
            #expect((rated["because"] as? String)?.hasPrefix("remittance ") == true, "\(after.text)")

            // The member's devices as a change history, newest first, each with the order that first came from it.
            let fromA = try await planes.remit(f, sendMinor: 2_000, extra: ["device_id": "phone-a"])
            planes.clock.advance(seconds: 60)
            _ = try await planes.remit(f, sendMinor: 3_000, extra: ["device_id": "phone-b"])
            _ = try await planes.remit(f, sendMinor: 4_000, extra: ["device_id": "phone-a"])
            let devices = try await planes.data(.get, "/v1/members/\(member.id)/devices", token: f.staffToken, tenant: f.slug)
            let seen = ((try? JSONSerialization.jsonObject(with: devices.body)) as? [[String: Any]]) ?? []
            #expect(seen.compactMap { $0["device_id"] as? String } == ["phone-b", "phone-a"], "\(devices.text)")
            #expect(seen.last?["first_remittance_id"] as? String == fromA.json["id"] as? String)
            #expect((seen.first?["first_amount"] as? [String: Any])?["amount"] as? Int == 3_000, "\(devices.text)")
            let ownDevices = try await planes.data(.get, "/v1/members/\(member.id)/devices", token: member.token, tenant: f.slug)
            #expect(ownDevices.status == .forbidden || ownDevices.status == .notFound, "staff only: \(ownDevices.status)")

            // Another credit union's staff do not find the member.
            let other = try await planes.provisionFixture(prefix: "risko")
            #expect(try await planes.data(.get, path, token: other.staffToken, tenant: other.slug).status == .notFound)
            #expect(try await planes.data(.get, "/v1/members/\(member.id)/devices", token: other.staffToken, tenant: other.slug).status == .notFound)
        }
    }
}
