import Foundation

/// Reading the API's JSON in a page: absent or mistyped fields read as empty, never a crash.
extension Dictionary where Key == String, Value == Any {
    func string(_ key: String) -> String { self[key] as? String ?? (self[key] as? NSNumber)?.stringValue ?? "" }

    func int64(_ key: String) -> Int64 {
        if let number = self[key] as? NSNumber { return number.int64Value }
        return Int64(self[key] as? String ?? "") ?? 0
    }

    func object(_ key: String) -> [String: Any] { self[key] as? [String: Any] ?? [:] }

    func objects(_ key: String) -> [[String: Any]] { self[key] as? [[String: Any]] ?? [] }

    /// A `{"amount": minor, "currency": "CAD"}` money value as staff read it.
    func money(_ key: String, locale: String) -> String {
        let money = object(key)
        return WebFormat.money(money.int64("amount"), money.string("currency"), locale: locale)
    }
}
