import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NzilaCore
import NzilaValues

/// Where document bytes live (KYC images, uploads). A store holds opaque objects by key and never sees a plaintext
/// document: the caller seals each one under the tenant's data key first (see `KYCFiles`), so neither a copied state
/// folder nor a leaked bucket reveals anything. Keys are `[0-9a-z/-]` paths the platform makes (`<tenant>/kyc/<file>`).
public protocol DocumentStore: Sendable {
    /// `local` or `s3`: recorded with each object, so a file is read back from where it was written.
    var kind: String { get }
    func put(_ key: String, _ bytes: Data) async throws
    /// The object, or nil when there is none under `key`.
    func get(_ key: String) async throws -> Data?
    /// Removes the object (nothing when there is none): a file re-sealed under a new key leaves its old object.
    func delete(_ key: String) async throws
}

/// A document store could not be reached or refused the call. Says which store and what happened, never a credential.
public struct DocumentStoreUnavailable: Error, CustomStringConvertible {
    public let description: String

    public init(description: String) {
        self.description = description
    }
}

public enum DocumentStores {
    /// Whether `key` is a key the platform makes: path segments of lower-case letters, digits and hyphens.
    public static func validKey(_ key: String) -> Bool {
        key.range(of: #"^[0-9a-z-]{1,64}(/[0-9a-z-]{1,64}){0,4}$"#, options: .regularExpression) != nil
    }

    /// The store the environment names: `NZILA_DOCUMENTS` unset or `local` → `<state>/documents`; `local:/path`; or
    /// `s3://BUCKET` with `NZILA_DOCUMENTS_ENDPOINT` (https, or http to this machine), `NZILA_DOCUMENTS_REGION`,
    /// `NZILA_DOCUMENTS_CREDENTIAL` (a credential reference, `env:NAME` or `file:/path`, to `ACCESS_KEY_ID:SECRET`) and
    /// `NZILA_DOCUMENTS_SSE` (`AES256`, the default, or `aws:kms`).
    public static func configured(environment: [String: String], stateDirectory: String) throws -> any DocumentStore {
        let setting = environment["NZILA_DOCUMENTS"] ?? "local"
        if setting == "local" {
            return try LocalDocumentStore(folder: URL(fileURLWithPath: stateDirectory).appendingPathComponent("documents"))
        }
        if setting.hasPrefix("local:/") {
            return try LocalDocumentStore(folder: URL(fileURLWithPath: String(setting.dropFirst(6))))
        }
        guard setting.hasPrefix("s3://") else {
            throw DocumentStoreUnavailable(description: "NZILA_DOCUMENTS must be local, local:/path or s3://bucket")
        }
        guard let endpoint = environment["NZILA_DOCUMENTS_ENDPOINT"], let region = environment["NZILA_DOCUMENTS_REGION"],
            let reference = environment["NZILA_DOCUMENTS_CREDENTIAL"].flatMap(CredentialReference.init)
        else {
            throw DocumentStoreUnavailable(
                description: "an s3:// document store needs NZILA_DOCUMENTS_ENDPOINT, NZILA_DOCUMENTS_REGION and NZILA_DOCUMENTS_CREDENTIAL (env:NAME or file:/path)")
        }
        let pair = try reference.resolve(environment: environment).split(separator: ":", maxSplits: 1).map(String.init)
        guard pair.count == 2 else {
            throw DocumentStoreUnavailable(description: "the credential \(reference) must hold ACCESS_KEY_ID:SECRET")
        }
        return try S3DocumentStore(
            endpoint: endpoint, bucket: String(setting.dropFirst(5)), region: region, accessKeyID: pair[0], secret: pair[1],
            serverSideEncryption: environment["NZILA_DOCUMENTS_SSE"] ?? "AES256")
    }
}

/// Documents in a folder of this machine (the state folder by default): one file per object, written to a temporary
/// name and renamed, readable by this user only.
public struct LocalDocumentStore: DocumentStore {
    public let kind = "local"
    let folder: URL

    public init(folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        self.folder = folder
    }

    func path(_ key: String) throws -> URL {
        guard DocumentStores.validKey(key) else { throw DocumentStoreUnavailable(description: "local documents: not a document key") }
        return folder.appendingPathComponent(key)
    }

    /// The bytes reach the disk before this returns (the file synced, then renamed into place, then its folder synced):
    /// the row that names the object commits after, so a crash never leaves a row without its document.
    public func put(_ key: String, _ bytes: Data) async throws {
        let target = try path(key)
        let folderURL = target.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folderURL, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let temporary = folderURL.appendingPathComponent(".\(UUID().uuidString.lowercased()).part")
        let failed = DocumentStoreUnavailable(description: "local documents: cannot write under \(folder.path)")
        let file = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard file >= 0 else { throw failed }
        let written = bytes.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let count = write(file, buffer.baseAddress! + offset, buffer.count - offset)
                if count <= 0 { return false }
                offset += count
            }
            return true
        }
        let synced = written && fsync(file) == 0
        close(file)
        guard synced, rename(temporary.path, target.path) == 0 else {
            unlink(temporary.path)
            throw failed
        }
        let directory = open(folderURL.path, O_RDONLY)
        if directory >= 0 {
            _ = fsync(directory)
            close(directory)
        }
    }

    public func get(_ key: String) async throws -> Data? {
        let source = try path(key)
        guard FileManager.default.fileExists(atPath: source.path) else { return nil }
        return try Data(contentsOf: source)
    }

    public func delete(_ key: String) async throws {
        let target = try path(key)
        guard unlink(target.path) == 0 || errno == ENOENT else {
            throw DocumentStoreUnavailable(description: "local documents: cannot delete under \(folder.path)")
        }
    }
}

/// An S3-compatible bucket (AWS S3, MinIO, Ceph), path-style, every request signed with AWS Signature Version 4 and
/// every object written with server-side encryption requested (`x-amz-server-side-encryption`) on top of the platform's
/// own sealing. Connection errors, timeouts and 5xx answers are tried again (3 tries, 200 ms then 400 ms apart).
public struct S3DocumentStore: DocumentStore {
    public let kind = "s3"
    let endpoint: URL
    let bucket: String
    let region: String
    let accessKeyID: String
    let secret: String
    let serverSideEncryption: String
    let client: HTTPClient
    /// S3 judges a signature by the real time (15 minutes of skew), never by business time.
    let now: @Sendable () -> Date

    public init(
        endpoint: String, bucket: String, region: String, accessKeyID: String, secret: String, serverSideEncryption: String = "AES256",
        client: HTTPClient = .shared, now: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        guard let url = URL(string: endpoint), let scheme = url.scheme, let host = url.host, url.query == nil, url.user == nil,
            scheme == "https" || (scheme == "http" && ["127.0.0.1", "::1", "localhost"].contains(host))
        else { throw DocumentStoreUnavailable(description: "the document store's endpoint must be https:// (http:// only to this machine)") }
        guard bucket.range(of: #"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"#, options: .regularExpression) != nil else {
            throw DocumentStoreUnavailable(description: "the bucket name must be 3 to 63 lower-case letters, digits, dots or hyphens")
        }
        guard region.range(of: #"^[a-z0-9-]{2,32}$"#, options: .regularExpression) != nil else {
            throw DocumentStoreUnavailable(description: "the region must be like ca-central-1")
        }
        guard ["AES256", "aws:kms"].contains(serverSideEncryption) else {
            throw DocumentStoreUnavailable(description: "server-side encryption must be AES256 or aws:kms")
        }
        self.endpoint = url
        self.bucket = bucket
        self.region = region
        self.accessKeyID = accessKeyID
        self.secret = secret
        self.serverSideEncryption = serverSideEncryption
        self.client = client
        self.now = now
    }

    /// The endpoint's host as the Host header names it: IPv6 in brackets, the port only when it is not the scheme's
    /// default.
    static func authority(_ endpoint: URL) -> String {
        let host = endpoint.host!.contains(":") && !endpoint.host!.hasPrefix("[") ? "[\(endpoint.host!)]" : endpoint.host!
        guard let port = endpoint.port, port != (endpoint.scheme == "https" ? 443 : 80) else { return host }
        return "\(host):\(port)"
    }

    public func put(_ key: String, _ bytes: Data) async throws {
        let (status, _) = try await call(.PUT, key, body: bytes, extra: [
            "content-type": "application/octet-stream", "x-amz-server-side-encryption": serverSideEncryption,
        ])
        guard status == 200 else { throw DocumentStoreUnavailable(description: "s3 \(bucket): PUT answered HTTP \(status)") }
    }

    public func get(_ key: String) async throws -> Data? {
        let (status, body) = try await call(.GET, key, body: nil, extra: [:])
        if status == 404 { return nil }
        guard status == 200 else { throw DocumentStoreUnavailable(description: "s3 \(bucket): GET answered HTTP \(status)") }
        return body
    }

    /// S3 answers 204 whether or not the object was there.
    public func delete(_ key: String) async throws {
        let (status, _) = try await call(.DELETE, key, body: nil, extra: [:])
        guard [200, 204, 404].contains(status) else { throw DocumentStoreUnavailable(description: "s3 \(bucket): DELETE answered HTTP \(status)") }
    }

    func call(_ method: HTTPMethod, _ key: String, body: Data?, extra: [String: String]) async throws -> (Int, Data) {
        guard DocumentStores.validKey(key) else { throw DocumentStoreUnavailable(description: "s3 \(bucket): not a document key") }
        let path = (endpoint.path == "/" ? "" : endpoint.path) + "/\(bucket)/\(key)"
        let authority = Self.authority(endpoint)
        do {
            // A sealed object is its document plus 28 bytes; documents are at most 64 MiB.
            return try await PartnerHTTP.tried(name: "s3 \(bucket)", attempts: 3, timeout: .seconds(30), client: client, limit: (64 << 20) + 4096) {
                let signed = SignatureV4(accessKeyID: accessKeyID, secret: secret, region: region, service: "s3").sign(
                    method: method.rawValue, path: path, query: [], headers: extra.merging(["host": authority]) { a, _ in a }, payload: body ?? Data(),
                    at: now())
                var request = HTTPClientRequest(url: "\(endpoint.scheme!)://\(authority)\(SignatureV4.encodePath(path))")
                request.method = method
                // The Host header sent is the one signed (an HTTP client would drop a default port).
                for (name, value) in signed { request.headers.add(name: name, value: value) }
                if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
                return request
            }
        } catch let failed as PartnerUnavailable {
            throw DocumentStoreUnavailable(description: failed.description)
        } catch let large as PartnerAnswerTooLarge {
            throw DocumentStoreUnavailable(description: large.description)
        }
    }
}

/// AWS Signature Version 4 (`AWS4-HMAC-SHA256`) for one request, as the S3 documentation specifies it: the canonical
/// request (method, URI-encoded path, sorted query, sorted lower-case headers, signed header names, payload SHA-256),
/// the string to sign over the credential scope, and the signing key derived from the secret, the day, the region and
/// the service.
public struct SignatureV4: Sendable {
    let accessKeyID: String
    let secret: String
    let region: String
    let service: String

    public init(accessKeyID: String, secret: String, region: String, service: String) {
        self.accessKeyID = accessKeyID
        self.secret = secret
        self.region = region
        self.service = service
    }

    /// The headers to send: `headers` (which must include `host`) plus `x-amz-date`, `x-amz-content-sha256` and
    /// `authorization`; every header given is signed.
    public func sign(method: String, path: String, query: [(String, String)], headers: [String: String], payload: Data, at time: Date) -> [String: String] {
        var all = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }) { a, _ in a }
        let stamp = Self.stamp(time)
        all["x-amz-date"] = stamp
        all["x-amz-content-sha256"] = all["x-amz-content-sha256"] ?? Self.hex(SHA256.hash(data: payload))
        let day = String(stamp.prefix(8))
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let (canonical, signedHeaders) = Self.canonicalRequest(method: method, path: path, query: query, headers: all)
        let toSign = "AWS4-HMAC-SHA256\n\(stamp)\n\(scope)\n\(Self.hex(SHA256.hash(data: Data(canonical.utf8))))"
        var key = SymmetricKey(data: Data("AWS4\(secret)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Data(toSign.utf8), using: key))
        all["authorization"] = "AWS4-HMAC-SHA256 Credential=\(accessKeyID)/\(scope),SignedHeaders=\(signedHeaders),Signature=\(signature)"
        return all
    }

    /// The canonical request and the signed header names (`host;x-amz-date;…`).
    public static func canonicalRequest(method: String, path: String, query: [(String, String)], headers: [String: String]) -> (String, String) {
        let names = headers.keys.map { $0.lowercased() }.sorted()
        let lowered = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }) { a, _ in a }
        let canonicalHeaders = names.map { name in
            let value = lowered[name]!.trimmingCharacters(in: .whitespaces).split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            return "\(name):\(value)\n"
        }.joined()
        let canonicalQuery = query.map { (encode($0.0), encode($0.1)) }.sorted { $0 < $1 }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
        let signed = names.joined(separator: ";")
        let payload = lowered["x-amz-content-sha256"] ?? "UNSIGNED-PAYLOAD"
        return ("\(method)\n\(encodePath(path))\n\(canonicalQuery)\n\(canonicalHeaders)\n\(signed)\n\(payload)", signed)
    }

    /// RFC 3986 percent-encoding of everything but `A-Za-z0-9-._~`.
    public static func encode(_ text: String) -> String {
        var out = ""
        for byte in Array(text.utf8) {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(Character(UnicodeScalar(byte)))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    /// Each segment of a path encoded, the slashes kept (S3 encodes a path once).
    public static func encodePath(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { encode(String($0)) }.joined(separator: "/")
    }

    /// `x-amz-date`'s basic ISO 8601 form, in UTC.
    static func formatter() -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter
    }

    static func stamp(_ time: Date) -> String { formatter().string(from: time) }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { String(format: "%02x", $0) }.joined()
    }

    /// Whether `authorization` is this signer's signature of the request (what a stand-in or a gateway checks),
    /// compared in constant time.
    public func verifies(
        authorization: String, method: String, path: String, query: [(String, String)], headers: [String: String], payload: Data
    ) -> Bool {
        guard let signedPart = authorization.components(separatedBy: "SignedHeaders=").last?.split(separator: ",").first,
            let stamp = headers.first(where: { $0.key.lowercased() == "x-amz-date" })?.value
        else { return false }
        let names = signedPart.split(separator: ";").map(String.init)
        let lowered = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }) { a, _ in a }
        var chosen: [String: String] = [:]
        for name in names {
            guard let value = lowered[name] else { return false }
            chosen[name] = value
        }
        guard let time = Self.formatter().date(from: stamp) else { return false }
        guard let expected = sign(method: method, path: path, query: query, headers: chosen, payload: payload, at: time)["authorization"] else {
            return false
        }
        return constantTimeEquals(Array(expected.utf8), Array(authorization.utf8))
    }
}
