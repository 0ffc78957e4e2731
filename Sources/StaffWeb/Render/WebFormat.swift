import Crypto
import Foundation
import NzilaCore

/// How the pages write and read money and time. Pure, so unit-tested without a browser.
public enum WebFormat {
    /// `minor` units of `code` as staff read them: `CAD 1,234.56` in English, `1 234,56 CAD` in French.
    /// Exact: integer arithmetic on the currency's exponent, never a `Double`.
    public static func money(_ minor: Int64, _ code: String, locale: String) -> String {
        let exponent = Currency(code: code)?.exponent ?? 2
        let negative = minor < 0
        let magnitude = minor.magnitude
        var divisor: UInt64 = 1
        for _ in 0..<exponent { divisor *= 10 }
        let whole = magnitude / divisor
        let fraction = magnitude % divisor
        let group = locale == "fr" ? "\u{202F}" : ","
        let point = locale == "fr" ? "," : "."
        var digits = String(whole)
        var grouped = ""
        while digits.count > 3 {
            grouped = group + digits.suffix(3) + grouped
            digits = String(digits.dropLast(3))
        }
        grouped = digits + grouped
        if exponent > 0 {
            let padded = String(fraction)
            grouped += point + String(repeating: "0", count: exponent - padded.count) + padded
        }
        let sign = negative ? "−" : ""
        return locale == "fr" ? "\(sign)\(grouped) \(code)" : "\(sign)\(code) \(grouped)"
    }

    /// An amount typed in a form (`12.50`, `12,50`, `1 234.5`) to minor units of a currency with
    /// `exponent` decimals. Refused, never rounded: more decimals than the currency has, signs,
    /// letters, zero, or more than 15 digits. Rounding: none.
    public static func minorUnits(_ typed: String, exponent: Int) -> Int64? {
        let cleaned = typed.filter { !$0.isWhitespace && $0 != "\u{202F}" && $0 != "\u{00A0}" }
        let parts = cleaned.replacingOccurrences(of: ",", with: ".").split(separator: ".", omittingEmptySubsequences: false)
        guard !cleaned.isEmpty, parts.count <= 2, parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }) else { return nil }
        let whole = parts[0].isEmpty ? "0" : String(parts[0])
        let fraction = parts.count == 2 ? String(parts[1]) : ""
        guard parts.count == 1 || !fraction.isEmpty, fraction.count <= exponent, whole.count + exponent <= 15 else { return nil }
        guard let value = Int64(whole + fraction + String(repeating: "0", count: exponent - fraction.count)), value > 0 else { return nil }
        return value
    }

    /// An API timestamp (RFC 3339) as `2026-12-06 14:03 UTC`; what was sent if it does not parse.
    public static func time(_ raw: String?) -> String {
        guard let raw else { return "" }
        guard let date = parseTime(raw) else { return raw }
        return time(date)
    }

    public static func time(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return String(format: "%04d-%02d-%02d %02d:%02d UTC", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0, parts.hour ?? 0, parts.minute ?? 0)
    }

    public static func parseTime(_ raw: String) -> Date? {
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = fractional.date(from: raw) { return date }
        return ISO8601DateFormatter().date(from: raw)
    }

    /// A document or account number shown masked: the last four characters only.
    public static func masked(_ raw: String) -> String {
        raw.count <= 4 ? String(repeating: "•", count: raw.count) : String(repeating: "•", count: min(8, raw.count - 4)) + raw.suffix(4)
    }

    static func shortDigest(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    /// WCAG 2 contrast ratio of white text on a `#RRGGBB` background (nil for anything else): the
    /// branding preview warns below 4.5:1, the level body text needs. Not money: `Double` is fine.
    public static func contrastWithWhite(_ hex: String) -> Double? {
        guard hex.wholeMatch(of: /#[0-9A-Fa-f]{6}/) != nil, let value = Int(hex.dropFirst(), radix: 16) else { return nil }
        let channel: (Int) -> Double = { shift in
            let c = Double((value >> shift) & 0xFF) / 255
            return c <= 0.03928 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4)
        }
        let luminance = 0.2126 * channel(16) + 0.7152 * channel(8) + 0.0722 * channel(0)
        return 1.05 / (luminance + 0.05)
    }
}
