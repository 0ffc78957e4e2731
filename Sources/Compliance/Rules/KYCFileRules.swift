import Foundation

/// What a KYC upload may be: an image of an identity document, a selfie or a proof of address, as JPEG, PNG, WebP or
/// PDF, judged by its bytes and not by what the client declares. A file whose bytes are not what its `Content-Type`
/// says is refused, so a page or a script cannot be stored under an image's name and later served as one.
public enum KYCFileRules {
    /// What the file shows.
    public static let kinds: [String] = ["id_front", "id_back", "selfie", "proof_of_address", "other"]
    /// The media types taken.
    public static let mediaTypes: [String] = ["image/jpeg", "image/png", "image/webp", "application/pdf"]
    /// The largest file taken by default (10 MiB): a phone photo of a document is 2–5 MB.
    public static let defaultMaxBytes = 10 << 20
    /// Files per member: enough for every document a member will ever show, few enough that a member's app cannot fill
    /// the store.
    public static let maxFilesPerMember = 50

    public enum Refusal: Equatable, Sendable {
        case empty
        case unsupported(declared: String?)
        case mismatch(declared: String, actual: String?)
        case unknownKind(String?)
    }

    /// The media type the bytes are, by their signature, among `mediaTypes`; nil for anything else.
    public static func sniff(_ bytes: Data) -> String? {
        let head = Array(bytes.prefix(16))
        func starts(_ signature: [UInt8], at offset: Int = 0) -> Bool {
            head.count >= offset + signature.count && Array(head[offset..<offset + signature.count]) == signature
        }
        if starts([0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "image/png" }
        if starts(Array("RIFF".utf8)) && starts(Array("WEBP".utf8), at: 8) { return "image/webp" }
        if starts(Array("%PDF-".utf8)) { return "application/pdf" }
        return nil
    }

    /// The declared media type without parameters, lower-cased.
    public static func mediaType(_ contentType: String?) -> String? {
        contentType?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
    }

    /// Why an upload of `bytes` declared as `contentType`, showing `kind`, is refused; nil when it is taken (its media
    /// type is then `sniff(bytes)`).
    public static func refusal(kind: String?, contentType: String?, bytes: Data) -> Refusal? {
        guard let kind, kinds.contains(kind) else { return .unknownKind(kind) }
        let declared = mediaType(contentType)
        guard let declared, mediaTypes.contains(declared) else { return .unsupported(declared: declared) }
        if bytes.isEmpty { return .empty }
        let actual = sniff(bytes)
        guard actual == declared else { return .mismatch(declared: declared, actual: actual) }
        return nil
    }
}
