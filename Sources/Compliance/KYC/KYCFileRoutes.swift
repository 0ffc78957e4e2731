import Crypto
import Foundation
import Hummingbird
import NIOCore
import NzilaCore
import NzilaDatabase
import NzilaPartners

/// KYC document images and uploads, under `/v1/members/{id}/kyc/files`:
///
/// - `POST …/files?kind=id_front[&document=ID]`: the raw bytes of a JPEG, PNG, WebP or PDF (at most the plane's limit,
///   10 MiB by default) from the member's app or from staff. The bytes must be what `Content-Type` says. They are sealed
///   under the tenant's data key and written to the document store before the file is recorded, in two short
///   transactions with the store's call between them (a connection is never held while bytes travel); a failure after
///   the write leaves an object no row names, sealed, which nothing serves.
/// - `GET …/files` and `GET …/files/{file}`: what each file is and, for one file, who revealed it and why. Never bytes.
/// - `POST …/files/{file}/reveal` with `{reason}`: staff with `kyc.reveal` only. The reveal (who, why, the request) is
///   committed first, and only then is the object read, opened and served, `no-store` and as an attachment. A document
///   is never served any other way.
public struct KYCFileRoutes: Sendable {
    let keys: TenantDataKeys
    let documents: (any DocumentStore)?
    let maxBytes: Int

    public init(keys: TenantDataKeys, documents: (any DocumentStore)?, maxBytes: Int = KYCFileRules.defaultMaxBytes) {
        self.keys = keys
        self.documents = documents
        self.maxBytes = maxBytes
    }

    struct RevealBody: StrictBody {
        static let fields: Set<String> = ["reason"]
        let reason: String
    }

    struct FileDetail: Codable, Sendable {
        let file: KYCFileRecord
        let reveals: [KYCFileReveal]
    }

    public func mount(on routes: TenantRoutes) {
        routes.route(.post, "/v1/members/{id}/kyc/files", "Upload a KYC document image or file (raw JPEG, PNG, WebP or PDF bytes; ?kind=id_front|id_back|selfie|proof_of_address|other, optional &document=ID); sealed at rest", access: .ownOrStaff(.manageKYC), answer: KYCFileRecord.self, use: { request, context in
            try await upload(request, context)
        })
        routes.route(.get, "/v1/members/{id}/kyc/files", "A member's KYC files: what each is, never its bytes", access: .ownOrStaff(.readMembers), answer: [KYCFileRecord].self, use: { _, context in
            let member = try context.pathMember()
            let files = try await context.session.run { db -> [KYCFileRecord] in
                guard try await KYCStore(db).tier(of: member) != nil else { throw Problem.notFound("Member \(member.lowercased)") }
                return try await KYCFiles(db).files(of: member)
            }
            return try Response.json(files)
        })
        routes.route(.get, "/v1/members/{id}/kyc/files/{file}", "One KYC file and who revealed it, why and when", access: .staff(.readMembers), answer: FileDetail.self, use: { _, context in
            let member = try context.pathUUID("Member")
            let id = try context.pathUUID("File", "file")
            let detail = try await context.session.run { db -> FileDetail in
                guard let file = try await KYCFiles(db).file(id, member: member) else { throw Problem.notFound("File \(id.lowercased)") }
                return FileDetail(file: file, reveals: try await KYCFiles(db).reveals(of: id))
            }
            return try Response.json(detail)
        })
        routes.route(.post, "/v1/members/{id}/kyc/files/{file}/reveal", "Serve a KYC file's bytes to staff, the reveal and its reason recorded first", access: .staff(.revealKYC), body: RevealBody.self, use: { request, context in
            try await reveal(request, context)
        })
    }

    /// The member of the path, who must be the caller when the caller is a member (another member's gets 404).
    func store() throws -> any DocumentStore {
        guard let documents else {
            throw Problem(.serviceUnavailable, "document-store-unavailable", "Document store unavailable", detail: "This data plane has no document store configured.")
        }
        return documents
    }

    static func unavailable() -> Problem {
        Problem(
            .serviceUnavailable, "document-store-unavailable", "Document store unavailable", detail: "The document store did not answer; try again.",
            headers: [.retryAfter: "30"])
    }

    func upload(_ request: Request, _ context: TenantRequestContext) async throws -> Response {
        let member = try context.pathMember()
        let query = request.uri.queryParameters
        let kind = query["kind"].map(String.init)
        var document: UUID?
        if let raw = query["document"] {
            guard let id = UUID(uuidString: String(raw)) else { throw Problem.validation(field: "document", "must be a document id") }
            document = id
        }
        let documents = try store()
        let bytes: Data
        do {
            bytes = Data(try await request.body.collect(upTo: maxBytes).readableBytesView)
        } catch is NIOTooManyBytesError {
            throw Problem(.contentTooLarge, "payload-too-large", "Payload too large", detail: "A KYC file is at most \(maxBytes) bytes.")
        }
        switch KYCFileRules.refusal(kind: kind, contentType: request.headers[.contentType], bytes: bytes) {
        case nil: break
        case .unknownKind:
            throw Problem.validation(field: "kind", "must be one of \(KYCFileRules.kinds.joined(separator: ", "))")
        case .unsupported(let declared):
            throw Problem(
                .unsupportedMediaType, "unsupported-media-type", "Unsupported media type",
                detail: "Send the file as \(KYCFileRules.mediaTypes.joined(separator: ", ")); got \(declared ?? "no Content-Type").")
        case .empty:
            throw Problem.validation(field: "", "the file is empty")
        case .mismatch(let declared, let actual):
            throw Problem(
                .unsupportedMediaType, "content-type-mismatch", "The file is not what its Content-Type says",
                detail: "Declared \(declared), but the bytes are \(actual ?? "none of the accepted types").")
        }
        let id = UUID()
        let tenant = context.tenant.id.rawValue
        // First transaction: the member exists (and has room), and the tenant's current data key.
        let (keyID, key) = try await context.session.unaudited.run { db -> (Int, SymmetricKey) in
            guard let count = try await KYCFiles(db).lockedCount(member: member) else { throw Problem.notFound("Member \(member.lowercased)") }
            try Self.checkRoom(count)
            if let document, try await !KYCFiles(db).documentBelongs(document, to: member) {
                throw Problem.validation(field: "document", "is not a document of this member")
            }
            return try await keys.current(db)
        }
        let sealed = try KYCFiles.seal(bytes, key: key, tenant: tenant, member: member, file: id)
        do {
            try await documents.put(KYCFiles.objectKey(tenant: tenant, file: id), sealed)
        } catch {
            context.logger.warning("document store write failed", metadata: ["error": "\(error)"])
            throw Self.unavailable()
        }
        let upload = KYCFiles.Upload(
            id: id, member: member, kind: kind ?? "other", mediaType: KYCFileRules.sniff(bytes) ?? "", size: bytes.count,
            sha256: Data(SHA256.hash(data: bytes)), store: documents.kind, keyID: keyID, document: document)
        // Second transaction: the row, the member's count checked again under the lock.
        let record = try await context.session.run { db -> KYCFileRecord in
            let files = KYCFiles(db)
            guard let count = try await files.lockedCount(member: member) else { throw Problem.notFound("Member \(member.lowercased)") }
            try Self.checkRoom(count)
            try await files.record(upload, by: ChangeActor(context.principal))
            guard let record = try await files.file(id, member: member) else { throw Problem.internalError }
            return record
        }
        return try Response.json(record, status: .created)
    }

    static func checkRoom(_ count: Int) throws {
        guard count < KYCFileRules.maxFilesPerMember else {
            throw Problem(
                .conflict, "too-many-files", "Too many files", detail: "A member has at most \(KYCFileRules.maxFilesPerMember) KYC files.")
        }
    }

    func reveal(_ request: Request, _ context: TenantRequestContext) async throws -> Response {
        let member = try context.pathUUID("Member")
        let id = try context.pathUUID("File", "file")
        let body = try await request.decodeStrict(RevealBody.self)
        let reason = body.reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...1000).contains(reason.count) else { throw Problem.validation(field: "reason", "must be 1 to 1000 characters") }
        let documents = try store()
        // The reveal is committed before a byte is read: a document is never served unrecorded.
        let (stored, key) = try await context.session.run { db -> (KYCFiles.Stored, SymmetricKey) in
            guard let stored = try await KYCFiles(db).reveal(
                id, member: member, by: context.principal, reason: reason, requestID: request.headers[.requestID])
            else { throw Problem.notFound("File \(id.lowercased)") }
            return (stored, try await keys.key(stored.keyID, db))
        }
        guard stored.store == documents.kind else {
            throw Problem(
                .serviceUnavailable, "document-store-unavailable", "Document store unavailable",
                detail: "This file is in the \(stored.store) document store, which this data plane does not use.")
        }
        let sealed: Data?
        do {
            sealed = try await documents.get(stored.objectKey)
        } catch {
            context.logger.warning("document store read failed", metadata: ["error": "\(error)"])
            throw Self.unavailable()
        }
        guard let sealed else {
            throw Problem(.conflict, "document-missing", "Document missing", detail: "The document store holds no object for this file.")
        }
        guard let bytes = KYCFiles.open(sealed, key: key, tenant: context.tenant.id.rawValue, member: member, file: id),
            constantTimeEquals(Array(SHA256.hash(data: bytes)), Array(stored.sha256))
        else {
            throw Problem(
                .conflict, "sealed-data-mismatch", "Sealed data does not match",
                detail: "The stored object does not open as this member's file; it may have been altered or moved.")
        }
        let suffix = ["image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "application/pdf": "pdf"][stored.mediaType] ?? "bin"
        return Response(
            status: .ok,
            headers: [
                .contentType: stored.mediaType, .cacheControl: "no-store", .init("X-Content-Type-Options")!: "nosniff",
                .contentDisposition: "attachment; filename=\"\(stored.kind)-\(id.lowercased).\(suffix)\"",
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
