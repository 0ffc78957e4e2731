import Foundation
import NzilaCore

/// A remittance order as the API shows it: the quote's figures, the recipient without the numbers
/// that identify their documents or accounts (sealed at rest; a hint of their last characters only),
/// the state and, on a single order, its status log.
public struct RemittanceOrder: Codable, Sendable {
    public struct LogEntry: Codable, Sendable, Equatable {
        public let fromState: OrderState?
        public let toState: OrderState
        public let actor: String?
        public let actorRole: String
        public let reason: String
        public let at: Date
    }

    /// What staff and partners route on; `hint` is the last characters of the number (msisdn,
    /// account or document).
    public struct RecipientView: Codable, Sendable, Equatable {
        public let name: String
        public let method: String
        public let country: String
        public let mobileOperator: String?
        public let bankCode: String?
        public let idType: String?
        public let hint: String?

        public init(_ recipient: Recipient) {
            name = recipient.name
            method = recipient.method
            country = recipient.country
            mobileOperator = recipient.mobileOperator
            bankCode = recipient.bankCode
            idType = recipient.idType
            hint = (recipient.msisdn ?? recipient.accountNumber ?? recipient.idNumber).map { String($0.suffix(4)) }
        }
    }

    public let id: RemittanceID
    public let memberId: MemberID
    public let quoteId: QuoteID
    public let corridor: String
    public let method: String
    public let send: Money
    public let fee: Money
    public let totalDebit: Money
    public let receive: Money
    public let midRate: String
    public let customerRate: String
    public let spread: Money
    public let recipient: RecipientView
    public let state: OrderState
    public let funding: String
    public let sourceAccountId: AccountID?
    public let holdId: HoldID?
    public let fundingJournalId: JournalID?
    public let conversionJournalId: JournalID?
    public let deliveryJournalId: JournalID?
    public let caseId: CaseID?
    /// Why the order was held for review, when it was.
    public let holdReasons: [String]
    public let partner: String?
    public let attempts: Int
    public let fundingExpiresAt: Date?
    public let createdAt: Date
    public let updatedAt: Date
    public var statusLog: [LogEntry]?
}

/// Who moved an order, as the status log records it.
public typealias OrderActor = ChangeActor

extension ChangeActor {
    /// The data plane's own worker.
    public static let worker = ChangeActor.system

    public static func webhook(_ provider: String) -> ChangeActor { ChangeActor(id: nil, role: "webhook:\(provider)") }
}

/// What a transition also records on the order, besides its state.
public struct OrderChanges: Sendable {
    public enum NextStep: Sendable {
        case keep, clear, at(Date)

        /// As SQL binds: keep the column as it is, or set it to the date (NULL clears it).
        var binds: (keep: Bool, date: Date?) {
            switch self {
            case .keep: return (true, nil)
            case .clear: return (false, nil)
            case .at(let date): return (false, date)
            }
        }
    }

    public var holdID: UUID?
    public var fundingJournal: UUID?
    public var conversionJournal: UUID?
    public var deliveryJournal: UUID?
    public var partner: String?
    public var partnerReference: String?
    public var attempts: Int?
    public var nextStep: NextStep = .keep
    /// A partner attempt written in the transition's own statement: one started (converting →
    /// disbursing) or one that paid (disbursing → delivered), saving a round trip on the common path.
    public var attempt: AttemptChange?

    public enum AttemptChange: Sendable {
        case start(number: Int, partner: String)
        case paid(number: Int, transaction: String)
    }

    public init() {}
}
