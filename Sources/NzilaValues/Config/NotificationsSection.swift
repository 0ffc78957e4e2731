import Foundation

/// `notifications` (optional): when a movement counts as large (a critical confirmation, sent even
/// by SMS when the member has no push device) and the tenant's own wording of each message, per
/// locale. Without the section the platform's templates apply (`NotificationTemplates`) and the large
/// threshold is 1,000.00 in two-decimal currencies.
///
///     notifications:
///       large_transaction_minor: {CAD: 100000}
///       templates:
///         deposit_received:
///           en-CA: {title: "Money in", body: "{amount} arrived in your {credit_union} account."}
///           fr-CA: {title: "Argent reçu", body: "{amount} est arrivé dans votre compte {credit_union}."}
///
/// Placeholders: `{credit_union}` (the branding's display name), `{amount}` (the amount with its
/// currency, as the member's locale writes it), `{cycle}` (a tontine cycle's number), `{instalment}`
/// (a loan instalment's number), `{due_date}` (the day a contribution or instalment falls due, as
/// the member's locale writes it: "December 7, 2026", "7 décembre 2026"), `{symbol}`, `{level}` and
/// `{price}` (a price alert's symbol, its level and the trade that crossed it), `{leader}` (a copied
/// leader's display name). No template can name an account or recipient number: there is no
/// placeholder for one.
public struct NotificationsSection: ConfigSection, Equatable {
    public static let key = "notifications"

    public struct Template: Decodable, Equatable, Sendable {
        public let title: String
        public let body: String

        public init(title: String, body: String) {
            self.title = title
            self.body = body
        }
    }

    public let largeTransactionMinor: [String: Int64]?
    /// Message key → locale → template.
    public let templates: [String: [String: Template]]?

    public init(largeTransactionMinor: [String: Int64]?, templates: [String: [String: Template]]?) {
        self.largeTransactionMinor = largeTransactionMinor
        self.templates = templates
    }

    public static let none = NotificationsSection(largeTransactionMinor: nil, templates: nil)

    public static let locales = ["en-CA", "fr-CA"]
    public static let placeholders = ["credit_union", "amount", "cycle", "instalment", "due_date", "symbol", "level", "price", "leader"]

    /// The threshold at or above which a movement in `currency` is large (1,000 major units when
    /// the section does not say).
    public func largeThreshold(_ currency: Currency) -> Int64 {
        if let configured = largeTransactionMinor?[currency.code] { return configured }
        var scale: Int64 = 1
        for _ in 0..<currency.exponent { scale *= 10 }
        return 1_000 * scale
    }

    public static func check(_ value: Any, at path: String, into check: inout ConfigChecker) {
        guard let section = check.object(value, at: path, required: [], optional: ["large_transaction_minor", "templates"]) else { return }
        if let thresholds = ConfigChecker.present(section["large_transaction_minor"]) {
            if let byCurrency = thresholds as? [String: Any] {
                for (code, amount) in byCurrency.sorted(by: { $0.key < $1.key }) {
                    if Currency(code: code) == nil { check.fail("\(path).large_transaction_minor.\(code)", "must be a supported currency code") }
                    check.integer(amount, at: "\(path).large_transaction_minor.\(code)", in: 1...1_000_000_000_000)
                }
            } else {
                check.fail("\(path).large_transaction_minor", "must be an object of currency code to minor units")
            }
        }
        guard let templates = ConfigChecker.present(section["templates"]) else { return }
        guard let byKey = templates as? [String: Any] else { return check.fail("\(path).templates", "must be an object of message key to locales") }
        for (key, locales) in byKey.sorted(by: { $0.key < $1.key }) {
            let at = "\(path).templates.\(key)"
            guard NotificationTemplates.keys.contains(key) else {
                check.fail(at, "must be one of \(NotificationTemplates.keys.joined(separator: ", "))")
                continue
            }
            guard let byLocale = locales as? [String: Any] else {
                check.fail(at, "must be an object of locale (en-CA, fr-CA) to {title, body}")
                continue
            }
            for (locale, template) in byLocale.sorted(by: { $0.key < $1.key }) {
                guard Self.locales.contains(locale) else {
                    check.fail("\(at).\(locale)", "must be en-CA or fr-CA")
                    continue
                }
                guard let object = check.object(template, at: "\(at).\(locale)", required: ["title", "body"], optional: []) else { continue }
                for (field, limit) in [("title", 100), ("body", 500)] {
                    guard let text = object[field] as? String, (1...limit).contains(text.count) else {
                        check.fail("\(at).\(locale).\(field)", "must be text of 1 to \(limit) characters")
                        continue
                    }
                    for name in NotificationTemplates.placeholderNames(in: text) where !placeholders.contains(name) {
                        check.fail("\(at).\(locale).\(field)", "{\(name)} is not a placeholder; use \(placeholders.map { "{\($0)}" }.joined(separator: ", "))")
                    }
                }
            }
        }
    }
}

/// The platform's wording of each message, in English and French (Canada); a tenant's
/// `notifications.templates` replaces any of them.
public enum NotificationTemplates {
    public static let defaults: [String: [String: NotificationsSection.Template]] = [
        "remittance_delivered": [
            "en-CA": .init(title: "Transfer delivered", body: "Your transfer from {credit_union} has been delivered."),
            "fr-CA": .init(title: "Transfert livré", body: "Votre transfert depuis {credit_union} a été livré."),
        ],
        "remittance_failed": [
            "en-CA": .init(title: "Transfer failed", body: "Your transfer from {credit_union} could not be delivered. We will refund you."),
            "fr-CA": .init(title: "Échec du transfert", body: "Votre transfert depuis {credit_union} n'a pas pu être livré. Vous serez remboursé."),
        ],
        "remittance_refunded": [
            "en-CA": .init(title: "Transfer refunded", body: "Your transfer was refunded to your {credit_union} account."),
            "fr-CA": .init(title: "Transfert remboursé", body: "Votre transfert a été remboursé dans votre compte {credit_union}."),
        ],
        "deposit_received": [
            "en-CA": .init(title: "Money in", body: "{amount} arrived in your {credit_union} account."),
            "fr-CA": .init(title: "Argent reçu", body: "{amount} est arrivé dans votre compte {credit_union}."),
        ],
        "large_transaction": [
            "en-CA": .init(title: "Large transaction", body: "{amount} just moved on your {credit_union} account. Not you? Call us now."),
            "fr-CA": .init(title: "Transaction importante", body: "{amount} vient de passer sur votre compte {credit_union}. Ce n'est pas vous? Appelez-nous."),
        ],
        "tontine_payout": [
            "en-CA": .init(title: "Tontine payout", body: "You received {amount}: cycle {cycle} of your circle at {credit_union}."),
            "fr-CA": .init(title: "Versement de tontine", body: "Vous avez reçu {amount} : cycle {cycle} de votre cercle chez {credit_union}."),
        ],
        "tontine_due": [
            "en-CA": .init(title: "Contribution due", body: "Your {amount} contribution to cycle {cycle} of your {credit_union} circle is due on {due_date}."),
            "fr-CA": .init(title: "Cotisation à verser", body: "Votre cotisation de {amount} au cycle {cycle} de votre cercle {credit_union} est due le {due_date}."),
        ],
        "loan_due": [
            "en-CA": .init(title: "Payment due", body: "Instalment {instalment} of your {credit_union} loan, {amount}, is due on {due_date}."),
            "fr-CA": .init(title: "Paiement à venir", body: "L'échéance {instalment} de votre prêt {credit_union}, {amount}, est due le {due_date}."),
        ],
        "price_alert_above": [
            "en-CA": .init(title: "{symbol} above {level}", body: "{symbol} traded at {price}, crossing above your alert level of {level}."),
            "fr-CA": .init(title: "{symbol} au-dessus de {level}", body: "{symbol} s'est échangé à {price}, au-dessus de votre seuil d'alerte de {level}."),
        ],
        "price_alert_below": [
            "en-CA": .init(title: "{symbol} below {level}", body: "{symbol} traded at {price}, crossing below your alert level of {level}."),
            "fr-CA": .init(title: "{symbol} sous {level}", body: "{symbol} s'est échangé à {price}, sous votre seuil d'alerte de {level}."),
        ],
        "copy_leader_left": [
            "en-CA": .init(title: "{leader} stopped being copyable", body: "Your copy of {leader} no longer mirrors their trades. Its positions are yours: sell them or stop the copy."),
            "fr-CA": .init(title: "{leader} ne peut plus être copié", body: "Votre copie de {leader} ne reproduit plus ses ordres. Ses positions sont à vous : vendez-les ou arrêtez la copie."),
        ],
        "copy_stop_loss": [
            "en-CA": .init(title: "Copy of {leader} stopped", body: "Your copy of {leader} reached its stop loss: its positions are being sold."),
            "fr-CA": .init(title: "Copie de {leader} arrêtée", body: "Votre copie de {leader} a atteint son seuil de perte : ses positions sont vendues."),
        ],
        "loan_overdue": [
            "en-CA": .init(title: "Payment overdue", body: "Instalment {instalment} of your {credit_union} loan is overdue; a late fee of {amount} applies."),
            "fr-CA": .init(title: "Paiement en retard", body: "L'échéance {instalment} de votre prêt {credit_union} est en retard; des frais de {amount} s'appliquent."),
        ],
    ]

    public static var keys: [String] { defaults.keys.sorted() }

    /// `{name}` placeholders in a text.
    public static func placeholderNames(in text: String) -> [String] {
        var names: [String] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            names.append(String(rest[rest.index(after: open)..<close]))
            rest = rest[rest.index(after: close)...]
        }
        return names
    }

    /// The tenant's template for `key` in `locale`, else the platform's (English when the locale has none).
    public static func template(_ key: String, locale: String, section: NotificationsSection) -> NotificationsSection.Template? {
        section.templates?[key]?[locale] ?? defaults[key]?[locale] ?? defaults[key]?["en-CA"]
    }

    /// `text` with its placeholders filled (an unknown one is left as written).
    public static func fill(_ text: String, _ values: [String: String]) -> String {
        var out = text
        for (name, value) in values { out = out.replacingOccurrences(of: "{\(name)}", with: value) }
        return out
    }

    /// A day as a member reads it: "December 7, 2026" in English, "7 décembre 2026" in French
    /// (the first of a month is "1er" in French).
    public static func date(_ day: Day, locale: String) -> String {
        let english = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
        let french = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"]
        if locale == "fr-CA" { return "\(day.day == 1 ? "1er" : String(day.day)) \(french[day.month - 1]) \(day.year)" }
        return "\(english[day.month - 1]) \(day.day), \(day.year)"
    }

    /// An amount as a member reads it: "1,234.50 CAD" in English, "1 234,50 CAD" in French.
    public static func amount(_ money: Money, locale: String) -> String {
        let plain = Money(minorUnits: money.minorUnits == .min ? .max : abs(money.minorUnits), currency: money.currency).formatted
        let parts = plain.split(separator: ".", maxSplits: 1).map(String.init)
        var whole = parts[0]
        var grouped = ""
        let separator = locale == "fr-CA" ? "\u{202F}" : ","
        while whole.count > 3 {
            grouped = separator + String(whole.suffix(3)) + grouped
            whole = String(whole.dropLast(3))
        }
        grouped = whole + grouped
        if parts.count == 2 { grouped += (locale == "fr-CA" ? "," : ".") + parts[1] }
        return "\(grouped) \(money.currency.code)"
    }
}
