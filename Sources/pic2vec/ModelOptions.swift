import ArgumentParser
import Foundation
import ImageData
import Networks

/// The network, its weights and the preprocessing preset: the options of every command that
/// embeds images (`embed`, `duplicates`) or reads an index made by one (`search`, `serve`).
///
/// Each is optional so that `search` and `serve` can tell an option given from one taken from
/// `<index>.json`; the others use the defaults below.
struct ModelOptions: ParsableArguments {
    /// The network when none is given.
    static let defaultModel = Model.resnet18
    /// The preset when none is given.
    static let defaultPreset = Preset.cifar

    @Option(
        help:
            "The network: \(Model.allCases.map(\.rawValue).joined(separator: ", ")) (default: \(ModelOptions.defaultModel.rawValue), or the index's)."
    )
    var model: Model?

    @Option(
        help:
            "The weights: torchvision (download and cache; ResNets), random (with --seed), or a weight file PATH (.pth zip or legacy, .safetensors); embed needs them, search and serve default to the index's."
    )
    var weights: String?

    @Option(help: "Seed for --weights random (default: 0, or the index's).")
    var seed: UInt64?

    @Option(
        help:
            "Preprocessing preset: cifar (32x32, Normalize 0.5) or imagenet (the model's native size and normalization) (default: cifar, or the index's)."
    )
    var preset: Preset?

    @Option(
        help:
            "Arithmetic of the network's matrix products: fp32 (exact), or bf16 (AVX512-BF16 CPUs: faster, slightly less exact) (default: fp32, or the index's)."
    )
    var precision: Precision?

    func validate() throws {
        if let precision {
            do { _ = try precision.checked() } catch { throw ValidationError("\(error)") }
        }
    }

    /// `--model`, or the default.
    var modelOrDefault: Model { model ?? Self.defaultModel }
    /// `--seed`, or 0.
    var seedOrDefault: UInt64 { seed ?? 0 }
    /// `--preset`, or the default.
    var presetOrDefault: Preset { preset ?? Self.defaultPreset }
    /// `--precision`, or fp32.
    var precisionOrDefault: Precision { precision ?? .fp32 }
}

extension Precision: ExpressibleByArgument {}

extension ModelOptions {
    /// Loads the weights (noting random ones on standard error) into an embedder of the preset,
    /// with its description (weights and preset) for reports.
    func embedder(threads: Int) async throws -> (embedder: Embedder, description: String) {
        let network = modelOrDefault
        let preprocessing = network.preprocessing(preset: presetOrDefault)
        let loaded = try await Weights.load(
            WeightsSource(weights ?? "", seed: seedOrDefault), model: network, precision: precisionOrDefault)
        if loaded.isRandom {
            FileHandle.standardError.write(Data("note: embedding with random weights (seed \(seedOrDefault))\n".utf8))
        }
        return (
            Embedder(network: loaded.network, preprocessing: preprocessing, threads: threads),
            "\(loaded.label), preset \(preprocessing.name)"
        )
    }
}

extension Model: ExpressibleByArgument {}

extension Preset: ExpressibleByArgument {}

extension DataSplit: ExpressibleByArgument {}
