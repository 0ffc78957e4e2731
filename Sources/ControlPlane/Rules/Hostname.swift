import Foundation

/// A tenant's own hostnames (`bank.umoja.ca`), unique across tenants; the data plane resolves them
/// within milliseconds of a change (the registry's change feed).
public enum Hostname {
    /// A lower-case DNS name of at least two labels, each 1–63 letters, digits or inner hyphens.
    public static func validate(_ raw: String) -> String? {
        let host = raw.trimmingCharacters(in: .whitespaces).lowercased()
        let label = "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
        guard host.count <= 253, host.range(of: "^(\(label)\\.)+[a-z]{2,63}$", options: .regularExpression) != nil else { return nil }
        return host
    }
}
