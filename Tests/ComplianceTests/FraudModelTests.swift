@testable import Compliance
import Foundation
import Testing

/// Issue 26: the gradient-boosted fraud model, trained in Python (ops/fraud/train.py), evaluated in Swift.
@Suite("Fraud model")
struct FraudModelTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func shipped() throws -> FraudModel {
        try FraudModel.decode(try Data(contentsOf: root.appendingPathComponent("ReferenceData/fraud/model.json")))
    }

    @Test("Swift scores every held-out transfer as scikit-learn did, to 1e-9; precision and recall are what the training reported")
    func agreesWithPython() throws {
        let model = try Self.shipped()
        #expect(model.features == FraudFeatures.names)
        let text = try String(contentsOf: Self.root.appendingPathComponent("ops/fraud/heldout.csv"), encoding: .utf8)
        var lines = text.split(separator: "\n")
        let header = lines.removeFirst().split(separator: ",").map(String.init)
        #expect(Array(header.prefix(model.features.count)) == model.features && header.suffix(2) == ["label", "python_score"])
        var worst = 0.0
        var (truePositives, falsePositives, falseNegatives) = (0, 0, 0)
        for line in lines {
            let fields = line.split(separator: ",").map { Double(String($0))! }
            let x = Array(fields.prefix(model.features.count))
            let (label, python) = (fields[model.features.count], fields[model.features.count + 1])
            let swift = model.score(x).probability
            worst = max(worst, abs(swift - python))
            let flagged = swift >= 0.5
            if flagged && label == 1 { truePositives += 1 } else if flagged { falsePositives += 1 } else if label == 1 { falseNegatives += 1 }
        }
        #expect(lines.count > 10_000)
        #expect(worst <= 1e-9, "largest difference \(worst)")
        let report = try #require(
            (try JSONSerialization.jsonObject(with: Data(contentsOf: Self.root.appendingPathComponent("ReferenceData/fraud/model.json"))) as? [String: Any])?["report"]
                as? [String: Any])
        let precision = Double(truePositives) / Double(truePositives + falsePositives), recall = Double(truePositives) / Double(truePositives + falseNegatives)
        #expect(abs(precision - (report["precision_at_0_5"] as? Double ?? 0)) < 0.0001 && abs(recall - (report["recall_at_0_5"] as? Double ?? 0)) < 0.0001)
        #expect(precision > 0.9 && recall > 0.9, "precision \(precision), recall \(recall)")
    }

    @Test("features as train.py defines them; a takeover pattern scores high with the new device among its reasons, a regular send low")
    func features() throws {
        let model = try Self.shipped()
        let hour: Int64 = 3_600_000
        let start: Int64 = 1_780_000_000_000
        let history: [(activity: TransferActivity, recipient: String?)] = [
            (TransferActivity(id: "a", at: start, amountCADMinor: 30_000, deviceID: "phone"), "mum|NG"),
            (TransferActivity(id: "b", at: start + 200 * hour, amountCADMinor: 45_000, deviceID: "phone"), "mum|NG"),
        ]
        let regular = TransferActivity(id: "c", at: start + 400 * hour, amountCADMinor: 35_000, deviceID: "phone")
        let x = FraudFeatures.make(regular, recipient: "mum|NG", history: history, knownDevices: ["phone"], knownRecipients: ["mum|NG"])
        #expect(x == [350, log1p(350), 1, 1, 350, 0, 0, 1, 1, 0, 12_000])
        #expect(model.score(x).probability < 0.05)

        let takeover = TransferActivity(id: "d", at: start + 400 * hour + 600_000, amountCADMinor: 750_000, deviceID: "new-laptop")
        let withRegular = history + [(regular, "mum|NG")]
        let y = FraudFeatures.make(takeover, recipient: "stranger|GH", history: withRegular, knownDevices: ["phone"], knownRecipients: ["mum|NG"])
        #expect(y == [7_500, log1p(7_500), 2, 2, 7_850, 1, 1, 2, 2, 1, 10])
        let score = model.score(y)
        #expect(score.probability > 0.5, "\(score)")
        // The explanation adds up: the baseline plus every feature's contribution is the raw score.
        for features in [x, y] {
            let (raw, contributions) = model.explain(features)
            #expect(abs(model.baseline + contributions.reduce(0, +) - raw) < 1e-9)
        }
        #expect(score.top.count == 3 && score.top.allSatisfy { $0.contribution != 0 })
        #expect(score.top.contains { ["new_device", "new_device_large", "new_recipient", "amount_cad", "log_amount"].contains($0.feature) }, "\(score.top)")
    }

    @Test("a model whose trees point outside themselves, or of another format, is refused")
    func invalid() throws {
        let broken = #"{"format":"nzila-gbt-v1","features":["a"],"init_raw":0,"learning_rate":0.1,"trees":[{"feature":[0,-2],"threshold":[1,-2],"left":[5,-1],"right":[1,-1],"value":[0,1],"weight":[2,1]}]}"#
        #expect(throws: FraudModel.Invalid.self) { _ = try FraudModel.decode(Data(broken.utf8)) }
        let other = #"{"format":"xgboost","features":[],"init_raw":0,"learning_rate":0.1,"trees":[]}"#
        #expect(throws: FraudModel.Invalid.self) { _ = try FraudModel.decode(Data(other.utf8)) }
    }
}
