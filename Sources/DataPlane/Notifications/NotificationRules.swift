import Foundation
import NzilaCore
import NzilaDatabase

/// What members are told, as pure rules: which events become which messages (`intents`), and on
/// which channels a message goes to a member given their devices, contact details and preferences
/// (`deliveries`). docs/EVENTS.md, Notifications.
public enum NotificationCategory: String, CaseIterable, Codable, Sendable {
    case remittances, deposits
    case largeTransactions = "large_transactions"
    case tontines, loans
    /// Paper trading's price alerts.
    case priceAlerts = "price_alerts"
    /// Copy trading's notices: a leader stopped being copyable, a copy's stop loss closed it.
    case copyTrading = "copy_trading"

    /// A large movement must reach the member: it is sent whatever the preferences say, by push to
    /// every device, or by SMS when they have none (then e-mail when they have no phone).
    public var isCritical: Bool { self == .largeTransactions }

    /// The channels a member who has said nothing gets.
    public var defaults: ChannelChoice { ChannelChoice(push: true, sms: isCritical, email: false) }
}

public struct ChannelChoice: Codable, Sendable, Equatable {
    public var push: Bool
    public var sms: Bool
    public var email: Bool

    public init(push: Bool, sms: Bool, email: Bool) {
        self.push = push
        self.sms = sms
        self.email = email
    }
}

public enum NotificationChannel: String, Codable, Sendable, CaseIterable {
    case push, sms, email
}

public enum NotificationRules {
    /// A message an event calls for, before its channels are chosen.
    public struct Intent: Sendable, Equatable {
        public let member: UUID
        public let category: NotificationCategory
        /// The template key (`NotificationTemplates`).
        public let template: String
        public let amount: Money?
        public let cycle: Int?
        public let instalment: Int?
        /// The day something falls due (reminders).
        public let dueDate: Day?
        /// A price alert's symbol, its level and the price that crossed it (decimal strings in the
        /// instrument's quote unit).
        public let symbol: String?
        public let level: String?
        public let price: String?
        /// A copied leader's display name.
        public let leader: String?

        public init(
            member: UUID, category: NotificationCategory, template: String, amount: Money?, cycle: Int? = nil, instalment: Int? = nil, dueDate: Day? = nil,
            symbol: String? = nil, level: String? = nil, price: String? = nil, leader: String? = nil
        ) {
            self.leader = leader
            self.member = member
            self.category = category
            self.template = template
            self.amount = amount
            self.cycle = cycle
            self.instalment = instalment
            self.dueDate = dueDate
            self.symbol = symbol
            self.level = level
            self.price = price
        }
    }

    /// The event types that can become messages.
    public static let eventTypes: Set<String> = [
        "remittance.delivered.v1", "remittance.failed.v1", "remittance.refunded.v1", "account.balance_changed.v1", "tontine.cycle_paid.v1",
        "loan.penalty_charged.v1", "loan.instalment_due.v1", "tontine.contribution_due.v1", "trading.alert_triggered.v1",
        "trading.copy_leader_left.v1", "trading.copy_stopped.v1",
    ]

    static func money(_ object: Any?) -> Money? {
        guard let object = object as? [String: Any], let amount = (object["amount"] as? NSNumber)?.int64Value,
            let currency = (object["currency"] as? String).flatMap(Currency.init(code:))
        else { return nil }
        return Money(minorUnits: amount, currency: currency)
    }

    /// The messages `event` (type, audience, payload JSON) calls for. A movement on a member's
    /// account at or above `largeThreshold` of its currency is a critical confirmation (in or out);
    /// a smaller one in is a deposit notice; a smaller one out says nothing (the member made it).
    public static func intents(type: String, audience: [UUID], payload: String, largeThreshold: (Currency) -> Int64) -> [Intent] {
        guard eventTypes.contains(type), let data = (try? JSONSerialization.jsonObject(with: Data(payload.utf8))) as? [String: Any] else { return [] }
        switch type {
        case "remittance.delivered.v1", "remittance.failed.v1", "remittance.refunded.v1":
            let key = "remittance_" + type.dropFirst("remittance.".count).prefix { $0 != "." }
            return audience.map { Intent(member: $0, category: .remittances, template: key, amount: nil, cycle: nil, instalment: nil) }
        case "account.balance_changed.v1":
            guard let amount = (data["amount_minor"] as? NSNumber)?.int64Value, let currency = (data["currency"] as? String).flatMap(Currency.init(code:)) else { return [] }
            let money = Money(minorUnits: amount, currency: currency)
            if amount.magnitude >= UInt64(max(1, largeThreshold(currency))) {
                return audience.map { Intent(member: $0, category: .largeTransactions, template: "large_transaction", amount: money, cycle: nil, instalment: nil) }
            }
            guard amount > 0 else { return [] }
            return audience.map { Intent(member: $0, category: .deposits, template: "deposit_received", amount: money, cycle: nil, instalment: nil) }
        case "tontine.cycle_paid.v1":
            guard let recipient = (data["recipient_id"] as? String).flatMap(UUID.init(uuidString:)) else { return [] }
            return [Intent(member: recipient, category: .tontines, template: "tontine_payout", amount: money(data["paid"]), cycle: (data["cycle"] as? NSNumber)?.intValue, instalment: nil)]
        case "tontine.contribution_due.v1":
            let due = (data["due_date"] as? String).flatMap(Day.init)
            return audience.map {
                Intent(member: $0, category: .tontines, template: "tontine_due", amount: money(data["contribution"]), cycle: (data["cycle"] as? NSNumber)?.intValue, dueDate: due)
            }
        case "loan.instalment_due.v1":
            let due = (data["due_date"] as? String).flatMap(Day.init)
            return audience.map {
                Intent(member: $0, category: .loans, template: "loan_due", amount: money(data["amount_due"]), instalment: (data["instalment"] as? NSNumber)?.intValue, dueDate: due)
            }
        case "loan.penalty_charged.v1":
            return audience.map {
                Intent(member: $0, category: .loans, template: "loan_overdue", amount: money(data["penalty"]), cycle: nil, instalment: (data["instalment"] as? NSNumber)?.intValue)
            }
        case "trading.alert_triggered.v1":
            guard let symbol = data["symbol"] as? String, let condition = data["condition"] as? String else { return [] }
            return audience.map {
                Intent(
                    member: $0, category: .priceAlerts, template: condition == "crosses_below" ? "price_alert_below" : "price_alert_above", amount: nil,
                    symbol: symbol, level: data["price"] as? String, price: data["triggered_price"] as? String)
            }
        case "trading.copy_leader_left.v1":
            return audience.map { Intent(member: $0, category: .copyTrading, template: "copy_leader_left", amount: nil, leader: data["leader_display_name"] as? String) }
        case "trading.copy_stopped.v1":
            // A stop the member asked for needs no notice; the stop loss does.
            guard data["stop_reason"] as? String == "stop_loss" else { return [] }
            return audience.map { Intent(member: $0, category: .copyTrading, template: "copy_stop_loss", amount: nil, leader: data["leader_display_name"] as? String) }
        default:
            return []
        }
    }

    /// What the platform knows of a member for sending: their devices, phone, e-mail, choices.
    public struct Contact: Sendable {
        public let devices: [(id: UUID, hint: String)]
        public let phone: String?
        public let email: String?
        public let choices: [NotificationCategory: ChannelChoice]

        public init(devices: [(id: UUID, hint: String)], phone: String?, email: String?, choices: [NotificationCategory: ChannelChoice]) {
            self.devices = devices
            self.phone = phone
            self.email = email
            self.choices = choices
        }
    }

    /// One message on one channel (to one device, for push), with what may be shown of its address.
    public struct Delivery: Sendable, Equatable {
        public let channel: NotificationChannel
        public let device: UUID?
        public let hint: String
    }

    /// The channels `intent` goes out on to `contact`.
    public static func deliveries(_ category: NotificationCategory, to contact: Contact) -> [Delivery] {
        let push = contact.devices.map { Delivery(channel: .push, device: $0.id, hint: $0.hint) }
        let sms = contact.phone.map { [Delivery(channel: .sms, device: nil, hint: mask(phone: $0))] } ?? []
        let email = contact.email.map { [Delivery(channel: .email, device: nil, hint: mask(email: $0))] } ?? []
        let choice = contact.choices[category] ?? category.defaults
        if category.isCritical {
            // One channel that reaches a person, whatever the choices: push, else SMS, else e-mail;
            // e-mail too when they asked for it.
            let first = !push.isEmpty ? push : !sms.isEmpty ? sms : email
            let extra = choice.email && !first.contains { $0.channel == .email } ? email : []
            return first + extra
        }
        return (choice.push ? push : []) + (choice.sms ? sms : []) + (choice.email ? email : [])
    }

    /// "•••• 4567": a phone number's last four digits.
    public static func mask(phone: String) -> String {
        "•••• " + String(phone.filter(\.isNumber).suffix(4))
    }

    /// "a•••@example.com".
    public static func mask(email: String) -> String {
        guard let at = email.firstIndex(of: "@"), at > email.startIndex else { return "•••" }
        return String(email[email.startIndex]) + "•••" + email[at...]
    }

    /// The message's title and body in `locale`, from the tenant's templates or the platform's.
    public static func render(_ intent: Intent, locale: String, creditUnion: String, section: NotificationsSection) -> (title: String, body: String)? {
        guard let template = NotificationTemplates.template(intent.template, locale: locale, section: section) else { return nil }
        var values = ["credit_union": creditUnion]
        if let amount = intent.amount { values["amount"] = NotificationTemplates.amount(amount, locale: locale) }
        if let cycle = intent.cycle { values["cycle"] = String(cycle) }
        if let instalment = intent.instalment { values["instalment"] = String(instalment) }
        if let due = intent.dueDate { values["due_date"] = NotificationTemplates.date(due, locale: locale) }
        if let symbol = intent.symbol { values["symbol"] = symbol }
        if let level = intent.level { values["level"] = level }
        if let price = intent.price { values["price"] = price }
        if let leader = intent.leader { values["leader"] = leader }
        return (NotificationTemplates.fill(template.title, values), NotificationTemplates.fill(template.body, values))
    }

    /// The wait before retrying a send that failed for a reason that may pass (1 min doubling), and
    /// after how many attempts it is given up.
    public static let maximumAttempts = 5
    public static func retryDelay(afterAttempt attempt: Int) -> TimeInterval {
        60 * pow(2, Double(min(max(attempt, 1) - 1, 10)))
    }
}
