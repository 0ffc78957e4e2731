import AsyncHTTPClient
import Foundation
import JWTKit
import NIOCore
import NzilaCore

/// The short-lived credentials push providers want, made from the long-lived keys an operator holds
/// (given by reference: environment or a file the key provider reads, never the database).
///
/// - APNs: an ES256 JWT `{iss: team id, iat}` with the key's id in `kid`, signed by the `.p8` key;
///   Apple refuses one older than an hour and asks not to make one more often than every 20
///   minutes, so one is kept 50 minutes.
/// - FCM HTTP v1: an OAuth 2.0 access token for the Firebase service account, from its private key:
///   an RS256 JWT assertion `{iss: client email, scope: firebase.messaging, aud: token URI, iat, exp}`
///   posted to the token URI (`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`); kept until
///   5 minutes before it expires.
///
/// Both run on the machine's clock: a provider judges them by real time, not business time.
public actor APNsProviderToken {
    struct Claims: JWTPayload {
        let iss: String
        let iat: Int

        func verify(using algorithm: some JWTAlgorithm) throws {}
    }

    let teamID: String
    let keyID: String
    let keys = JWTKeyCollection()
    let key: ES256PrivateKey
    let now: @Sendable () -> Date
    var current: (token: String, madeAt: Date)?
    var installed = false

    public init(teamID: String, keyID: String, privateKeyPEM: String, now: @escaping @Sendable () -> Date) throws {
        self.teamID = teamID
        self.keyID = keyID
        self.key = try ES256PrivateKey(pem: privateKeyPEM)
        self.now = now
    }

    public func token() async throws -> String {
        let time = now()
        if let current, time.timeIntervalSince(current.madeAt) < 50 * 60 { return current.token }
        if !installed {
            await keys.add(ecdsa: key, kid: JWKIdentifier(string: keyID))
            installed = true
        }
        let token = try await keys.sign(Claims(iss: teamID, iat: Int(time.timeIntervalSince1970)), kid: JWKIdentifier(string: keyID))
        current = (token, time)
        return token
    }
}

public actor GoogleServiceAccountToken {
    struct Claims: JWTPayload {
        let iss: String
        let scope: String
        let aud: String
        let iat: Int
        let exp: Int

        func verify(using algorithm: some JWTAlgorithm) throws {}
    }

    struct Answer: Decodable {
        let access_token: String
        let expires_in: Int
    }

    public struct Refused: Error, CustomStringConvertible {
        public let description: String
    }

    let clientEmail: String
    let tokenURI: String
    let keys = JWTKeyCollection()
    let key: Insecure.RSA.PrivateKey
    let now: @Sendable () -> Date
    var current: (token: String, expiresAt: Date)?
    var installed = false

    public static let scope = "https://www.googleapis.com/auth/firebase.messaging"

    /// From the service account's fields (`client_email`, `private_key`, `token_uri`).
    public init(clientEmail: String, privateKeyPEM: String, tokenURI: String, now: @escaping @Sendable () -> Date) throws {
        self.clientEmail = clientEmail
        self.tokenURI = tokenURI
        self.key = try Insecure.RSA.PrivateKey(pem: privateKeyPEM)
        self.now = now
    }

    /// From a service-account JSON file as Google issues it.
    public init(serviceAccountJSON data: Data, now: @escaping @Sendable () -> Date) throws {
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any], let email = object["client_email"] as? String,
            let pem = object["private_key"] as? String
        else { throw Refused(description: "not a service-account file: client_email and private_key are required") }
        try self.init(clientEmail: email, privateKeyPEM: pem, tokenURI: object["token_uri"] as? String ?? "https://oauth2.googleapis.com/token", now: now)
    }

    public func token() async throws -> String {
        let time = now()
        if let current, current.expiresAt.timeIntervalSince(time) > 5 * 60 { return current.token }
        if !installed {
            await keys.add(rsa: key, digestAlgorithm: .sha256)
            installed = true
        }
        let issued = Int(time.timeIntervalSince1970)
        let assertion = try await keys.sign(Claims(iss: clientEmail, scope: Self.scope, aud: tokenURI, iat: issued, exp: issued + 3_600))
        var request = HTTPClientRequest(url: tokenURI)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(data: TwilioSMSNotifier.form([("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", assertion)])))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 16)
        guard response.status.code == 200, let answer = try? JSONDecoder().decode(Answer.self, from: Data(buffer: body)) else {
            throw Refused(description: "the token endpoint answered HTTP \(response.status.code)")
        }
        current = (answer.access_token, time.addingTimeInterval(Double(answer.expires_in)))
        return answer.access_token
    }
}
