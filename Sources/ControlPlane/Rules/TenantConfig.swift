import Foundation
import NzilaValues

/// A tenant's configuration — branding, fees, KYC tier limits and enabled domains — as the JSON
/// document the control plane versions, and the rules every version must satisfy. Pure functions:
/// templates and `PUT …/config` are checked by the same code, and each bad field is named by its
/// path (`fees.corridors[2].max_minor`).
public enum TenantConfig {
    public static var sections: [String] { ConfigSections.required }
    /// Sections a configuration may leave out (the platform defaults then apply).
    public static var optionalSections: [String] { ConfigSections.optional }

    /// Every rule broken by `document`; empty when it is a valid configuration. Each section checks
    /// its own part (`ConfigSection.check`), then is decoded with the type the planes read it with.
    public static func problems(_ document: Any) -> [FieldError] {
        var check = ConfigChecker()
        guard let root = check.object(document, at: "", required: sections, optional: optionalSections) else { return check.errors }
        for section in ConfigSections.all {
            // A required section given as null is checked (and refused); an optional one is absent.
            guard let value = root[section.key], section.isRequired || ConfigChecker.present(value) != nil else { continue }
            section.check(value, at: section.key, into: &check)
        }
        guard check.errors.isEmpty else { return check.errors }
        return readable(root)
    }

    /// Every section the planes read, decoded with the very types they read it with
    /// (`ConfigSections.all`): a document the data plane could not read is refused when it is
    /// written, not when a request meets it.
    public static func readable(_ root: [String: Any]) -> [FieldError] {
        ConfigSections.all.compactMap { type -> FieldError? in
            guard let value = ConfigChecker.present(root[type.key]), JSONSerialization.isValidJSONObject(value),
                let data = try? JSONSerialization.data(withJSONObject: value)
            else { return nil }
            do {
                _ = try type.decode(data)
                return nil
            } catch {
                return FieldError(field: type.key, message: "cannot be read by the data plane: \(Self.describe(error))")
            }
        }
    }

    static func describe(_ error: any Error) -> String {
        guard let decoding = error as? DecodingError else { return "\(error)" }
        let context: DecodingError.Context
        switch decoding {
        case .keyNotFound(let key, let found): return "\((found.codingPath + [key]).map(\.stringValue).joined(separator: ".")) is missing"
        case .typeMismatch(_, let found), .valueNotFound(_, let found), .dataCorrupted(let found): context = found
        @unknown default: return "\(decoding)"
        }
        return "\(context.codingPath.map(\.stringValue).joined(separator: ".")) has the wrong type"
    }

    /// The JSON of a configuration: keys sorted, so equal documents have equal bytes.
    public static func data(_ document: Any) throws -> Data {
        try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])
    }

    /// Whether two JSON documents are the same value.
    public static func same(_ a: Any, _ b: Any) -> Bool {
        (try? data(a)) == (try? data(b))
    }
}
