import Foundation

/// `branding`: how the credit union shows itself to its members (name, colours, locales, contact).
public struct BrandingSection: ConfigSection, Equatable {
    public static let key = "branding"
    public static let isRequired = true
    public let displayName: String
    public let primaryColor: String
    public let secondaryColor: String
    public let locales: [String]
    public let logoUrl: String?
    public let supportEmail: String?
    public let supportPhone: String?

    public static func check(_ value: Any, at path: String, into check: inout ConfigChecker) {
        guard let branding = check.object(
            value, at: path, required: ["display_name", "primary_color", "secondary_color", "locales"],
            optional: ["logo_url", "support_email", "support_phone"])
        else { return }
        check.text(branding["display_name"], at: "\(path).display_name", length: 1...200)
        for key in ["primary_color", "secondary_color"] {
            check.pattern(branding[key], at: "\(path).\(key)", #"^#[0-9A-Fa-f]{6}$"#, "must be a hex colour such as #0B6E4F")
        }
        if let url = ConfigChecker.present(branding["logo_url"]) {
            check.pattern(url, at: "\(path).logo_url", #"^https://[^\s/$.?#][^\s]{1,2040}$"#, "must be an https URL")
        }
        if let value = ConfigChecker.present(branding["support_email"]) {
            let text = value as? String ?? ""
            if case .success(let email) = Validate.email(text), email == text {} else {
                check.fail("\(path).support_email", "must be an email address in lower case")
            }
        }
        if let phone = ConfigChecker.present(branding["support_phone"]) {
            check.pattern(phone, at: "\(path).support_phone", #"^\+[1-9][0-9]{6,14}$"#, "must be an E.164 number such as +14165550100")
        }
        if let locales = check.array(branding["locales"], at: "\(path).locales", count: 1...20) {
            for (index, locale) in locales.enumerated() {
                check.pattern(locale, at: "\(path).locales[\(index)]", #"^[a-z]{2,3}(-[A-Z]{2})?$"#, "must be a locale such as fr-CA")
            }
            if Set(locales.compactMap { $0 as? String }).count != locales.count { check.fail("\(path).locales", "must not repeat a locale") }
        }
    }
}
