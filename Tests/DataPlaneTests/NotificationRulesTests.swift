@testable import DataPlane
import Foundation
import NzilaCore
import Testing

/// Which events become which messages, on which channels, in which words.
@Suite("Notification rules")
struct NotificationRulesTests {
    static let member = UUID()
    static func threshold(_ currency: Currency) -> Int64 { NotificationsSection.none.largeThreshold(currency) }

    static func intents(_ type: String, _ payload: String) -> [NotificationRules.Intent] {
        NotificationRules.intents(type: type, audience: [member], payload: payload, largeThreshold: threshold)
    }

    @Test("events: remittance outcomes, deposits (a small debit says nothing), large movements either way, tontine payouts, loan penalties; others nothing")
    func intents() throws {
        #expect(Self.intents("remittance.delivered.v1", #"{"remittance_id":"x"}"#).map(\.template) == ["remittance_delivered"])
        #expect(Self.intents("remittance.refunded.v1", "{}").map(\.template) == ["remittance_refunded"])
        #expect(Self.intents("remittance.funded.v1", "{}").isEmpty)
        let deposit = Self.intents("account.balance_changed.v1", #"{"amount_minor":2500,"currency":"CAD"}"#)
        #expect(deposit.map(\.category) == [.deposits] && deposit.first?.amount == Money(minorUnits: 2_500, currency: .cad))
        #expect(Self.intents("account.balance_changed.v1", #"{"amount_minor":-2500,"currency":"CAD"}"#).isEmpty)
        #expect(Self.intents("account.balance_changed.v1", #"{"amount_minor":-100000,"currency":"CAD"}"#).map(\.category) == [.largeTransactions])
        #expect(Self.intents("account.balance_changed.v1", #"{"amount_minor":99999,"currency":"CAD"}"#).map(\.category) == [.deposits])
        // XOF has no decimals: 1,000 XOF is large by default.
        #expect(Self.intents("account.balance_changed.v1", #"{"amount_minor":1000,"currency":"XOF"}"#).map(\.category) == [.largeTransactions])
        let recipient = UUID()
        let payout = NotificationRules.intents(
            type: "tontine.cycle_paid.v1", audience: [],
            payload: #"{"recipient_id":"\#(recipient.uuidString)","cycle":3,"paid":{"amount":50000,"currency":"CAD"}}"#, largeThreshold: Self.threshold)
        #expect(payout.map(\.member) == [recipient] && payout.first?.cycle == 3)
        #expect(Self.intents("loan.penalty_charged.v1", #"{"instalment":2,"penalty":{"amount":1500,"currency":"CAD"}}"#).first?.instalment == 2)
        let loanDue = Self.intents("loan.instalment_due.v1", #"{"instalment":3,"due_date":"2027-04-15","amount_due":{"amount":8885,"currency":"CAD"}}"#)
        #expect(loanDue.map(\.template) == ["loan_due"] && loanDue.first?.category == .loans && loanDue.first?.instalment == 3)
        #expect(loanDue.first?.dueDate == Day(year: 2027, month: 4, day: 15) && loanDue.first?.amount == Money(minorUnits: 8_885, currency: .cad))
        let (ada, ben) = (UUID(), UUID())
        let tontineDue = NotificationRules.intents(
            type: "tontine.contribution_due.v1", audience: [ada, ben],
            payload: #"{"cycle":2,"due_date":"2027-03-01","contribution":{"amount":10000,"currency":"CAD"},"member_ids":[]}"#, largeThreshold: Self.threshold)
        #expect(tontineDue.map(\.member) == [ada, ben] && tontineDue.allSatisfy { $0.template == "tontine_due" && $0.cycle == 2 && $0.category == .tontines })
        #expect(Self.intents("tontine.member_joined.v1", "{}").isEmpty && Self.intents("account.balance_changed.v1", "not json").isEmpty)
        let alert = Self.intents("trading.alert_triggered.v1", #"{"symbol":"DANGCEM","condition":"crosses_below","price":"640","triggered_price":"639.9"}"#)
        #expect(alert.map(\.template) == ["price_alert_below"] && alert.first?.category == .priceAlerts && alert.first?.symbol == "DANGCEM")
        let words = try #require(NotificationRules.render(alert[0], locale: "fr-CA", creditUnion: "Caisse", section: .none))
        #expect(words.title == "DANGCEM sous 640" && words.body.contains("639.9"), "\(words)")
        // Copy trading: the leader leaving and a stop loss are told; a member's own stop is not.
        let left = Self.intents("trading.copy_leader_left.v1", #"{"leader_display_name":"Ada O.","state":"leader_left"}"#)
        #expect(left.map(\.template) == ["copy_leader_left"] && left.first?.category == .copyTrading && left.first?.leader == "Ada O.")
        let leftWords = try #require(NotificationRules.render(left[0], locale: "en-CA", creditUnion: "Caisse", section: .none))
        #expect(leftWords.title == "Ada O. stopped being copyable" && leftWords.body.contains("positions are yours"), "\(leftWords)")
        let loss = Self.intents("trading.copy_stopped.v1", #"{"leader_display_name":"Ada O.","state":"stopped","stop_reason":"stop_loss"}"#)
        #expect(loss.map(\.template) == ["copy_stop_loss"])
        let lossWords = try #require(NotificationRules.render(loss[0], locale: "fr-CA", creditUnion: "Caisse", section: .none))
        #expect(lossWords.title == "Copie de Ada O. arrêtée", "\(lossWords)")
        #expect(Self.intents("trading.copy_stopped.v1", #"{"leader_display_name":"Ada O.","state":"stopped","stop_reason":"member"}"#).isEmpty)
    }

    static func contact(devices: Int, phone: String?, choices: [NotificationCategory: ChannelChoice] = [:]) -> NotificationRules.Contact {
        NotificationRules.Contact(devices: (0..<devices).map { _ in (UUID(), "…abc123") }, phone: phone, email: "ada@example.com", choices: choices)
    }

    @Test("channels: choices decide, defaults push; a critical message reaches one channel that exists whatever the choices (push, else SMS, else e-mail)")
    func channels() {
        #expect(NotificationRules.deliveries(.deposits, to: Self.contact(devices: 2, phone: "+15145550123")).map(\.channel) == [.push, .push])
        #expect(NotificationRules.deliveries(.deposits, to: Self.contact(devices: 0, phone: "+15145550123")).isEmpty)
        let all = ChannelChoice(push: true, sms: true, email: true)
        #expect(NotificationRules.deliveries(.deposits, to: Self.contact(devices: 1, phone: "+15145550123", choices: [.deposits: all])).map(\.channel) == [.push, .sms, .email])
        let none = ChannelChoice(push: false, sms: false, email: false)
        #expect(NotificationRules.deliveries(.largeTransactions, to: Self.contact(devices: 1, phone: "+1514", choices: [.largeTransactions: none])).map(\.channel) == [.push])
        #expect(NotificationRules.deliveries(.largeTransactions, to: Self.contact(devices: 0, phone: "+15145550123")).map(\.hint) == ["•••• 0123"])
        #expect(NotificationRules.deliveries(.largeTransactions, to: Self.contact(devices: 0, phone: nil)).map(\.hint) == ["a•••@example.com"])
    }

    @Test("words: the tenant's template or the platform's, placeholders filled, amounts as each locale writes them")
    func words() throws {
        #expect(NotificationTemplates.amount(Money(minorUnits: 123_456_78, currency: .cad), locale: "en-CA") == "123,456.78 CAD")
        #expect(NotificationTemplates.amount(Money(minorUnits: 123_456_78, currency: .cad), locale: "fr-CA") == "123\u{202F}456,78 CAD")
        #expect(NotificationTemplates.amount(Money(minorUnits: -5_000, currency: Currency(code: "XOF")!), locale: "en-CA") == "5,000 XOF")
        let intent = NotificationRules.Intent(member: UUID(), category: .deposits, template: "deposit_received", amount: Money(minorUnits: 2_500, currency: .cad), cycle: nil, instalment: nil)
        let platform = try #require(NotificationRules.render(intent, locale: "en-CA", creditUnion: "Caisse Umoja", section: .none))
        #expect(platform.body == "25.00 CAD arrived in your Caisse Umoja account.")
        let own = NotificationsSection(largeTransactionMinor: nil, templates: ["deposit_received": ["fr-CA": .init(title: "Dépôt", body: "{amount} chez {credit_union}")]])
        #expect(NotificationRules.render(intent, locale: "fr-CA", creditUnion: "Caisse Umoja", section: own)?.body == "25,00 CAD chez Caisse Umoja")
        #expect(NotificationRules.render(intent, locale: "en-CA", creditUnion: "Caisse Umoja", section: own)?.title == "Money in", "other locales keep the platform's")
        let due = NotificationRules.Intent(
            member: UUID(), category: .loans, template: "loan_due", amount: Money(minorUnits: 8_885, currency: .cad), instalment: 2, dueDate: Day(year: 2027, month: 3, day: 1))
        #expect(NotificationRules.render(due, locale: "en-CA", creditUnion: "Caisse Umoja", section: .none)?.body
            == "Instalment 2 of your Caisse Umoja loan, 88.85 CAD, is due on March 1, 2027.")
        #expect(NotificationRules.render(due, locale: "fr-CA", creditUnion: "Caisse Umoja", section: .none)?.body
            == "L'échéance 2 de votre prêt Caisse Umoja, 88,85 CAD, est due le 1er mars 2027.")
        #expect(NotificationTemplates.date(Day(year: 2026, month: 12, day: 7)!, locale: "fr-CA") == "7 décembre 2026")
        for key in NotificationTemplates.keys {
            for locale in NotificationsSection.locales {
                let template = try #require(NotificationTemplates.defaults[key]?[locale], "\(key) \(locale)")
                #expect((NotificationTemplates.placeholderNames(in: template.title) + NotificationTemplates.placeholderNames(in: template.body))
                    .allSatisfy(NotificationsSection.placeholders.contains))
            }
        }
    }

    @Test("the notifications section: known keys and locales, bounded text, known placeholders, positive thresholds in known currencies")
    func section() {
        var good = ConfigChecker()
        NotificationsSection.check(
            ["large_transaction_minor": ["CAD": 50_000], "templates": ["deposit_received": ["fr-CA": ["title": "Dépôt", "body": "{amount} reçu"]]]],
            at: "notifications", into: &good)
        #expect(good.errors.isEmpty, "\(good.errors)")
        var bad = ConfigChecker()
        NotificationsSection.check(
            [
                "large_transaction_minor": ["ABC": 1, "CAD": 0],
                "templates": ["surprise": [:], "deposit_received": ["de-DE": ["title": "x", "body": "y"], "en-CA": ["title": "", "body": "{account_number}"]]],
            ], at: "notifications", into: &bad)
        let fields = Set(bad.errors.map(\.field))
        #expect(fields.isSuperset(of: [
            "notifications.large_transaction_minor.ABC", "notifications.large_transaction_minor.CAD", "notifications.templates.surprise",
            "notifications.templates.deposit_received.de-DE", "notifications.templates.deposit_received.en-CA.title",
            "notifications.templates.deposit_received.en-CA.body",
        ]), "\(bad.errors)")
    }
}
