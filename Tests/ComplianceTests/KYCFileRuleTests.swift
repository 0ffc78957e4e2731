import Compliance
import Crypto
import Foundation
import NzilaPartners
import Testing

@Suite("KYC files and document stores")
struct KYCFileRuleTests {
    static let jpeg = Data([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10]) + Data("JFIF".utf8)
    static let png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00])
    static let webp = Data("RIFF".utf8) + Data([1, 2, 3, 4]) + Data("WEBPVP8 ".utf8)
    static let pdf = Data("%PDF-1.7\n".utf8)

    @Test("a file is taken only as what its bytes are, among the accepted types, and showing a known kind")
    func sniffing() {
        #expect(KYCFileRules.sniff(Self.jpeg) == "image/jpeg")
        #expect(KYCFileRules.sniff(Self.png) == "image/png")
        #expect(KYCFileRules.sniff(Self.webp) == "image/webp")
        #expect(KYCFileRules.sniff(Self.pdf) == "application/pdf")
        #expect(KYCFileRules.sniff(Data("<html><script>".utf8)) == nil)
        #expect(KYCFileRules.sniff(Data("RIFF1234WAVE".utf8)) == nil, "a RIFF that is not WebP")
        #expect(KYCFileRules.sniff(Data([0xFF, 0xD8])) == nil, "too short to be sure")

        #expect(KYCFileRules.refusal(kind: "id_front", contentType: "image/jpeg", bytes: Self.jpeg) == nil)
        #expect(KYCFileRules.refusal(kind: "selfie", contentType: "IMAGE/PNG; charset=binary", bytes: Self.png) == nil, "parameters and case ignored")
        #expect(KYCFileRules.refusal(kind: "passport_scan", contentType: "image/jpeg", bytes: Self.jpeg) == .unknownKind("passport_scan"))
        #expect(KYCFileRules.refusal(kind: nil, contentType: "image/jpeg", bytes: Self.jpeg) == .unknownKind(nil))
        #expect(KYCFileRules.refusal(kind: "other", contentType: "text/html", bytes: Self.jpeg) == .unsupported(declared: "text/html"))
        #expect(KYCFileRules.refusal(kind: "other", contentType: nil, bytes: Self.jpeg) == .unsupported(declared: nil))
        #expect(KYCFileRules.refusal(kind: "other", contentType: "image/png", bytes: Data()) == .empty)
        #expect(KYCFileRules.refusal(kind: "other", contentType: "image/png", bytes: Self.jpeg) == .mismatch(declared: "image/png", actual: "image/jpeg"))
        #expect(
            KYCFileRules.refusal(kind: "other", contentType: "image/jpeg", bytes: Data("<svg onload=alert(1)>".utf8))
                == .mismatch(declared: "image/jpeg", actual: nil))
    }

    @Test("a sealed file opens only as the file, member and tenant it was sealed for")
    func sealing() throws {
        let key = SymmetricKey(size: .bits256)
        let (tenant, member, file) = (UUID(), UUID(), UUID())
        let sealed = try KYCFiles.seal(Self.jpeg, key: key, tenant: tenant, member: member, file: file)
        #expect(sealed.range(of: Data("JFIF".utf8)) == nil, "no plaintext in the sealed bytes")
        #expect(KYCFiles.open(sealed, key: key, tenant: tenant, member: member, file: file) == Self.jpeg)
        #expect(KYCFiles.open(sealed, key: key, tenant: tenant, member: member, file: UUID()) == nil)
        #expect(KYCFiles.open(sealed, key: key, tenant: tenant, member: UUID(), file: file) == nil)
        #expect(KYCFiles.open(sealed, key: key, tenant: UUID(), member: member, file: file) == nil)
        #expect(KYCFiles.open(sealed, key: SymmetricKey(size: .bits256), tenant: tenant, member: member, file: file) == nil)
        var altered = sealed
        altered[altered.count - 1] ^= 1
        #expect(KYCFiles.open(altered, key: key, tenant: tenant, member: member, file: file) == nil)
        #expect(KYCFiles.objectKey(tenant: tenant, file: file) == "\(tenant.uuidString.lowercased())/kyc/\(file.uuidString.lowercased())")
        #expect(DocumentStores.validKey(KYCFiles.objectKey(tenant: tenant, file: file)))
    }

    /// AWS's own worked examples of Signature Version 4 for S3 (the "GET Object" and "PUT Object" examples of the
    /// Amazon S3 API reference, Authenticating Requests: Using the Authorization Header).
    @Test("Signature V4 matches AWS's published S3 examples, and a verifier accepts only the signed request")
    func signatureV4() throws {
        let signer = SignatureV4(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1", service: "s3")
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        let time = try #require(formatter.date(from: "2013-05-24T00:00:00Z"))
        let get = signer.sign(
            method: "GET", path: "/test.txt", query: [], headers: ["Host": "examplebucket.s3.amazonaws.com", "Range": "bytes=0-9"], payload: Data(), at: time)
        #expect(
            get["authorization"]
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(get["x-amz-content-sha256"] == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")

        let put = signer.sign(
            method: "PUT", path: "/test$file.text", query: [],
            headers: ["Host": "examplebucket.s3.amazonaws.com", "Date": "Fri, 24 May 2013 00:00:00 GMT", "x-amz-storage-class": "REDUCED_REDUNDANCY"],
            payload: Data("Welcome to Amazon S3.".utf8), at: time)
        #expect(put["x-amz-content-sha256"] == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        #expect(put["authorization"]?.hasSuffix("Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd") == true, "\(put)")
        #expect(SignatureV4.encodePath("/test$file.text") == "/test%24file.text")

        let headers = get.filter { $0.key != "authorization" }
        let authorization = try #require(get["authorization"])
        #expect(signer.verifies(authorization: authorization, method: "GET", path: "/test.txt", query: [], headers: headers, payload: Data()))
        #expect(!signer.verifies(authorization: authorization, method: "PUT", path: "/test.txt", query: [], headers: headers, payload: Data()))
        #expect(!signer.verifies(authorization: authorization, method: "GET", path: "/other.txt", query: [], headers: headers, payload: Data()))
        var moved = headers
        moved["range"] = "bytes=0-99"
        #expect(!signer.verifies(authorization: authorization, method: "GET", path: "/test.txt", query: [], headers: moved, payload: Data()))
        let wrong = SignatureV4(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secret: "not the secret", region: "us-east-1", service: "s3")
        #expect(!wrong.verifies(authorization: authorization, method: "GET", path: "/test.txt", query: [], headers: headers, payload: Data()))
    }

    @Test("the local store writes objects readable by this user only, under platform-made keys only")
    func localStore() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nzila-documents-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try LocalDocumentStore(folder: folder)
        let key = "\(UUID().uuidString.lowercased())/kyc/\(UUID().uuidString.lowercased())"
        try await store.put(key, Data("sealed bytes".utf8))
        #expect(try await store.get(key) == Data("sealed bytes".utf8))
        #expect(try await store.get("\(UUID().uuidString.lowercased())/kyc/none") == nil)
        let attributes = try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent(key).path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        for bad in ["../etc/passwd", "/abs", "a/../../b", "UPPER/case", "a//b", ""] {
            await #expect(throws: DocumentStoreUnavailable.self) { try await store.put(bad, Data("x".utf8)) }
        }
        // Configuration: local by default in the state folder; s3 needs its endpoint, region and credential.
        #expect(try DocumentStores.configured(environment: [:], stateDirectory: folder.path).kind == "local")
        #expect(throws: DocumentStoreUnavailable.self) { try DocumentStores.configured(environment: ["NZILA_DOCUMENTS": "s3://bucket"], stateDirectory: folder.path) }
        #expect(throws: DocumentStoreUnavailable.self) { try DocumentStores.configured(environment: ["NZILA_DOCUMENTS": "ftp://x"], stateDirectory: folder.path) }
        let s3 = try DocumentStores.configured(
            environment: [
                "NZILA_DOCUMENTS": "s3://kyc-bucket", "NZILA_DOCUMENTS_ENDPOINT": "https://s3.ca-central-1.amazonaws.com", "NZILA_DOCUMENTS_REGION": "ca-central-1",
                "NZILA_DOCUMENTS_CREDENTIAL": "env:KYC_S3", "KYC_S3": "AKIDEXAMPLE:secret",
            ], stateDirectory: folder.path)
        #expect(s3.kind == "s3")
        #expect(throws: DocumentStoreUnavailable.self) {
            try S3DocumentStore(endpoint: "http://s3.example.com", bucket: "kyc-bucket", region: "ca-central-1", accessKeyID: "a", secret: "b")
        }
    }
}
