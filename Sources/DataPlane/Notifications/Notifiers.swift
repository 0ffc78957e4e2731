import AsyncHTTPClient
import Foundation
import NIOCore
import NzilaCore

/// One message to one address on one channel, as a provider receives it.
public struct OutboundNotification: Sendable, Equatable {
    public let channel: NotificationChannel
    /// A device token (push), a phone number in E.164 (SMS) or an e-mail address.
    public let to: String
    public let title: String
    public let body: String
    /// Extra keys the app reads (the event's type and seq): never personal data.
    public let data: [String: String]
    /// The tenant's display name (the e-mail's sender name).
    public let sender: String
}

public enum NotifierOutcome: Sendable, Equatable {
    /// Accepted by the provider (its message id, if it gave one).
    case sent(String?)
    /// Kept by the sandbox instead of sent.
    case recorded
    /// Refused; `retry` when it may pass (a 5xx, a 429, a timeout).
    case failed(String, retry: Bool)
    /// The provider says the device token is no longer valid: the device is removed.
    case unregistered
}

/// A provider for one channel. Real ones speak the provider's published HTTP API; the sandbox
/// records what would have been sent (`nzila dev`, and any channel without a provider configured).
public protocol Notifier: Sendable {
    var name: String { get }
    func send(_ message: OutboundNotification) async -> NotifierOutcome
}

/// The sandbox: nothing leaves the machine; the message is recorded (`GET /v1/notifications`).
public struct SandboxNotifier: Notifier {
    public let name: String
    public init(_ channel: NotificationChannel) { name = "sandbox-\(channel.rawValue)" }
    public func send(_ message: OutboundNotification) async -> NotifierOutcome { .recorded }
}

/// Shared HTTP plumbing of the adapters.
enum ProviderHTTP {
    static func post(
        _ url: String, headers: [(String, String)], body: Data, timeout: Int64 = 10
    ) async -> (status: Int, headers: [(String, String)], body: Data)? {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(timeout))
            let bytes = try await response.body.collect(upTo: 1 << 20)
            return (Int(response.status.code), response.headers.map { ($0.name, $0.value) }, Data(buffer: bytes))
        } catch {
            return nil
        }
    }

    static func outcome(_ status: Int, _ body: Data, what: String) -> NotifierOutcome {
        let text = String(decoding: body.prefix(300), as: UTF8.self)
        return .failed("\(what) answered HTTP \(status): \(text)", retry: status == 429 || status >= 500)
    }

    static func json(_ object: Any) -> Data { (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data() }
}

/// Firebase Cloud Messaging, HTTP v1: `POST {base}/v1/projects/{project}/messages:send` with an
/// OAuth bearer token; `{"message":{"token","notification":{"title","body"},"data"}}` → 200
/// `{"name": "projects/…/messages/…"}`; 404 `UNREGISTERED` (or 400 naming an invalid token) means
/// the token is gone.
public struct FCMNotifier: Notifier {
    public let name = "fcm"
    let baseURL: String
    let project: String
    let accessToken: @Sendable () async throws -> String

    public init(baseURL: String, project: String, accessToken: @escaping @Sendable () async throws -> String) {
        self.baseURL = baseURL
        self.project = project
        self.accessToken = accessToken
    }

    public func send(_ message: OutboundNotification) async -> NotifierOutcome {
        guard let token = try? await accessToken() else { return .failed("FCM: no access token", retry: true) }
        let body = ProviderHTTP.json([
            "message": ["token": message.to, "notification": ["title": message.title, "body": message.body], "data": message.data] as [String: Any]
        ])
        guard let answer = await ProviderHTTP.post(
            "\(baseURL)/v1/projects/\(project)/messages:send", headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")], body: body)
        else { return .failed("FCM: no answer", retry: true) }
        if answer.status == 200 {
            let name = ((try? JSONSerialization.jsonObject(with: answer.body)) as? [String: Any])?["name"] as? String
            return .sent(name)
        }
        let text = String(decoding: answer.body, as: UTF8.self)
        if answer.status == 404 || (answer.status == 400 && text.contains("registration token")) || text.contains("UNREGISTERED") { return .unregistered }
        return ProviderHTTP.outcome(answer.status, answer.body, what: "FCM")
    }
}

/// Apple Push Notification service: `POST {base}/3/device/{token}` with `apns-topic`,
/// `apns-push-type: alert` and a provider token (`authorization: bearer …`); `{"aps":{"alert":{"title","body"}}}`
/// → 200 with `apns-id`; 410 (`Unregistered`) or 400 `BadDeviceToken` means the token is gone.
public struct APNsNotifier: Notifier {
    public let name = "apns"
    let baseURL: String
    let topic: String
    let providerToken: @Sendable () async throws -> String

    public init(baseURL: String, topic: String, providerToken: @escaping @Sendable () async throws -> String) {
        self.baseURL = baseURL
        self.topic = topic
        self.providerToken = providerToken
    }

    public func send(_ message: OutboundNotification) async -> NotifierOutcome {
        guard let token = try? await providerToken() else { return .failed("APNs: no provider token", retry: true) }
        var payload: [String: Any] = ["aps": ["alert": ["title": message.title, "body": message.body], "sound": "default"]]
        for (key, value) in message.data { payload[key] = value }
        guard let answer = await ProviderHTTP.post(
            "\(baseURL)/3/device/\(message.to)",
            headers: [("authorization", "bearer \(token)"), ("apns-topic", topic), ("apns-push-type", "alert"), ("apns-priority", "10"), ("Content-Type", "application/json")],
            body: ProviderHTTP.json(payload))
        else { return .failed("APNs: no answer", retry: true) }
        if answer.status == 200 { return .sent(answer.headers.first { $0.0.lowercased() == "apns-id" }?.1) }
        let text = String(decoding: answer.body, as: UTF8.self)
        if answer.status == 410 || text.contains("BadDeviceToken") || text.contains("Unregistered") { return .unregistered }
        return ProviderHTTP.outcome(answer.status, answer.body, what: "APNs")
    }
}

/// Twilio's Messages API: `POST {base}/2010-04-01/Accounts/{sid}/Messages.json`, HTTP basic auth
/// (account SID, auth token), form fields `To`, `From`, `Body` → 201 `{"sid": "SM…"}`.
public struct TwilioSMSNotifier: Notifier {
    public let name = "twilio"
    let baseURL: String
    let accountSID: String
    let authToken: String
    let from: String

    public init(baseURL: String, accountSID: String, authToken: String, from: String) {
        self.baseURL = baseURL
        self.accountSID = accountSID
        self.authToken = authToken
        self.from = from
    }

    static func form(_ fields: [(String, String)]) -> Data {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return Data(fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&").utf8)
    }

    public func send(_ message: OutboundNotification) async -> NotifierOutcome {
        let credentials = Data("\(accountSID):\(authToken)".utf8).base64EncodedString()
        let text = message.title.isEmpty ? message.body : "\(message.title): \(message.body)"
        guard let answer = await ProviderHTTP.post(
            "\(baseURL)/2010-04-01/Accounts/\(accountSID)/Messages.json",
            headers: [("Authorization", "Basic \(credentials)"), ("Content-Type", "application/x-www-form-urlencoded")],
            body: Self.form([("To", message.to), ("From", from), ("Body", text)]))
        else { return .failed("Twilio: no answer", retry: true) }
        if answer.status == 201 || answer.status == 200 {
            return .sent(((try? JSONSerialization.jsonObject(with: answer.body)) as? [String: Any])?["sid"] as? String)
        }
        return ProviderHTTP.outcome(answer.status, answer.body, what: "Twilio")
    }
}

/// SendGrid's v3 mail send: `POST {base}/v3/mail/send` with a bearer API key,
/// `{"personalizations":[{"to":[{"email"}]}],"from":{"email","name"},"subject","content":[{"type":"text/plain","value"}]}`
/// → 202 with `X-Message-Id`.
public struct SendGridEmailNotifier: Notifier {
    public let name = "sendgrid"
    let baseURL: String
    let apiKey: String
    let from: String

    public init(baseURL: String, apiKey: String, from: String) {
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.from = from
    }

    public func send(_ message: OutboundNotification) async -> NotifierOutcome {
        let body = ProviderHTTP.json([
            "personalizations": [["to": [["email": message.to]]]], "from": ["email": from, "name": message.sender], "subject": message.title,
            "content": [["type": "text/plain", "value": message.body]],
        ] as [String: Any])
        guard let answer = await ProviderHTTP.post(
            "\(baseURL)/v3/mail/send", headers: [("Authorization", "Bearer \(apiKey)"), ("Content-Type", "application/json")], body: body)
        else { return .failed("SendGrid: no answer", retry: true) }
        if answer.status == 202 || answer.status == 200 { return .sent(answer.headers.first { $0.0.lowercased() == "x-message-id" }?.1) }
        return ProviderHTTP.outcome(answer.status, answer.body, what: "SendGrid")
    }
}

/// The providers a data plane sends with: one per push platform, SMS and e-mail. A channel with no
/// provider configured uses the sandbox.
public struct Notifiers: Sendable {
    public var fcm: any Notifier
    public var apns: any Notifier
    public var sms: any Notifier
    public var email: any Notifier

    public init(fcm: any Notifier, apns: any Notifier, sms: any Notifier, email: any Notifier) {
        self.fcm = fcm
        self.apns = apns
        self.sms = sms
        self.email = email
    }

    public static func sandbox() -> Notifiers {
        Notifiers(fcm: SandboxNotifier(.push), apns: SandboxNotifier(.push), sms: SandboxNotifier(.sms), email: SandboxNotifier(.email))
    }

    /// From the environment. A provider with any of its settings missing is the sandbox.
    ///
    /// - FCM: `NZILA_FCM_PROJECT`, and `NZILA_FCM_SERVICE_ACCOUNT_FILE` (the service account's JSON, from
    ///   which OAuth access tokens are made) or `NZILA_FCM_ACCESS_TOKEN` (one made elsewhere);
    ///   `NZILA_FCM_URL` (default `https://fcm.googleapis.com`).
    /// - APNs: `NZILA_APNS_TOPIC` (the app's bundle id), and `NZILA_APNS_TEAM_ID` + `NZILA_APNS_KEY_ID` +
    ///   `NZILA_APNS_KEY_FILE` (the `.p8` key, from which provider tokens are made) or
    ///   `NZILA_APNS_PROVIDER_TOKEN`; `NZILA_APNS_URL` (default `https://api.push.apple.com`).
    /// - Twilio: `NZILA_TWILIO_ACCOUNT_SID`, `NZILA_TWILIO_AUTH_TOKEN`, `NZILA_TWILIO_FROM`; `NZILA_TWILIO_URL`
    ///   (default `https://api.twilio.com`).
    /// - SendGrid: `NZILA_SENDGRID_API_KEY`, `NZILA_SENDGRID_FROM`; `NZILA_SENDGRID_URL` (default
    ///   `https://api.sendgrid.com`).
    public static func fromEnvironment(_ env: Env = Env(), now: @escaping @Sendable () -> Date = { Date() }) throws -> Notifiers {
        var notifiers = Notifiers.sandbox()
        if let project = env["NZILA_FCM_PROJECT"] {
            let url = env["NZILA_FCM_URL"] ?? "https://fcm.googleapis.com"
            if let file = env["NZILA_FCM_SERVICE_ACCOUNT_FILE"] {
                let account = try GoogleServiceAccountToken(serviceAccountJSON: try Data(contentsOf: URL(fileURLWithPath: file)), now: now)
                notifiers.fcm = FCMNotifier(baseURL: url, project: project, accessToken: { try await account.token() })
            } else if let token = env["NZILA_FCM_ACCESS_TOKEN"] {
                notifiers.fcm = FCMNotifier(baseURL: url, project: project, accessToken: { token })
            }
        }
        if let topic = env["NZILA_APNS_TOPIC"] {
            let url = env["NZILA_APNS_URL"] ?? "https://api.push.apple.com"
            if let team = env["NZILA_APNS_TEAM_ID"], let keyID = env["NZILA_APNS_KEY_ID"], let file = env["NZILA_APNS_KEY_FILE"] {
                let provider = try APNsProviderToken(teamID: team, keyID: keyID, privateKeyPEM: try String(contentsOfFile: file, encoding: .utf8), now: now)
                notifiers.apns = APNsNotifier(baseURL: url, topic: topic, providerToken: { try await provider.token() })
            } else if let token = env["NZILA_APNS_PROVIDER_TOKEN"] {
                notifiers.apns = APNsNotifier(baseURL: url, topic: topic, providerToken: { token })
            }
        }
        if let sid = env["NZILA_TWILIO_ACCOUNT_SID"], let token = env["NZILA_TWILIO_AUTH_TOKEN"], let from = env["NZILA_TWILIO_FROM"] {
            notifiers.sms = TwilioSMSNotifier(baseURL: env["NZILA_TWILIO_URL"] ?? "https://api.twilio.com", accountSID: sid, authToken: token, from: from)
        }
        if let key = env["NZILA_SENDGRID_API_KEY"], let from = env["NZILA_SENDGRID_FROM"] {
            notifiers.email = SendGridEmailNotifier(baseURL: env["NZILA_SENDGRID_URL"] ?? "https://api.sendgrid.com", apiKey: key, from: from)
        }
        return notifiers
    }

    func notifier(_ channel: NotificationChannel, platform: String?) -> any Notifier {
        switch channel {
        case .push: platform == "apns" ? apns : fcm
        case .sms: sms
        case .email: email
        }
    }
}
