import Compliance
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NzilaCore
import NzilaDatabase
import NzilaPartners
import PostgresNIO
import Synchronization
import Testing

/// Issue 25: KYC document images and uploads, sealed under the tenant's data key in the platform's document store (the
/// local folder, and an S3-compatible bucket reached with Signature V4 — a stand-in here), never served but through an
/// audited reveal.
@Suite("KYC files")
struct KYCFileTests {
    /// A phone photo's first bytes (a JPEG), padded to `size`.
    static func jpeg(_ size: Int = 600, marker: String = "MEMBER-PASSPORT-PHOTO") -> Data {
        var bytes = Data([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10]) + Data("JFIF\0".utf8) + Data(marker.utf8)
        bytes += Data(repeating: 0x42, count: max(0, size - bytes.count))
        return bytes
    }

    static func upload(
        _ planes: Planes, _ f: Planes.Fixture, member: String, token: String, kind: String? = "id_front", type: String? = "image/jpeg", bytes: Data,
        query extra: String = ""
    ) async throws -> Planes.Reply {
        var headers: HTTPFields = [.authorization: "Bearer \(token)", .xTenant: f.slug]
        if let type { headers[.contentType] = type }
        let query = (kind.map { "?kind=\($0)" } ?? "?") + extra
        return try await Planes.send(planes.dp, .post, "/v1/members/\(member)/kyc/files\(query)", raw: bytes, headers: headers)
    }

    @Test("uploads are sniffed, limited, sealed at rest and listed; bytes only through a recorded reveal by a role that may, in its own tenant")
    func localStore() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes(data: { $0.documentMaxBytes = 8192 }) { planes in
            let f = try await planes.provisionFixture(prefix: "kf")
            let member = f.members[0]
            let photo = Self.jpeg()
            let made = try await Self.upload(planes, f, member: member.id, token: member.token, bytes: photo)
            #expect(made.status == .created, "\(made.text)")
            #expect(made.json["kind"] as? String == "id_front" && made.json["media_type"] as? String == "image/jpeg")
            #expect(made.json["size_bytes"] as? Int == photo.count && made.json["uploaded_role"] as? String == "member")
            #expect(made.json["sha256"] as? String == SHA256.hash(data: photo).map { String(format: "%02x", $0) }.joined())
            let fileID = try #require(made.json["id"] as? String)

            // At rest: the object under the tenant's id, sealed (no plaintext marker), readable by this user only.
            let object = FileManager.default.temporaryDirectory
                .appendingPathComponent("nzila-test-documents-\(ProcessInfo.processInfo.processIdentifier)/\(f.tenantID)/kyc/\(fileID)")
            let stored = try Data(contentsOf: object)
            #expect(stored.range(of: Data("MEMBER-PASSPORT-PHOTO".utf8)) == nil && stored.count == photo.count + 28)

            // Refusals: every one clear, none writing anything.
            let mismatch = try await Self.upload(planes, f, member: member.id, token: member.token, type: "image/png", bytes: photo)
            #expect(mismatch.status == .unsupportedMediaType && mismatch.problemCode == "content-type-mismatch", "\(mismatch.text)")
            let html = try await Self.upload(planes, f, member: member.id, token: member.token, type: "text/html", bytes: Data("<script>".utf8))
            #expect(html.status == .unsupportedMediaType && html.problemCode == "unsupported-media-type")
            let disguised = try await Self.upload(planes, f, member: member.id, token: member.token, bytes: Data("<svg onload=alert(1)>".utf8))
            #expect(disguised.status == .unsupportedMediaType && disguised.problemCode == "content-type-mismatch")
            let kind = try await Self.upload(planes, f, member: member.id, token: member.token, kind: "passport_scan", bytes: photo)
            #expect(kind.status == .unprocessableContent && kind.text.contains("\"kind\""), "\(kind.text)")
            #expect(try await Self.upload(planes, f, member: member.id, token: member.token, kind: nil, bytes: photo).status == .unprocessableContent)
            #expect(try await Self.upload(planes, f, member: member.id, token: member.token, bytes: Data()).status == .unprocessableContent)
            let large = try await Self.upload(planes, f, member: member.id, token: member.token, bytes: Self.jpeg(8193))
            #expect(large.status == .contentTooLarge && large.problemCode == "payload-too-large" && large.text.contains("8192"), "\(large.text)")
            let elsewhere = try await Self.upload(planes, f, member: member.id, token: f.members[1].token, bytes: photo)
            #expect(elsewhere.status == .notFound, "another member's files are not there for this member")
            let notHers = try await Self.upload(planes, f, member: member.id, token: f.staffToken, bytes: photo, query: "&document=\(UUID().uuidString)")
            #expect(notHers.status == .unprocessableContent && notHers.text.contains("document"))

            // Staff attach a back side to recorded evidence.
            let passport = try await planes.data(
                .post, "/v1/members/\(member.id)/kyc/documents", token: f.staffToken, tenant: f.slug,
                json: ["kind": "passport", "number": "AB1234567", "issuing_country": "CA", "expires_on": "2031-05-01"])
            let documentID = try #require(passport.json["id"] as? String)
            let back = try await Self.upload(
                planes, f, member: member.id, token: f.staffToken, kind: "id_back", bytes: Self.jpeg(700, marker: "BACK"), query: "&document=\(documentID)")
            #expect(back.status == .created && back.json["document_id"] as? String == documentID && back.json["uploaded_role"] as? String == "tenant_admin")
            let backID = try #require(back.json["id"] as? String)

            let listed = try await planes.data(.get, "/v1/members/\(member.id)/kyc/files", token: member.token, tenant: f.slug)
            let files = (try? JSONSerialization.jsonObject(with: listed.body)) as? [[String: Any]] ?? []
            #expect(listed.status == .ok && Set(files.compactMap { $0["id"] as? String }) == [fileID, backID], "\(listed.text)")
            #expect(try await planes.data(.get, "/v1/members/\(member.id)/kyc/files", token: f.members[1].token, tenant: f.slug).status == .notFound)

            // Reveal: never to the member, never without a reason; the bytes as uploaded, not cached, not sniffed.
            let reveal = "/v1/members/\(member.id)/kyc/files/\(fileID)/reveal"
            #expect(try await planes.data(.post, reveal, token: member.token, tenant: f.slug, json: ["reason": "mine"]).status == .forbidden)
            #expect(try await planes.data(.post, reveal, token: f.staffToken, tenant: f.slug, json: ["reason": "  "]).status == .unprocessableContent)
            let shown = try await planes.data(.post, reveal, token: f.staffToken, tenant: f.slug, json: ["reason": "Checking the photo against the member at the branch"])
            #expect(shown.status == .ok && shown.body == photo, "\(shown.status)")
            #expect(shown.headers[.contentType] == "image/jpeg" && shown.headers[.cacheControl] == "no-store")
            #expect(shown.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff" && shown.headers[.contentDisposition]?.hasPrefix("attachment") == true)
            let detail = try await planes.data(.get, "/v1/members/\(member.id)/kyc/files/\(fileID)", token: f.staffToken, tenant: f.slug)
            let reveals = detail.json["reveals"] as? [[String: Any]] ?? []
            #expect(detail.status == .ok && reveals.count == 1 && reveals.first?["reason"] as? String == "Checking the photo against the member at the branch")
            #expect((detail.json["file"] as? [String: Any])?["reveals"] as? Int == 1)
            let audits = try await harness.owner.statement(
                """
                SELECT count(*)::int FROM control.audit_log WHERE tenant_id = \(UUID(uuidString: f.tenantID)!)
                    AND action = 'POST /v1/members/{id}/kyc/files/{id}/reveal'
                """, logger: harness.logger
            ) { try await $0.first(Int.self) }
            #expect(audits == 1)

            // Another tenant's staff find nothing, even naming this member and file.
            let g = try await planes.provisionFixture(prefix: "kg")
            let foreign = try await planes.data(.post, reveal, token: g.staffToken, tenant: g.slug, json: ["reason": "curious"])
            #expect(foreign.status == .notFound)
            #expect(try await planes.data(.get, "/v1/members/\(member.id)/kyc/files", token: g.staffToken, tenant: g.slug).status == .notFound)

            // An object put in another file's place does not open as that file; a missing object is said, not a 500.
            let backObject = object.deletingLastPathComponent().appendingPathComponent(backID)
            try stored.write(to: backObject)
            let swapped = try await planes.data(
                .post, "/v1/members/\(member.id)/kyc/files/\(backID)/reveal", token: f.staffToken, tenant: f.slug, json: ["reason": "check"])
            #expect(swapped.status == .conflict && swapped.problemCode == "sealed-data-mismatch", "\(swapped.text)")
            try FileManager.default.removeItem(at: backObject)
            let missing = try await planes.data(
                .post, "/v1/members/\(member.id)/kyc/files/\(backID)/reveal", token: f.staffToken, tenant: f.slug, json: ["reason": "check"])
            #expect(missing.status == .conflict && missing.problemCode == "document-missing")
        }
    }

    /// An S3-compatible bucket: objects in memory, every request's Signature V4 checked with the secret it was given,
    /// the payload hash checked against the body, server-side encryption required on every PUT.
    final class S3StandIn: Sendable {
        static let accessKey = "AKIDNZILATEST"
        static let secret = "s3-stand-in-secret/Kyc+93"
        struct Object: Sendable {
            let bytes: Data
            let encryption: String
        }

        let objects = Mutex<[String: Object]>([:])
        /// The next this many requests answer 503.
        let failures = Mutex(0)
        let refused = Mutex(0)

        var application: some ApplicationProtocol {
            let router = Router()
            let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
                let body = Data(buffer: try await request.body.collect(upTo: 64 << 20))
                if self.failures.withLock({ count in
                    defer { count = max(0, count - 1) }
                    return count > 0
                }) { return Response(status: .serviceUnavailable) }
                var headers: [String: String] = [:]
                for field in request.headers { headers[field.name.canonicalName] = field.value }
                // HTTP/1's Host arrives as the request's authority.
                headers["host"] = request.head.authority
                let signer = SignatureV4(accessKeyID: Self.accessKey, secret: Self.secret, region: "ca-central-1", service: "s3")
                guard let authorization = headers["authorization"], authorization.contains("Credential=\(Self.accessKey)/"),
                    signer.verifies(
                        authorization: authorization, method: request.method.rawValue, path: request.uri.path, query: [],
                        headers: headers.filter { $0.key != "authorization" }, payload: body),
                    headers["x-amz-content-sha256"] == SHA256.hash(data: body).map({ String(format: "%02x", $0) }).joined()
                else {
                    self.refused.withLock { $0 += 1 }
                    return Response(
                        status: .forbidden, headers: [.contentType: "application/xml"],
                        body: .init(byteBuffer: ByteBuffer(string: "<Error><Code>SignatureDoesNotMatch</Code></Error>")))
                }
                let key = request.uri.path
                switch request.method {
                case .put:
                    guard let encryption = headers["x-amz-server-side-encryption"], encryption == "AES256" else {
                        return Response(status: .badRequest)
                    }
                    self.objects.withLock { $0[key] = Object(bytes: body, encryption: encryption) }
                    return Response(status: .ok, headers: [HTTPField.Name("ETag")!: "\"\(UUID().uuidString)\""])
                case .delete:
                    // As S3: 204 whether or not there was an object.
                    self.objects.withLock { $0[key] = nil }
                    return Response(status: .noContent)
                default:
                    guard let object = self.objects.withLock({ $0[key] }) else {
                        return Response(status: .notFound, body: .init(byteBuffer: ByteBuffer(string: "<Error><Code>NoSuchKey</Code></Error>")))
                    }
                    return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: object.bytes)))
                }
            }
            router.put("/{bucket}/{tenant}/kyc/{file}", use: handler)
            router.get("/{bucket}/{tenant}/kyc/{file}", use: handler)
            router.delete("/{bucket}/{tenant}/kyc/{file}", use: handler)
            return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        }
    }

    @Test("an S3-compatible store: signed requests, encryption asked, 503s tried again, an unreachable store a 503 with nothing recorded, no secret logged")
    func s3Store() async throws {
        let harness = try await Harness.get()
        let standIn = S3StandIn()
        let lines = ObservabilityTests.Lines()
        var capturing = Logger(label: "nzila.data-plane.test") { JSONLogHandler(label: $0, write: { lines.add($0) }) }
        capturing.logLevel = .debug
        let logger = capturing
        try await standIn.application.test(.live) { api in
            let store = try DocumentStores.configured(
                environment: [
                    "NZILA_DOCUMENTS": "s3://kyc-test", "NZILA_DOCUMENTS_ENDPOINT": "http://127.0.0.1:\(api.port!)", "NZILA_DOCUMENTS_REGION": "ca-central-1",
                    "NZILA_DOCUMENTS_CREDENTIAL": "env:KYC_S3", "KYC_S3": "\(S3StandIn.accessKey):\(S3StandIn.secret)",
                ], stateDirectory: "/nonexistent")
            try await harness.withPlanes(dataLogger: logger, documents: store) { planes in
                let f = try await planes.provisionFixture(prefix: "ks")
                let member = f.members[0]
                let photo = Self.jpeg(5000)
                let made = try await Self.upload(planes, f, member: member.id, token: member.token, kind: "selfie", bytes: photo)
                #expect(made.status == .created, "\(made.text)")
                let fileID = try #require(made.json["id"] as? String)
                let object = try #require(standIn.objects.withLock { $0["/kyc-test/\(f.tenantID)/kyc/\(fileID)"] })
                #expect(object.encryption == "AES256" && object.bytes.range(of: Data("MEMBER-PASSPORT-PHOTO".utf8)) == nil)

                // One 503 is tried again; the member never sees it.
                standIn.failures.withLock { $0 = 1 }
                #expect(try await Self.upload(planes, f, member: member.id, token: member.token, kind: "id_front", bytes: photo).status == .created)

                let shown = try await planes.data(
                    .post, "/v1/members/\(member.id)/kyc/files/\(fileID)/reveal", token: f.staffToken, tenant: f.slug, json: ["reason": "Selfie review"])
                #expect(shown.status == .ok && shown.body == photo)

                // A store down for good: 503 with Retry-After, and no file recorded.
                standIn.failures.withLock { $0 = 10 }
                let down = try await Self.upload(planes, f, member: member.id, token: member.token, kind: "id_back", bytes: photo)
                #expect(down.status == .serviceUnavailable && down.problemCode == "document-store-unavailable" && down.headers[.retryAfter] != nil)
                standIn.failures.withLock { $0 = 0 }
                let listed = try await planes.data(.get, "/v1/members/\(member.id)/kyc/files", token: member.token, tenant: f.slug)
                #expect(((try? JSONSerialization.jsonObject(with: listed.body)) as? [Any])?.count == 2)
                // A signed DELETE removes an object (a key rotation's replaced one); a second is no error.
                let replaced = "\(f.tenantID)/kyc/\(fileID)-k9"
                try await store.put(replaced, Data("old".utf8))
                #expect(standIn.objects.withLock { $0["/kyc-test/\(replaced)"] } != nil)
                try await store.delete(replaced)
                try await store.delete(replaced)
                #expect(standIn.objects.withLock { $0["/kyc-test/\(replaced)"] } == nil)
            }
            // The wrong secret is refused by the bucket, and said as unavailable without the secret.
            let wrong = try S3DocumentStore(
                endpoint: "http://127.0.0.1:\(api.port!)", bucket: "kyc-test", region: "ca-central-1", accessKeyID: S3StandIn.accessKey,
                secret: "wrong-secret-value-77")
            try await harness.withPlanes(dataLogger: logger, documents: wrong) { planes in
                let f = try await planes.provisionFixture(prefix: "kw")
                let refused = try await Self.upload(planes, f, member: f.members[0].id, token: f.members[0].token, bytes: Self.jpeg())
                #expect(refused.status == .serviceUnavailable && refused.problemCode == "document-store-unavailable")
                #expect(standIn.refused.withLock { $0 } >= 1)
            }
        }
        let log = lines.all.withLock { $0.joined(separator: "\n") }
        #expect(log.contains("document store write failed"), "the failure is logged")
        #expect(!log.contains(S3StandIn.secret) && !log.contains("wrong-secret-value-77"), "no secret in the data plane's log")
    }
}
