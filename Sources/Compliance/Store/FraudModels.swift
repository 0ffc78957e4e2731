import Foundation
import Logging
import NzilaCore

/// The fraud model the platform ships (`ReferenceData/fraud/model.json`, made by ops/fraud/train.py), read once per
/// process from the project's files; nil (and said once in the log) when it is missing or not a model, in which case
/// transfers are decided by the rules alone.
public enum FraudModels {
    public static let shipped: FraudModel? = {
        let file = projectRoot().appendingPathComponent("ReferenceData/fraud/model.json")
        do {
            let model = try FraudModel.decode(try Data(contentsOf: file))
            // A model trained on other features than this build computes would score nonsense: none rather than that.
            guard model.features == FraudFeatures.names else {
                throw FraudModel.Invalid(description: "the model's features \(model.features) are not this build's \(FraudFeatures.names)")
            }
            return model
        } catch {
            Logger(label: "nzila.compliance").warning("no fraud model: transfers are decided by the rules alone", metadata: ["file": "\(file.path)", "error": "\(error)"])
            return nil
        }
    }()
}
