import Foundation
import NzilaCore

/// A tenant's configuration — branding, fees, KYC tier limits and enabled domains — as the JSON
/// document the control plane versions, and the rules every version must satisfy. Pure functions:
/// templates and `PUT …/config` are checked by the same code, and each bad field is named by its
/// path (`fees.corridors[2].max_minor`).
public enum TenantConfig {
    public static let sections = ["branding", "domains", "fees", "kyc_limits"]
    /// Sections a configuration may leave out (the platform defaults then apply).
    public static let optionalSections = ["compliance", "rate_limits"]
    public static let knownDomains = ["banking", "remittance", "compliance", "tontine", "lending", "trading"]
    public static let payoutMethods: Set<String> = ["mobile_money", "bank_deposit", "cash_pickup"]
    /// The largest FX spread a tenant may charge, in basis points.
    public static let maxSpreadBps = 2_000

    /// Every rule broken by `document`; empty when it is a valid configuration.
    public static func problems(_ document: Any) -> [FieldError] {
        var check = Checker()
        guard let root = check.object(document, at: "", required: sections, optional: optionalSections) else { return check.errors }
        if let branding = check.object(
            root["branding"], at: "branding", required: ["display_name", "primary_color", "secondary_color", "locales"],
            optional: ["logo_url", "support_email", "support_phone"])
        {
            check.text(branding["display_name"], at: "branding.display_name", length: 1...200)
            for key in ["primary_color", "secondary_color"] {
                check.pattern(branding[key], at: "branding.\(key)", #"^#[0-9A-Fa-f]{6}$"#, "must be a hex colour such as #0B6E4F")
            }
            if let url = present(branding["logo_url"]) {
                check.pattern(url, at: "branding.logo_url", #"^https://[^\s/$.?#][^\s]{1,2040}$"#, "must be an https URL")
            }
            if let value = present(branding["support_email"]) {
                let text = value as? String ?? ""
                if case .success(let email) = Validate.email(text), email == text {} else {
                    check.fail("branding.support_email", "must be an email address in lower case")
                }
            }
            if let phone = present(branding["support_phone"]) {
                check.pattern(phone, at: "branding.support_phone", #"^\+[1-9][0-9]{6,14}$"#, "must be an E.164 number such as +14165550100")
            }
            if let locales = check.array(branding["locales"], at: "branding.locales", count: 1...20) {
                for (index, locale) in locales.enumerated() {
                    check.pattern(locale, at: "branding.locales[\(index)]", #"^[a-z]{2,3}(-[A-Z]{2})?$"#, "must be a locale such as fr-CA")
                }
                if Set(locales.compactMap { $0 as? String }).count != locales.count { check.fail("branding.locales", "must not repeat a locale") }
            }
        }
        if let domains = check.array(root["domains"], at: "domains", count: 0...knownDomains.count) {
            for (index, domain) in domains.enumerated() where !(domain is String) || !knownDomains.contains(domain as! String) {
                check.fail("domains[\(index)]", "must be one of \(knownDomains.joined(separator: ", "))")
            }
            if Set(domains.compactMap { $0 as? String }).count != domains.count { check.fail("domains", "must not repeat a domain") }
        }
        if let fees = check.object(root["fees"], at: "fees", required: ["fx_spread_bps", "corridors"], optional: []) {
            check.integer(fees["fx_spread_bps"], at: "fees.fx_spread_bps", in: 0...Int64(maxSpreadBps))
            if let corridors = check.array(fees["corridors"], at: "fees.corridors", count: 0...500) {
                var seen: Set<String> = []
                for (index, entry) in corridors.enumerated() {
                    checkCorridor(entry, at: "fees.corridors[\(index)]", seen: &seen, check: &check)
                }
            }
        }
        if let kyc = check.object(root["kyc_limits"], at: "kyc_limits", required: ["currency", "tiers"], optional: []) {
            if kyc["currency"] as? String != "CAD" { check.fail("kyc_limits.currency", "must be CAD, the currency of the platform maxima") }
            if let tiers = check.object(kyc["tiers"], at: "kyc_limits.tiers", required: ["1", "2", "3", "4"], optional: []) {
                for tier in ["1", "2", "3", "4"] { checkTier(tiers[tier], tier: tier, check: &check) }
            }
        }
        if let compliance = present(root["compliance"]) { checkCompliance(compliance, check: &check) }
        if let limits = present(root["rate_limits"]) { checkRateLimits(limits, check: &check) }
        guard check.errors.isEmpty else { return check.errors }
        return readable(root)
    }

    /// Every section the planes read, decoded with the very types they read it with
    /// (`readableConfigSections`): a document the data plane could not read is refused when it is
    /// written, not when a request meets it.
    public static func readable(_ root: [String: Any]) -> [FieldError] {
        readableConfigSections.compactMap { type -> FieldError? in
            guard let value = present(root[type.key]), JSONSerialization.isValidJSONObject(value),
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

    /// Request rates per second and bursts, for the whole tenant and for each member or staff caller.
    /// The data plane applies them under the platform's ceiling (a tenant may lower, not raise, them).
    static func checkRateLimits(_ value: Any, check: inout Checker) {
        let keys = ["tenant_per_second", "tenant_burst", "member_per_second", "member_burst", "address_per_second", "address_burst"]
        guard let limits = check.object(value, at: "rate_limits", required: [], optional: keys) else { return }
        for key in keys where limits[key] != nil { check.integer(limits[key], at: "rate_limits.\(key)", in: 1...1_000_000) }
    }

    /// Screening thresholds (basis points of the match score) and AML rule thresholds: a tenant may be
    /// stricter than the platform (review sooner, hold smaller or fewer transfers), never looser.
    static func checkCompliance(_ value: Any, check: inout Checker) {
        guard let compliance = check.object(value, at: "compliance", required: [], optional: ["screening", "aml"]) else { return }
        if let screening = present(compliance["screening"]),
            let object = check.object(screening, at: "compliance.screening", required: ["review_bps", "block_bps"], optional: [])
        {
            if let review = check.integer(object["review_bps"], at: "compliance.screening.review_bps", in: 7_000...9_000) {
                check.integer(object["block_bps"], at: "compliance.screening.block_bps", in: (review + 1)...9_900)
            }
        }
        if let aml = present(compliance["aml"]),
            let object = check.object(
                aml, at: "compliance.aml", required: [],
                optional: ["max_transfers_per_hour", "large_transfer_minor", "new_device_minor", "structuring_threshold_minor"])
        {
            for (key, maximum) in [("max_transfers_per_hour", Int64(5)), ("large_transfer_minor", 500_000), ("new_device_minor", 100_000),
                                   ("structuring_threshold_minor", 1_000_000)] where object[key] != nil {
                check.integer(object[key], at: "compliance.aml.\(key)", in: 1...maximum)
            }
        }
    }

    /// A fee line: a corridor (CAD to a supported currency) and a payout method, then either one band
    /// (fixed + bps clamped to [min, max]) or `bands` by send amount.
    static func checkCorridor(_ entry: Any?, at path: String, seen: inout Set<String>, check: inout Checker) {
        let flat = ["fixed_minor", "bps", "min_minor", "max_minor"]
        guard let object = check.object(entry, at: path, required: ["corridor", "method"], optional: flat + ["bands"]) else { return }
        if let corridor = check.pattern(object["corridor"], at: "\(path).corridor", #"^CAD-[A-Z]{3}$"#, "must be CAD-<currency>, such as CAD-NGN") {
            if Currency(code: String(corridor.suffix(3))) == nil { check.fail("\(path).corridor", "names an unsupported currency") }
        }
        if let method = object["method"] as? String, payoutMethods.contains(method) {
            if let corridor = object["corridor"] as? String, !seen.insert("\(corridor)/\(method)").inserted {
                check.fail(path, "repeats \(corridor) by \(method)")
            }
        } else {
            check.fail("\(path).method", "must be one of \(payoutMethods.sorted().joined(separator: ", "))")
        }
        if let bands = object["bands"] {
            if flat.contains(where: { object[$0] != nil }) { check.fail(path, "has either bands or fixed_minor, bps, min_minor and max_minor, not both") }
            guard let list = check.array(bands, at: "\(path).bands", count: 1...20) else { return }
            var previous: Int64 = -1
            for (index, band) in list.enumerated() {
                let bandPath = "\(path).bands[\(index)]"
                guard let fields = check.object(band, at: bandPath, required: ["from_minor"] + flat, optional: []) else { continue }
                if let from = check.integer(fields["from_minor"], at: "\(bandPath).from_minor", in: 0...Int64.max) {
                    if index == 0, from != 0 { check.fail("\(bandPath).from_minor", "must be 0 for the first band") }
                    if index > 0, from <= previous { check.fail("\(bandPath).from_minor", "must be above the previous band's") }
                    previous = from
                }
                checkFee(fields, at: bandPath, check: &check)
            }
        } else {
            for key in flat where object[key] == nil { check.fail("\(path).\(key)", "is required") }
            checkFee(object, at: path, check: &check)
        }
    }

    static func checkFee(_ object: [String: Any], at path: String, check: inout Checker) {
        check.integer(object["fixed_minor"], at: "\(path).fixed_minor", in: 0...1_000_000)
        check.integer(object["bps"], at: "\(path).bps", in: 0...10_000)
        let low = check.integer(object["min_minor"], at: "\(path).min_minor", in: 0...1_000_000)
        let high = check.integer(object["max_minor"], at: "\(path).max_minor", in: 0...1_000_000)
        if let low, let high, high < low { check.fail("\(path).max_minor", "must be at least min_minor") }
    }

    /// A tier's rolling 30-day and 24-hour send limits: never above the platform maximum (a tenant may
    /// be stricter, never looser), the daily one never above the monthly one; null is unlimited only
    /// where the platform allows it (the daily limit may always be null: no daily limit).
    static func checkTier(_ value: Any?, tier: String, check: inout Checker) {
        let path = "kyc_limits.tiers.\(tier)"
        guard let limits = check.object(value, at: path, required: ["monthly_send_minor", "daily_send_minor"], optional: []) else { return }
        let maximum = Int(tier).flatMap(KYCTierMaxima.monthlySendMinor(tier:))
        var monthly: Int64?
        if limits["monthly_send_minor"] is NSNull {
            if let maximum { check.fail("\(path).monthly_send_minor", "must be at most the platform maximum \(maximum), not unlimited") }
        } else {
            monthly = check.integer(limits["monthly_send_minor"], at: "\(path).monthly_send_minor", in: 0...(maximum ?? Int64.max))
        }
        if !(limits["daily_send_minor"] is NSNull),
            let daily = check.integer(limits["daily_send_minor"], at: "\(path).daily_send_minor", in: 0...(maximum ?? Int64.max)),
            let monthly, daily > monthly
        {
            check.fail("\(path).daily_send_minor", "must be at most the tier's monthly limit")
        }
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

/// Collects field errors while walking a JSON document.
struct Checker {
    var errors: [FieldError] = []

    mutating func fail(_ path: String, _ message: String) {
        errors.append(FieldError(field: path.isEmpty ? "config" : path, message: message))
    }

    /// An object with exactly the required keys and any of the optional ones; unknown keys are named.
    mutating func object(_ value: Any?, at path: String, required: [String], optional: [String]) -> [String: Any]? {
        guard let object = value as? [String: Any] else {
            fail(path, value == nil ? "is required" : "must be an object")
            return nil
        }
        for key in required where object[key] == nil { fail(path.isEmpty ? key : "\(path).\(key)", "is required") }
        let allowed = Set(required + optional)
        for key in object.keys.sorted() where !allowed.contains(key) { fail(path.isEmpty ? key : "\(path).\(key)", "is not a known field") }
        return object
    }

    mutating func array(_ value: Any?, at path: String, count: ClosedRange<Int>) -> [Any]? {
        guard let array = value as? [Any] else {
            fail(path, value == nil ? "is required" : "must be a list")
            return nil
        }
        guard count.contains(array.count) else {
            fail(path, "must have \(count.lowerBound) to \(count.upperBound) entries")
            return nil
        }
        return array
    }

    /// An integer (not a float, not a boolean) within `range`.
    @discardableResult
    mutating func integer(_ value: Any?, at path: String, in range: ClosedRange<Int64>) -> Int64? {
        // JSONSerialization gives booleans the type code "c" and non-integers "d" or "f".
        guard let number = value as? NSNumber, !["c", "d", "f"].contains(String(cString: number.objCType)) else {
            fail(path, value == nil ? "is required" : "must be an integer")
            return nil
        }
        let exact = number.int64Value
        guard range.contains(exact) else {
            fail(path, range.upperBound == Int64.max ? "must be at least \(range.lowerBound)" : "must be between \(range.lowerBound) and \(range.upperBound)")
            return nil
        }
        return exact
    }

    mutating func text(_ value: Any?, at path: String, length: ClosedRange<Int>) {
        guard let text = value as? String, length.contains(text.trimmingCharacters(in: .whitespacesAndNewlines).count) else {
            fail(path, "must be text of \(length.lowerBound) to \(length.upperBound) characters")
            return
        }
    }

    @discardableResult
    mutating func pattern(_ value: Any?, at path: String, _ regex: String, _ message: String) -> String? {
        guard let text = value as? String, text.range(of: regex, options: .regularExpression) != nil else {
            fail(path, value == nil ? "is required" : message)
            return nil
        }
        return text
    }

}

/// The value, unless it is absent or JSON null (optional fields).
func present(_ value: Any?) -> Any? {
    guard let value, !(value is NSNull) else { return nil }
    return value
}

/// What changed between two configurations, field by field, for `GET …/config/diff`.
public struct ConfigChange: Sendable, Equatable {
    public enum Kind: String, Sendable, Decodable, CaseIterable { case added, removed, changed }
    public let path: String
    public let kind: Kind
    /// The JSON of the value before and after (nil when absent).
    public let before: String?
    public let after: String?

    public static func between(_ old: Any?, _ new: Any?, at path: String = "") -> [ConfigChange] {
        switch (old, new) {
        case (nil, nil):
            return []
        case (nil, let added?):
            return [ConfigChange(path: path, kind: .added, before: nil, after: json(added))]
        case (let removed?, nil):
            return [ConfigChange(path: path, kind: .removed, before: json(removed), after: nil)]
        case (let a as [String: Any], let b as [String: Any]):
            return Set(a.keys).union(b.keys).sorted().flatMap { key in between(a[key], b[key], at: path.isEmpty ? key : "\(path).\(key)") }
        case (let a as [Any], let b as [Any]):
            return (0..<max(a.count, b.count)).flatMap { index in
                between(index < a.count ? a[index] : nil, index < b.count ? b[index] : nil, at: "\(path)[\(index)]")
            }
        case (let a?, let b?):
            return TenantConfig.same(a, b) ? [] : [ConfigChange(path: path, kind: .changed, before: json(a), after: json(b))]
        }
    }

    static func json(_ value: Any) -> String {
        (try? TenantConfig.data(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }
}
