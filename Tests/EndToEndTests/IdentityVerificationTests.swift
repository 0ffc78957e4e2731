import AsyncHTTPClient
import Compliance
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NzilaCore
import NzilaDatabase
import NzilaPartners
import PostgresNIO
import Synchronization
import Testing

/// Issue 25: identity verification with a Stripe Identity-style provider (a stand-in on a real socket): a member opens
/// a session, the provider's signed event says it is verified, the verified report becomes KYC evidence with the
/// provider's reference (the document number sealed), and the member reaches tier 2 without staff typing a number.
@Suite("Identity verification")
struct IdentityVerificationTests {
    /// The stand-in: sessions by id, each verified or not as the test says, read back with their report.
    final class StandIn: Sendable {
        static let key = "sk_test_identity_93f"
        let webhookSecret = "whsec_identity_5d0"
        struct Session: Sendable {
            var id: String
            var member: String
            var status: String
            var documentType = "passport"
            var selfie = "verified"
        }

        let sessions = Mutex<[String: Session]>([:])
        /// Reading a session back answers 503 while this is set.
        let down = Mutex(false)
        /// Reading the report's images answers 503 while this is set.
        let filesDown = Mutex(false)
        let byKey = Mutex<[String: String]>([:])

        var application: some ApplicationProtocol {
            let router = Router()
            router.post("/v1/identity/verification_sessions") { request, _ -> Response in
                guard request.headers[.authorization] == "Bearer \(Self.key)" else { return Self.json(401, ["error": ["type": "authentication_error"]]) }
                let form = String(buffer: try await request.body.collect(upTo: 1 << 16))
                guard form.contains("type=document"), form.contains("options%5Bdocument%5D%5Brequire_matching_selfie%5D=true") else {
                    return Self.json(400, ["error": ["message": "bad form: \(form)"]])
                }
                let member = form.split(separator: "&").first { $0.hasPrefix("metadata%5Bmember_id%5D=") }.map { String($0.split(separator: "=")[1]) } ?? ""
                let key = request.headers[HTTPField.Name("Idempotency-Key")!] ?? UUID().uuidString
                let id = self.byKey.withLock { keys in
                    if let known = keys[key] { return known }
                    let made = "vs_\(UUID().uuidString.prefix(12).lowercased())"
                    keys[key] = made
                    return made
                }
                self.sessions.withLock { if $0[id] == nil { $0[id] = Session(id: id, member: member, status: "requires_input") } }
                return Self.json(200, ["id": id, "object": "identity.verification_session", "status": "requires_input",
                                       "url": "https://verify.stripe.example/start/\(id)", "client_secret": "\(id)_secret_live"])
            }
            router.get("/v1/identity/verification_sessions/{id}") { request, context -> Response in
                guard request.headers[.authorization] == "Bearer \(Self.key)" else { return Self.json(401, [:]) }
                if self.down.withLock({ $0 }) { return Self.json(503, ["error": ["type": "api_error"]]) }
                let query = request.uri.query ?? ""
                guard let session = self.sessions.withLock({ $0[context.parameters.get("id") ?? ""] }) else { return Self.json(404, [:]) }
                var document: [String: Any] = [
                    "status": session.status == "verified" ? "verified" : "unverified", "type": session.documentType, "issuing_country": "CA",
                    "expiration_date": ["day": 30, "month": 6, "year": 2031], "first_name": "Awa", "last_name": "Ndiaye",
                ]
                // The number only when expanded, as Stripe does.
                if query.contains("last_verification_report.document.number") { document["number"] = "GA123456" }
                return Self.json(200, ["id": session.id, "status": session.status, "last_verification_report": [
                    "id": "vr_\(session.id.dropFirst(3))", "document": document.merging(["files": ["file_front_1", "file_back_1"]]) { $1 },
                    "selfie": ["status": session.selfie, "selfie": "file_selfie_1"],
                ]])
            }
            // The report's images: a JPEG front and selfie; the back is an SVG, which the platform does not keep.
            router.get("/v1/files/{id}/contents") { request, context -> Response in
                guard request.headers[.authorization] == "Bearer \(Self.key)" else { return Self.json(401, [:]) }
                if self.filesDown.withLock({ $0 }) { return Self.json(503, ["error": ["type": "api_error"]]) }
                let id = context.parameters.get("id") ?? ""
                let bytes = id == "file_back_1" ? Data("<svg xmlns='http://www.w3.org/2000/svg'/>".utf8) : Data([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46, 0x00, 0x01])
                return Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
            }
            router.get("/v1/balance") { request, _ -> Response in
                request.headers[.authorization] == "Bearer \(Self.key)" ? Self.json(200, ["object": "balance"]) : Self.json(401, [:])
            }
            return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        }

        /// The provider finishes a session (verified, or not) and posts its signed event.
        func finish(
            _ id: String, verified: Bool, selfie: String = "verified", port: Int, url: URL, secret: String? = nil, eventID: String? = nil
        ) async throws -> (Int, String) {
            sessions.withLock {
                $0[id]?.status = verified ? "verified" : "requires_input"
                $0[id]?.selfie = selfie
            }
            let type = verified ? "identity.verification_session.verified" : "identity.verification_session.requires_input"
            let body: [String: Any] = ["id": eventID ?? "evt_\(id)_\(type)", "object": "event", "type": type,
                                       "data": ["object": ["id": id, "object": "identity.verification_session", "status": verified ? "verified" : "requires_input"]]]
            let raw = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
            return try await StandIns.post(raw, to: url, port: port, header: "Stripe-Signature", secret: secret ?? webhookSecret)
        }

        static func json(_ status: Int, _ object: Any) -> Response { StandIns.json(status, object) }
    }

    @Test("a member reaches tier 2 through an identity session; forged, repeated and failed events change nothing")
    func tierTwo() async throws {
        let harness = try await Harness.get()
        let standIn = StandIn()
        try await standIn.application.test(.live) { api in
            let name = "stripe-id-\(UUID().uuidString.prefix(8).lowercased())"
            try await harness.owner.statement(
                """
                INSERT INTO control.partner_connections (name, kind, base_url, credential, methods, timeout_ms, attempts, callback_secret)
                VALUES (\(name), 'identity', \("http://127.0.0.1:\(api.port!)"), 'env:NZILA_TEST_ID_KEY', '{}', 15000, 2, 'env:NZILA_TEST_ID_WHSEC')
                """, logger: harness.logger) { _ in }
            let connections = try await PartnerConnection.all(client: harness.registry, logger: harness.logger).filter { $0.name == name }
            let identity = IdentityProviders.configured(
                connections, environment: ["NZILA_TEST_ID_KEY": StandIn.key, "NZILA_TEST_ID_WHSEC": standIn.webhookSecret], logger: harness.logger)
            #expect(identity.provider(name) != nil && identity.secret(name) == standIn.webhookSecret)
            #expect(try await identity.provider(name)?.check() == 200)

            try await harness.withPlanes(identity: identity) { planes in
                let f = try await planes.provisionFixture(prefix: "idv")
                let member = f.members[0]
                let start = "/v1/members/\(member.id)/kyc/verifications"
                // Without an identity section there is no provider to verify with.
                let none = try await planes.data(.post, start, token: member.token, tenant: f.slug)
                #expect(none.status == .unprocessableContent && none.problemCode == "identity-provider-missing", "\(none.text)")

                let path = "/v1/tenants/\(f.slug)/config"
                let current = try await planes.control(.get, path, token: f.staffToken)
                var config = try #require(current.json["config"] as? [String: Any])
                let ifMatch: HTTPFields = [HTTPField.Name("If-Match")!: current.headers[HTTPField.Name("ETag")!] ?? ""]
                config["identity"] = ["connection": name, "grant_tier": 3]
                let wrongTier = try await planes.control(.put, path, token: f.staffToken, json: ["config": config, "reason": "Identity"], headers: ifMatch)
                #expect(wrongTier.status == .unprocessableContent && wrongTier.text.contains("config.identity.grant_tier"), "\(wrongTier.text)")
                config["identity"] = ["connection": name, "grant_tier": 2]
                let saved = try await planes.control(.put, path, token: f.staffToken, json: ["config": config, "reason": "Identity"], headers: ifMatch)
                #expect(saved.status == .ok, "\(saved.text)")

                // The member opens a session: the client secret for their app, the hosted link.
                let opened = try await planes.data(.post, start, token: member.token, tenant: f.slug)
                #expect(opened.status == .created, "\(opened.text)")
                let session = try #require((opened.json["verification"] as? [String: Any])?["session_id"] as? String)
                #expect(opened.json["client_secret"] as? String == "\(session)_secret_live" && opened.json["url"] as? String != nil)
                // Staff may open one for the member (the link to hand over), never seeing a client secret.
                let byStaff = try await planes.data(.post, start, token: f.staffToken, tenant: f.slug)
                #expect(byStaff.status == .created && byStaff.json["client_secret"] == nil, "\(byStaff.text)")
                // Another member cannot open one for this member.
                #expect(try await planes.data(.post, start, token: f.members[1].token, tenant: f.slug).status == .notFound)

                let url = URL(string: "http://\(f.slug).localhost/v1/webhooks/identity/\(name)")!
                let port = planes.dp.port!
                func tier() async throws -> Int {
                    try #require(try await planes.data(.get, "/v1/members/\(member.id)/kyc", token: f.staffToken, tenant: f.slug).json["tier"] as? Int)
                }
                let before = try await tier()
                #expect(before < 2)
                // Forged: refused; a session that needs more input: recorded, no evidence.
                #expect(try await standIn.finish(session, verified: true, port: port, url: url, secret: "whsec_forged").0 == 401)
                let input = try await standIn.finish(session, verified: false, port: port, url: url)
                #expect(input.0 == 200 && input.1.contains(#""outcome":"requires_input""#), "\(input.1)")
                // A verified document whose selfie did not match: not verified.
                let noSelfie = try await standIn.finish(session, verified: true, selfie: "unverified", port: port, url: url, eventID: "evt_noselfie")
                #expect(noSelfie.1.contains("not-verified"), "\(noSelfie.1)")
                #expect(try await tier() == before)

                // The provider cannot be read back: 503 with Retry-After (the provider sends the event again), nothing recorded.
                standIn.down.withLock { $0 = true }
                let unavailable = try await standIn.finish(session, verified: true, port: port, url: url, eventID: "evt_down")
                #expect(unavailable.0 == 503 && unavailable.1.contains("identity-provider-unavailable"), "\(unavailable.1)")
                standIn.down.withLock { $0 = false }
                #expect(try await tier() == before)

                // The report's images cannot be read: 503 again, nothing recorded, no file kept.
                standIn.filesDown.withLock { $0 = true }
                let noImages = try await standIn.finish(session, verified: true, port: port, url: url, eventID: "evt_files_down")
                #expect(noImages.0 == 503 && noImages.1.contains("identity-provider-unavailable"), "\(noImages.1)")
                standIn.filesDown.withLock { $0 = false }
                #expect(try await tier() == before)
                let noFiles = try await planes.data(.get, "/v1/members/\(member.id)/kyc/files", token: f.staffToken, tenant: f.slug)
                #expect(((try? JSONSerialization.jsonObject(with: noFiles.body)) as? [Any])?.isEmpty == true, "\(noFiles.text)")

                // Verified: evidence with the provider's reference, the number sealed, tier 2.
                let verified = try await standIn.finish(session, verified: true, port: port, url: url, eventID: "evt_verified")
                #expect(verified.0 == 200 && verified.1.contains(#""outcome":"verified""#) && verified.1.contains(#""tier":2"#), "\(verified.1)")
                let profile = try await planes.data(.get, "/v1/members/\(member.id)/kyc", token: f.staffToken, tenant: f.slug).json
                #expect(profile["tier"] as? Int == 2)
                let documents = try #require(profile["documents"] as? [[String: Any]])
                let passport = try #require(documents.first { $0["kind"] as? String == "passport" })
                #expect(passport["number_masked"] as? String == "•••• 3456" && passport["provider_reference"] as? String == "vr_\(session.dropFirst(3))")
                #expect(passport["verified_by"] == nil && passport["verified_role"] as? String == "provider:\(name)" && passport["expires_on"] as? String == "2031-06-30")
                #expect(documents.contains { $0["kind"] as? String == "selfie_match" })
                // The report's images kept as the member's files, tied to the evidence; the SVG back left at the provider.
                let kept = try await planes.data(.get, "/v1/members/\(member.id)/kyc/files", token: f.staffToken, tenant: f.slug)
                let files = ((try? JSONSerialization.jsonObject(with: kept.body)) as? [[String: Any]]) ?? []
                #expect(files.compactMap { $0["kind"] as? String }.sorted() == ["id_front", "selfie"], "\(kept.text)")
                #expect(files.first { $0["kind"] as? String == "id_front" }?["document_id"] as? String == passport["id"] as? String, "\(kept.text)")
                let history = try #require(profile["history"] as? [[String: Any]])
                #expect(history.last?["to_tier"] as? Int == 2 && history.last?["changed_by"] == nil && (history.last?["reason"] as? String)?.contains(name) == true)
                // The number, revealed (audited), is the document's; at rest it is sealed.
                let id = try #require(passport["id"] as? String)
                let revealed = try await planes.data(.post, "/v1/members/\(member.id)/kyc/documents/\(id)/reveal", token: f.staffToken, tenant: f.slug, json: [:])
                #expect(revealed.json["number"] as? String == "GA123456", "\(revealed.text)")
                let stored = try await planes.session(f).run { db in
                    try await db.query("SELECT number_sealed FROM kyc_documents WHERE id = \(UUID(uuidString: id)!)").first(Data.self)
                }
                #expect(stored.map { !String(decoding: $0, as: UTF8.self).contains("GA123456") } == true)

                // Delivered again: nothing more.
                let again = try await standIn.finish(session, verified: true, port: port, url: url, eventID: "evt_verified_retry")
                #expect(again.1.contains("duplicate"), "\(again.1)")
                let listed = try await planes.data(.get, start, token: member.token, tenant: f.slug)
                let sessions = try #require(try JSONSerialization.jsonObject(with: listed.body) as? [[String: Any]])
                #expect(sessions.contains { $0["session_id"] as? String == session && $0["status"] as? String == "verified" && ($0["document_ids"] as? [String])?.count == 2 })
                // Another tenant's address does not know the session.
                let other = try await planes.provisionFixture(prefix: "idw")
                let crossed = try await standIn.finish(
                    session, verified: true, port: port, url: URL(string: "http://\(other.slug).localhost/v1/webhooks/identity/\(name)")!, eventID: "evt_x")
                #expect(crossed.1.contains("unknown-session"), "\(crossed.1)")
            }
            try await harness.owner.statement("DELETE FROM control.partner_connections WHERE name = \(name)", logger: harness.logger) { _ in }
        }
    }
}
