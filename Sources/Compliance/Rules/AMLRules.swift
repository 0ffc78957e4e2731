/// One outgoing transfer of a sender, as the AML rules and FINTRAC reporting see it: amounts in CAD
/// minor units (converted at the order's rate), times in milliseconds since the epoch.
public struct TransferActivity: Sendable, Equatable, Codable {
    public let id: String
    public let at: Int64
    public let amountCADMinor: Int64
    public let deviceID: String?
    public let international: Bool

    public init(id: String, at: Int64, amountCADMinor: Int64, deviceID: String? = nil, international: Bool = true) {
        self.id = id
        self.at = at
        self.amountCADMinor = amountCADMinor
        self.deviceID = deviceID
        self.international = international
    }
}

/// The thresholds of the AML rules: the tenant's configuration, with the platform's defaults.
public struct AMLConfig: Sendable, Equatable, Codable {
    /// More transfers than this by one sender within an hour (the new one included) hold for review.
    public var maxTransfersPerHour = 5
    /// A transfer of this much or more holds for review (5,000 CAD).
    public var largeTransferMinor: Int64 = 500_000
    /// A transfer of this much or more from a device the member has not used before holds (1,000 CAD).
    public var newDeviceMinor: Int64 = 100_000
    /// Structuring: transfers within `structuringWindowHours`, each under this, together reaching it (10,000 CAD).
    public var structuringThresholdMinor: Int64 = 1_000_000
    public var structuringWindowHours = 24

    public static let platformDefault = AMLConfig()

    public init() {}
}

/// Why a transfer is held for review; each becomes a case in the compliance queue.
public enum AMLFlag: Sendable, Equatable, Codable {
    /// `count` transfers (the new one included) within the last hour.
    case velocity(count: Int)
    case largeAmount(amountMinor: Int64)
    case newDevice(deviceID: String, amountMinor: Int64)
    /// `ids` (the new one included), each under the threshold, together `totalMinor` within the window.
    case structuring(ids: [String], totalMinor: Int64)

    public var rule: String {
        switch self {
        case .velocity: return "velocity"
        case .largeAmount: return "large-amount"
        case .newDevice: return "new-device"
        case .structuring: return "structuring"
        }
    }

    public var explanation: String {
        switch self {
        case .velocity(let count): return "\(count) transfers by this sender within one hour"
        case .largeAmount(let amount): return "a transfer of \(Self.cad(amount)) CAD"
        case .newDevice(let device, let amount): return "\(Self.cad(amount)) CAD from a device not seen before (\(device))"
        case .structuring(let ids, let total): return "\(ids.count) transfers each under the reporting threshold, together \(Self.cad(total)) CAD within 24 hours"
        }
    }

    static func cad(_ minor: Int64) -> String {
        let cents = minor % 100
        return "\(minor / 100).\(cents < 10 ? "0" : "")\(cents)"
    }
}

/// The AML rules of DOMAIN.md as plain functions over a sender's recent activity.
public enum AMLRules {
    static let hourMs: Int64 = 3_600_000

    /// The flags a new transfer raises, given the sender's earlier non-failed, non-refunded transfers
    /// (any order) and the devices the member has used before.
    public static func evaluate(
        _ transfer: TransferActivity, history: [TransferActivity], knownDevices: Set<String>, config: AMLConfig = .platformDefault
    ) -> [AMLFlag] {
        var flags: [AMLFlag] = []
        let earlier = history.filter { $0.id != transfer.id && $0.at <= transfer.at }
        let lastHour = earlier.filter { $0.at > transfer.at - hourMs }.count + 1
        if lastHour > config.maxTransfersPerHour { flags.append(.velocity(count: lastHour)) }
        if transfer.amountCADMinor >= config.largeTransferMinor { flags.append(.largeAmount(amountMinor: transfer.amountCADMinor)) }
        if let device = transfer.deviceID, !knownDevices.contains(device), transfer.amountCADMinor >= config.newDeviceMinor {
            flags.append(.newDevice(deviceID: device, amountMinor: transfer.amountCADMinor))
        }
        if transfer.amountCADMinor < config.structuringThresholdMinor {
            let window = Int64(config.structuringWindowHours) * hourMs
            let parts = (earlier.filter { $0.at > transfer.at - window && $0.amountCADMinor < config.structuringThresholdMinor } + [transfer])
                .sorted { ($0.at, $0.id) < ($1.at, $1.id) }
            let total = parts.reduce(Int64(0)) { $0 + $1.amountCADMinor }
            if parts.count >= 2, total >= config.structuringThresholdMinor {
                flags.append(.structuring(ids: parts.map(\.id), totalMinor: total))
            }
        }
        return flags
    }
}
