import Foundation

/// The fraud model (issue 26): gradient-boosted regression trees trained offline by `ops/fraud/train.py`
/// (scikit-learn's GradientBoostingClassifier, log-loss) on a documented synthetic data set, exported as plain JSON
/// (`ReferenceData/fraud/model.json`) and evaluated here, in Swift, with no Python at run time. A transfer's score is
/// the probability the model gives it, with the features that pushed it there most (each tree's path, split by split:
/// how much each split's feature moved the prediction). Doubles here are a model's arithmetic, never money: amounts
/// enter as features in dollars and nothing computed here is posted.
public struct FraudModel: Sendable, Decodable, Equatable {
    public let format: String
    public let features: [String]
    let initRaw: Double
    let learningRate: Double
    var trees: [Tree]

    struct Tree: Sendable, Decodable, Equatable {
        let feature: [Int]
        let threshold: [Double]
        let left: [Int]
        let right: [Int]
        /// scikit-learn's node values: the leaves' are the model's; an inner node's is a training statistic of its own.
        let value: [Double]
        let weight: [Double]
        /// Each node's expected output: a leaf's value, an inner node's the training-weighted mean of its leaves below
        /// (what a path's splits are measured against to explain a score); computed at decoding.
        var expected: [Double] = []

        enum CodingKeys: String, CodingKey { case feature, threshold, left, right, value, weight }
    }

    enum CodingKeys: String, CodingKey {
        case format, features, trees
        case initRaw = "init_raw"
        case learningRate = "learning_rate"
    }

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    public struct Contribution: Sendable, Equatable, Codable {
        public let feature: String
        public let contribution: Double
    }

    public struct Score: Sendable, Equatable, Codable {
        public let probability: Double
        /// The three features that moved the score most, the largest first (positive: towards fraud).
        public let top: [Contribution]
    }

    /// The model in `data`, checked: every tree well formed, every split on a known feature.
    public static func decode(_ data: Data) throws -> FraudModel {
        var model = try JSONDecoder().decode(FraudModel.self, from: data)
        guard model.format == "nzila-gbt-v1" else { throw Invalid(description: "model format \(model.format) is not nzila-gbt-v1") }
        for tree in model.trees {
            let count = tree.value.count
            guard count > 0, [tree.feature.count, tree.threshold.count, tree.left.count, tree.right.count, tree.weight.count].allSatisfy({ $0 == count }) else {
                throw Invalid(description: "a tree's arrays differ in length")
            }
            for node in 0..<count where tree.left[node] != -1 {
                guard (0..<model.features.count).contains(tree.feature[node]), (1..<count).contains(tree.left[node]), (1..<count).contains(tree.right[node]),
                    tree.left[node] > node, tree.right[node] > node
                else { throw Invalid(description: "a tree's node \(node) points outside the tree") }
            }
        }
        model.trees = model.trees.map { tree in
            var tree = tree
            var expected = tree.value
            // Children come after their parent: from the last node back, each inner node is its children's weighted mean.
            for node in stride(from: tree.value.count - 1, through: 0, by: -1) where tree.left[node] != -1 {
                let (l, r) = (tree.left[node], tree.right[node])
                let total = tree.weight[l] + tree.weight[r]
                expected[node] = total > 0 ? (tree.weight[l] * expected[l] + tree.weight[r] * expected[r]) / total : tree.value[node]
            }
            tree.expected = expected
            return tree
        }
        return model
    }

    /// The score of one transfer's features (in `features` order). Splits compare as scikit-learn does: the feature
    /// as a 32-bit float against the threshold, `<=` going left; the raw score adds each tree's leaf, in order.
    public func score(_ x: [Double]) -> Score {
        let (raw, contributions) = explain(x)
        let probability = 1 / (1 + exp(-raw))
        let top = contributions.indices.sorted { abs(contributions[$0]) > abs(contributions[$1]) || (abs(contributions[$0]) == abs(contributions[$1]) && $0 < $1) }
            .prefix(3).filter { contributions[$0] != 0 }.map { Contribution(feature: features[$0], contribution: contributions[$0]) }
        return Score(probability: probability, top: top)
    }

    /// The raw score, and each feature's share of it beyond `baseline` (the contributions add up to raw − baseline).
    func explain(_ x: [Double]) -> (raw: Double, contributions: [Double]) {
        precondition(x.count == features.count, "one value per feature")
        var raw = initRaw
        var contributions = [Double](repeating: 0, count: features.count)
        for tree in trees {
            var node = 0
            while tree.left[node] != -1 {
                let feature = tree.feature[node]
                let next = Double(Float(x[feature])) <= tree.threshold[node] ? tree.left[node] : tree.right[node]
                contributions[feature] += learningRate * (tree.expected[next] - tree.expected[node])
                node = next
            }
            raw += learningRate * tree.value[node]
        }
        return (raw, contributions)
    }

    /// The raw score of a transfer the model knows nothing about: every tree's expected output.
    var baseline: Double { trees.reduce(initRaw) { $0 + learningRate * $1.expected[0] } }
}

/// A transfer's features for the fraud model, from what the AML rules see: the same definitions as
/// `features()` in ops/fraud/train.py (a test holds them together on a worked case).
public enum FraudFeatures {
    public static let names = [
        "amount_cad", "log_amount", "transfers_1h", "transfers_24h", "amount_24h_cad", "new_device", "new_device_large",
        "under_threshold_24h", "recipients_24h", "new_recipient", "minutes_since_last",
    ]
    static let hourMs: Int64 = 3_600_000
    static let reportingThresholdMinor: Int64 = 1_000_000

    /// `recipient`: who this transfer goes to (any stable key); `history`'s carry theirs. `knownRecipients`: the
    /// member's earlier recipients.
    public static func make(
        _ transfer: TransferActivity, recipient: String?, history: [(activity: TransferActivity, recipient: String?)], knownDevices: Set<String>,
        knownRecipients: Set<String>
    ) -> [Double] {
        let at = transfer.at
        let amount = transfer.amountCADMinor
        let earlier = history.filter { $0.activity.at <= at && $0.activity.id != transfer.id }
        let lastHour = earlier.filter { $0.activity.at > at - hourMs }
        let day = earlier.filter { $0.activity.at > at - 24 * hourMs }
        let newDevice: Double = transfer.deviceID.map { knownDevices.contains($0) ? 0 : 1 } ?? 0
        var recipients = Set(day.compactMap(\.recipient))
        if let recipient { recipients.insert(recipient) }
        let last = earlier.map(\.activity.at).max()
        let dollars = Double(amount) / 100
        return [
            dollars,
            log1p(dollars),
            Double(lastHour.count + 1),
            Double(day.count + 1),
            Double(day.reduce(Int64(0)) { $0 + $1.activity.amountCADMinor } + amount) / 100,
            newDevice,
            newDevice * (amount >= 100_000 ? 1 : 0),
            Double(day.filter { $0.activity.amountCADMinor < reportingThresholdMinor }.count + (amount < reportingThresholdMinor ? 1 : 0)),
            Double(recipients.count),
            recipient.map { knownRecipients.contains($0) ? 0 : 1 } ?? 0,
            last.map { min(Double(at - $0) / 60_000, 43_200) } ?? 43_200,
        ]
    }
}

/// A transfer's score as kept with its decision: the probability, the features that moved it most, every feature's
/// value, and the threshold it was held at.
public struct FraudAssessment: Sendable, Equatable {
    public let score: FraudModel.Score
    public let features: [Double]
    /// nil: shadow mode (scored, never held).
    public let holdBps: Int?

    public init(score: FraudModel.Score, features: [Double], holdBps: Int?) {
        self.score = score
        self.features = features
        self.holdBps = holdBps
    }

    public var json: [String: Any] {
        [
            "model": "nzila-gbt-v1", "probability": score.probability, "hold_bps": holdBps.map { $0 as Any } ?? NSNull(),
            "top": score.top.map { ["feature": $0.feature, "contribution": $0.contribution] },
            "features": Dictionary(uniqueKeysWithValues: zip(FraudFeatures.names, features)),
        ]
    }
}
