import DataPlane
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWTKit
import NIOCore
import NzilaCore
import NzilaTestSupport
import Synchronization
import Testing

/// Member notifications end to end: the sandbox of `nzila dev` (what would have been sent, per
/// preferences, locale and the SMS fallback), and the real adapters against a stand-in of each
/// provider's API.
@Suite("Member notifications")
struct NotificationTests {
    static func notifications(_ planes: Planes, _ f: Planes.Fixture, token: String? = nil, member: String? = nil) async throws -> [[String: Any]] {
        let reply = try await planes.data(
            .get, "/v1/notifications" + (member.map { "?member_id=\($0)" } ?? ""), token: token ?? f.staffToken, tenant: f.slug)
        try #require(reply.status == .ok, "\(reply.text)")
        return reply.json["data"] as? [[String: Any]] ?? []
    }

    /// Waits for a notification of this member whose template is `template` (and that `matching` accepts).
    static func waitFor(
        _ planes: Planes, _ f: Planes.Fixture, member: String, template: String, count: Int = 1, sourceLocation: SourceLocation = #_sourceLocation,
        _ matching: @escaping ([String: Any]) -> Bool = { _ in true }
    ) async throws -> [[String: Any]] {
        var seen: [[String: Any]] = []
        let found = try await eventually {
            seen = try await notifications(planes, f, member: member)
            return seen.filter { $0["template"] as? String == template && $0["status"] as? String != "pending" && matching($0) }.count >= count
        }
        try #require(found, "no \(template) for \(member): \(seen)", sourceLocation: sourceLocation)
        return seen.filter { $0["template"] as? String == template && matching($0) }
    }

    /// A member with a phone number and a chequing account.
    static func memberWithPhone(_ planes: Planes, _ f: Planes.Fixture, phone: String) async throws -> (id: String, account: String) {
        let member = try await planes.data(
            .post, "/v1/members", token: f.staffToken, tenant: f.slug,
            json: ["email": "phone@\(f.slug).test", "full_name": "Amara Phone", "phone": phone, "password": "member password 9!"])
        try #require(member.status == .created, "\(member.text)")
        let id = try #require(member.json["id"] as? String)
        let account = try await planes.data(.post, "/v1/accounts", token: f.staffToken, tenant: f.slug, json: ["kind": "chequing", "currency": "CAD", "member_id": id])
        return (id, try #require(account.json["id"] as? String))
    }

    static func deposit(_ planes: Planes, _ f: Planes.Fixture, account: String, minor: Int) async throws {
        let reply = try await planes.data(
            .post, "/v1/deposits", token: f.staffToken, tenant: f.slug, json: ["account_id": account, "amount": minor, "currency": "CAD"],
            headers: [.idempotencyKey: UUID().uuidString])
        try #require(reply.status == .created, "\(reply.text)")
    }

    @Test("the sandbox records each message per the member's devices, locale and choices; a large movement falls back to SMS; members see only their own")
    func sandbox() async throws {
        let harness = try await Harness.get()
        try await harness.withPlanes(relay: true) { planes in
            let f = try await planes.provisionFixture(prefix: "nt")
            let (ada, quiet) = (f.members[0], f.members[1])
            let device = try await planes.data(
                .post, "/v1/devices", token: ada.token, tenant: f.slug, json: ["platform": "fcm", "token": "fcm-token-ada-0123456789abcdef"])
            #expect(device.status == .created && device.json["token_hint"] as? String == "…abcdef" && !device.text.contains("0123456789"), "\(device.text)")
            let french = try await planes.data(.put, "/v1/members/\(ada.id)/notification-preferences", token: ada.token, tenant: f.slug, json: ["locale": "fr-CA"])
            #expect(french.json["locale"] as? String == "fr-CA" && (french.json["categories"] as? [String: Any])?.count == 7, "\(french.text)")
            let phone = try await Self.memberWithPhone(planes, f, phone: "+15145550123")

            // The quiet member (no device, no phone) is told nothing of a small deposit; Ada, after
            // them, is pushed in French — once hers is planned, theirs would have been.
            try await Self.deposit(planes, f, account: quiet.accountID, minor: 5_000)
            try await Self.deposit(planes, f, account: ada.accountID, minor: 123_45)
            let pushed = try await Self.waitFor(planes, f, member: ada.id, template: "deposit_received")
            #expect(pushed.count == 1, "\(pushed)")
            let message = pushed[0]
            #expect(message["channel"] as? String == "push" && message["status"] as? String == "recorded" && message["provider"] as? String == "sandbox-push")
            #expect(message["locale"] as? String == "fr-CA" && message["title"] as? String == "Argent reçu", "\(message)")
            #expect((message["body"] as? String)?.contains("123,45 CAD") == true && message["recipient_hint"] as? String == "…abcdef", "\(message)")
            #expect(try await Self.notifications(planes, f, member: quiet.id).isEmpty)

            // A large deposit to a member without a device goes by SMS, whatever their choices.
            try await Self.deposit(planes, f, account: phone.account, minor: 150_000)
            let large = try await Self.waitFor(planes, f, member: phone.id, template: "large_transaction")
            #expect(large.count == 1 && large[0]["channel"] as? String == "sms" && large[0]["critical"] as? Bool == true, "\(large)")
            #expect(large[0]["recipient_hint"] as? String == "•••• 0123" && (large[0]["body"] as? String)?.contains("1,500.00 CAD") == true, "\(large)")

            // Ada turns deposit notices off: a small one says nothing; a large one still reaches her phone.
            let off = try await planes.data(
                .put, "/v1/members/\(ada.id)/notification-preferences", token: ada.token, tenant: f.slug,
                json: ["categories": ["deposits": ["push": false, "sms": false, "email": false]]])
            #expect((off.json["categories"] as? [String: [String: Bool]])?["deposits"]?["push"] == false && off.json["locale"] as? String == "fr-CA", "\(off.text)")
            try await Self.deposit(planes, f, account: ada.accountID, minor: 700)
            try await Self.deposit(planes, f, account: ada.accountID, minor: 250_000)
            let critical = try await Self.waitFor(planes, f, member: ada.id, template: "large_transaction")
            #expect(critical.count == 1 && critical[0]["channel"] as? String == "push" && critical[0]["title"] as? String == "Transaction importante")
            #expect(try await Self.waitFor(planes, f, member: ada.id, template: "deposit_received").count == 1, "the small deposit said nothing")

            // A remittance's delivery, in her language.
            let placed = try await planes.remit(f)
            try #require(placed.status == .created, "\(placed.text)")
            try await planes.drain(f)
            let delivered = try await Self.waitFor(planes, f, member: ada.id, template: "remittance_delivered")
            #expect(delivered.first?["title"] as? String == "Transfert livré")

            // Members see their own; staff see all.
            let hers = try await Self.notifications(planes, f, token: ada.token)
            #expect(!hers.isEmpty && hers.allSatisfy { $0["member_id"] as? String == ada.id })
            #expect(try await Self.notifications(planes, f, token: quiet.token).isEmpty)
            #expect(try await Self.notifications(planes, f).count >= hers.count + 1)
            #expect(try await planes.data(.get, "/v1/notifications", token: ada.token, tenant: f.slug).text.contains("0123456789") == false)

            // Removing the device: the next critical message falls back to SMS… which Ada has no
            // phone for, so it goes by e-mail.
            let devices = try await planes.data(.get, "/v1/devices", token: ada.token, tenant: f.slug)
            let deviceID = try #require((devices.json["data"] as? [[String: Any]])?.first?["id"] as? String)
            #expect(try await planes.data(.delete, "/v1/devices/\(deviceID)", token: quiet.token, tenant: f.slug).status == .notFound)
            #expect(try await planes.data(.delete, "/v1/devices/\(deviceID)", token: ada.token, tenant: f.slug).status == .noContent)
            try await Self.deposit(planes, f, account: ada.accountID, minor: 300_000)
            let mailed = try await Self.waitFor(planes, f, member: ada.id, template: "large_transaction", count: 2)
            #expect(mailed.contains { $0["channel"] as? String == "email" && ($0["recipient_hint"] as? String)?.hasPrefix("m•••@") == true }, "\(mailed)")
        }
    }

    @Test("reminders: the day before a tontine contribution and a loan instalment fall due, each member whose money is not in is told once, in their language")
    func reminders() async throws {
        let harness = try await Harness.get()
        let clock = MovableClock(frozenAt: TontineEndToEndTests.start)  // 2027-01-04 10:00 UTC
        let control = harness.controlPlane(clock: .movable(clock), adjust: { $0.tokenLifetimeSeconds = 400 * 86_400 })
        try await harness.withPlanes(control: control, data: { $0.tokenLifetimeSeconds = 400 * 86_400 }, clock: clock, relay: true) { planes in
            let f = try await planes.provisionFixture(prefix: "nr")
            // Three members in a weekly circle whose first cycle is due tomorrow, 2027-01-05; the
            // first reads French; the second has already paid.
            let (people, circle, _) = try await planes.startedCircle(f, count: 3)
            for (index, person) in people.enumerated() {
                let device = try await planes.data(
                    .post, "/v1/devices", token: person.token, tenant: f.slug, json: ["platform": "fcm", "token": "fcm-reminder-\(index)-0123456789abcdef"])
                try #require(device.status == .created, "\(device.text)")
            }
            let french = try await planes.data(.put, "/v1/members/\(people[0].id)/notification-preferences", token: people[0].token, tenant: f.slug, json: ["locale": "fr-CA"])
            try #require(french.status == .ok, "\(french.text)")
            let paid = try await planes.contribute(f, circle, cycle: 1, people[1])
            try #require(paid.status == .created, "\(paid.text)")

            try await planes.tontineDrain(f)
            try await planes.tontineDrain(f)
            let first = try await Self.waitFor(planes, f, member: people[0].id, template: "tontine_due")
            #expect(first.count == 1 && first[0]["title"] as? String == "Cotisation à verser", "\(first)")
            let firstBody = first[0]["body"] as? String ?? ""
            #expect(firstBody.hasPrefix("Votre cotisation de 100,00 CAD au cycle 1 de votre cercle ") && firstBody.hasSuffix(" est due le 5 janvier 2027."), "\(first)")
            let third = try await Self.waitFor(planes, f, member: people[2].id, template: "tontine_due")
            #expect(third.count == 1 && (third[0]["body"] as? String)?.hasPrefix("Your 100.00 CAD contribution to cycle 1 of your ") == true
                && (third[0]["body"] as? String)?.hasSuffix(" circle is due on January 5, 2027.") == true, "\(third)")
            let topics = try await planes.outboxTopics(f, aggregate: circle)
            #expect(topics.filter { $0 == "tontine.contribution_due.v1" }.count == 1, "one reminder for the cycle, however often the scheduler looks: \(topics)")

            // A loan for the member who paid: disbursed today, its first instalment due 2027-02-04.
            try await planes.setConfigSection(f, "lending", ["approve_at": 300, "decline_below": 300])
            let product = try await planes.loanProduct(f)
            let ben = f.members[1]
            #expect(ben.id == people[1].id)
            let loan = try #require(try await planes.apply(f, product, ben).json["id"] as? String)
            let disbursed = try await planes.data(.post, "/v1/loans/\(loan)/disburse", token: f.staffToken, tenant: f.slug, headers: [.idempotencyKey: UUID().uuidString])
            try #require(disbursed.status == .ok, "\(disbursed.text)")
            // 2027-02-02: nothing yet; 2027-02-03, the day before: reminded, once, whatever the scheduler does.
            planes.clock.advance(seconds: 29 * 86_400)
            try await planes.loanDrain(f)
            #expect(try await planes.outboxTopics(f, aggregate: loan).contains("loan.instalment_due.v1") == false)
            planes.clock.advance(seconds: 86_400)
            try await planes.loanDrain(f)
            try await planes.loanDrain(f)
            let due = try await Self.waitFor(planes, f, member: ben.id, template: "loan_due")
            #expect(due.count == 1 && due[0]["title"] as? String == "Payment due" && due[0]["channel"] as? String == "push", "\(due)")
            let dueBody = due[0]["body"] as? String ?? ""
            #expect(dueBody.hasPrefix("Instalment 1 of your ") && dueBody.hasSuffix(" loan, 88.85 CAD, is due on February 4, 2027."), "\(due)")
            // The due day: paid on time, the instalment is not reminded again.
            planes.clock.advance(seconds: 86_400)
            #expect(try await planes.repay(f, loan, 8_885, ben).status == .created)
            try await planes.loanDrain(f)
            #expect(try await planes.outboxTopics(f, aggregate: loan).filter { $0 == "loan.instalment_due.v1" }.count == 1)
            #expect(try await Self.notifications(planes, f, member: people[1].id).contains { $0["template"] as? String == "tontine_due" && ($0["body"] as? String)?.contains("cycle 1 ") == true } == false,
                    "the member who paid cycle 1 was not reminded of it")
        }
    }

    /// A stand-in of FCM, APNs, Twilio and SendGrid, each checking what its real API checks first.
    final class Providers: Sendable {
        let calls = Mutex<[(provider: String, headers: [String: String], body: String)]>([])

        func got(_ provider: String) -> [(provider: String, headers: [String: String], body: String)] { calls.withLock { $0.filter { $0.provider == provider } } }

        func application() -> some ApplicationProtocol {
            let router = Router()
            @Sendable func record(_ provider: String, _ request: Request) async throws -> (headers: [String: String], body: String) {
                let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
                var headers: [String: String] = [:]
                for field in request.headers { headers[field.name.canonicalName.lowercased()] = field.value }
                calls.withLock { $0.append((provider, headers, body)) }
                return (headers, body)
            }
            @Sendable func answer(_ status: Int, _ json: String, _ headers: HTTPFields = [:]) -> Response {
                var fields = headers
                fields[.contentType] = "application/json"
                return Response(status: .init(code: status), headers: fields, body: .init(byteBuffer: ByteBuffer(string: json)))
            }
            router.post("/fcm/v1/projects/nzila-test/messages:send") { request, _ -> Response in
                let (headers, body) = try await record("fcm", request)
                guard headers["authorization"] == "Bearer fcm-access" else { return answer(401, #"{"error":{"status":"UNAUTHENTICATED"}}"#) }
                if body.contains("gone-token") { return answer(404, #"{"error":{"status":"NOT_FOUND","details":[{"errorCode":"UNREGISTERED"}]}}"#) }
                return answer(200, #"{"name":"projects/nzila-test/messages/0:1"}"#)
            }
            router.post("/apns/3/device/{token}") { request, context -> Response in
                let (headers, _) = try await record("apns", request)
                guard headers["authorization"] == "bearer apns-provider", headers["apns-topic"] == "dev.nzila.app" else { return answer(403, #"{"reason":"InvalidProviderToken"}"#) }
                if context.parameters.get("token")?.hasPrefix("apns-gone") == true { return answer(410, #"{"reason":"Unregistered"}"#) }
                return answer(200, "{}", [HTTPField.Name("apns-id")!: "apns-1"])
            }
            router.post("/twilio/2010-04-01/Accounts/AC123/Messages.json") { request, _ -> Response in
                let (headers, _) = try await record("twilio", request)
                guard headers["authorization"] == "Basic " + Data("AC123:twilio-secret".utf8).base64EncodedString() else { return answer(401, #"{"code":20003}"#) }
                return answer(201, #"{"sid":"SM1","status":"queued"}"#)
            }
            router.post("/sendgrid/v3/mail/send") { request, _ -> Response in
                let (headers, _) = try await record("sendgrid", request)
                guard headers["authorization"] == "Bearer SG.key" else { return answer(401, #"{"errors":[]}"#) }
                return answer(202, "", [HTTPField.Name("X-Message-Id")!: "sg-1"])
            }
            return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        }
    }

    @Test("the FCM, APNs, Twilio and SendGrid adapters speak each API to a stand-in; an unregistered token removes its device")
    func providers() async throws {
        let harness = try await Harness.get()
        let providers = Providers()
        try await providers.application().test(.live) { standIn in
            let base = "http://127.0.0.1:\(standIn.port!)"
            let notifiers = Notifiers(
                fcm: FCMNotifier(baseURL: "\(base)/fcm", project: "nzila-test", accessToken: { "fcm-access" }),
                apns: APNsNotifier(baseURL: "\(base)/apns", topic: "dev.nzila.app", providerToken: { "apns-provider" }),
                sms: TwilioSMSNotifier(baseURL: "\(base)/twilio", accountSID: "AC123", authToken: "twilio-secret", from: "+15145550000"),
                email: SendGridEmailNotifier(baseURL: "\(base)/sendgrid", apiKey: "SG.key", from: "no-reply@nzila.dev"))
            try await harness.withPlanes(relay: true, notifiers: notifiers) { planes in
                let f = try await planes.provisionFixture(prefix: "np")
                let ada = f.members[0]
                for (platform, token) in [("fcm", "fcm-token-ada-0123456789abcdef"), ("apns", "apns-gone-0123456789abcdef")] {
                    let made = try await planes.data(.post, "/v1/devices", token: ada.token, tenant: f.slug, json: ["platform": platform, "token": token])
                    #expect(made.status == .created, "\(made.text)")
                }
                _ = try await planes.data(
                    .put, "/v1/members/\(ada.id)/notification-preferences", token: ada.token, tenant: f.slug,
                    json: ["categories": ["deposits": ["push": true, "sms": true, "email": true]]])
                try await Self.deposit(planes, f, account: ada.accountID, minor: 4_200)
                let sent = try await Self.waitFor(planes, f, member: ada.id, template: "deposit_received", count: 3)
                let byChannel = Dictionary(grouping: sent, by: { "\($0["channel"] ?? "")/\($0["provider"] ?? "")" })
                #expect(byChannel["push/fcm"]?.first?["status"] as? String == "sent", "\(sent)")
                #expect(byChannel["push/apns"]?.first?["status"] as? String == "failed", "\(sent)")
                #expect(byChannel["email/sendgrid"]?.first?["status"] as? String == "sent", "\(sent)")
                #expect(!sent.contains { $0["channel"] as? String == "sms" }, "Ada has no phone")

                let fcm = try #require(providers.got("fcm").first)
                let message = try #require((try JSONSerialization.jsonObject(with: Data(fcm.body.utf8)) as? [String: Any])?["message"] as? [String: Any])
                #expect(message["token"] as? String == "fcm-token-ada-0123456789abcdef")
                #expect((message["notification"] as? [String: String])?["title"] == "Money in" && (message["data"] as? [String: String])?["event_type"] == "account.balance_changed.v1")
                let mail = try #require(providers.got("sendgrid").first)
                #expect(mail.body.contains("member0@\(f.slug).test") && mail.body.contains("\"subject\":\"Money in\""), "\(mail.body)")
                // APNs said the token is gone: the device is removed.
                let devices = try await planes.data(.get, "/v1/devices", token: ada.token, tenant: f.slug)
                #expect((devices.json["data"] as? [[String: Any]])?.map { $0["platform"] as? String } == ["fcm"], "\(devices.text)")

                // A critical message whose only push fails for good (the token is gone) goes by SMS,
                // through Twilio's form-encoded API; staff registered that device at the branch.
                let phone = try await Self.memberWithPhone(planes, f, phone: "+15145550123")
                let branch = try await planes.data(
                    .post, "/v1/devices", token: f.staffToken, tenant: f.slug, json: ["platform": "apns", "token": "apns-gone-phone-0123456789", "member_id": phone.id])
                #expect(branch.status == .created, "\(branch.text)")
                try await Self.deposit(planes, f, account: phone.account, minor: 200_000)
                let large = try await Self.waitFor(planes, f, member: phone.id, template: "large_transaction", count: 2)
                #expect(large.contains { $0["channel"] as? String == "push" && $0["status"] as? String == "failed" }, "\(large)")
                let sms = large.filter { $0["channel"] as? String == "sms" }
                #expect(sms.count == 1 && sms.first?["status"] as? String == "sent" && sms.first?["provider"] as? String == "twilio", "\(large)")
                #expect(sms.first?["recipient_hint"] as? String == "•••• 0123")
                let twilio = try #require(providers.got("twilio").first)
                #expect(twilio.body.contains("To=%2B15145550123") && twilio.body.contains("From=%2B15145550000") && twilio.body.contains("Body=Large%20transaction"), "\(twilio.body)")
            }
        }
    }
}

/// The push providers' short-lived credentials, made from the operator's keys.
@Suite("Push provider tokens")
struct ProviderTokenTests {
    struct APNsClaims: JWTPayload {
        let iss: String
        let iat: Int
        func verify(using algorithm: some JWTAlgorithm) throws {}
    }

    struct GoogleClaims: JWTPayload {
        let iss: String
        let scope: String
        let aud: String
        let iat: Int
        let exp: Int
        func verify(using algorithm: some JWTAlgorithm) throws {}
    }

    static func header(_ token: String) throws -> [String: Any] {
        var part = String(token.split(separator: ".")[0]).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while part.count % 4 != 0 { part += "=" }
        let data = try #require(Data(base64Encoded: part))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test("APNs: an ES256 JWT {iss: team, iat} with the key id, signed by the .p8 key and kept 50 minutes")
    func apns() async throws {
        let clock = MovableClock(frozenAt: Date(timeIntervalSince1970: 1_800_000_000))
        let key = ES256PrivateKey()
        let provider = try APNsProviderToken(teamID: "TEAM123456", keyID: "KEY1234567", privateKeyPEM: key.pemRepresentation, now: { clock.now() })
        let first = try await provider.token()
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: key.publicKey, kid: JWKIdentifier(string: "KEY1234567"))
        let claims = try await keys.verify(first, as: APNsClaims.self)
        #expect(claims.iss == "TEAM123456" && claims.iat == 1_800_000_000)
        let header = try Self.header(first)
        #expect(header["alg"] as? String == "ES256" && header["kid"] as? String == "KEY1234567")
        clock.advance(seconds: 49 * 60)
        #expect(try await provider.token() == first)
        clock.advance(seconds: 2 * 60)
        let second = try await provider.token()
        let later = try await keys.verify(second, as: APNsClaims.self)
        #expect(second != first && later.iat == 1_800_000_000 + 51 * 60)
    }

    @Test("FCM: the service account's RS256 assertion is exchanged at its token URI for an access token, kept until 5 minutes before it expires")
    func google() async throws {
        // A throwaway RSA key, made for this test.
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]
        let pipe = Pipe()
        openssl.standardOutput = pipe
        try openssl.run()
        let pem = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        openssl.waitUntilExit()
        try #require(pem.contains("PRIVATE KEY"), "openssl made no key")
        let publicKeys = JWTKeyCollection()
        await publicKeys.add(rsa: try Insecure.RSA.PrivateKey(pem: pem).publicKey, digestAlgorithm: .sha256)

        let issued = Mutex(0)
        let router = Router()
        router.post("/token") { request, _ -> Response in
            let form = String(buffer: try await request.body.collect(upTo: 1 << 16))
            var fields: [String: String] = [:]
            for pair in form.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? "" }
                if parts.count == 2 { fields[parts[0]] = parts[1] }
            }
            guard fields["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer", let assertion = fields["assertion"],
                let claims = try? await publicKeys.verify(assertion, as: GoogleClaims.self),
                claims.iss == "push@nzila-test.iam.gserviceaccount.com", claims.scope == GoogleServiceAccountToken.scope, claims.exp - claims.iat == 3_600
            else { return Response(status: .badRequest) }
            let count = issued.withLock { $0 += 1; return $0 }
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"access_token":"ya29.test-\#(count)","expires_in":3600,"token_type":"Bearer"}"#)))
        }
        try await Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { server in
            let clock = MovableClock(frozenAt: Date(timeIntervalSince1970: 1_800_000_000))
            let file = try JSONSerialization.data(withJSONObject: [
                "type": "service_account", "client_email": "push@nzila-test.iam.gserviceaccount.com", "private_key": pem,
                "token_uri": "http://127.0.0.1:\(server.port!)/token",
            ])
            let account = try GoogleServiceAccountToken(serviceAccountJSON: file, now: { clock.now() })
            #expect(try await account.token() == "ya29.test-1")
            clock.advance(seconds: 54 * 60)
            #expect(try await account.token() == "ya29.test-1", "kept while more than 5 minutes remain")
            clock.advance(seconds: 2 * 60)
            #expect(try await account.token() == "ya29.test-2")
        }
    }
}
