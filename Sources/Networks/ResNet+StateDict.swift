import Common
import Foundation

extension ResNet {
    /// Builds the network from a state dict with torchvision names, folding each batch norm
    /// into its convolution.
    ///
    /// Accepts prefixes `module.` and `backbone.`, Hugging Face `transformers` ResNet names
    /// (`microsoft/resnet-18`), and ignores `fc.*`, the classifier and `num_batches_tracked`.
    /// The first missing or mis-shaped tensor, or one that holds NaN, infinity or a negative
    /// variance, is an error naming it; `path` names the file. The convolutions multiply at `precision`.
    public init(
        stateDict raw: [String: NamedTensor], path: String, architecture: Architecture = .resnet18, model: String = "ResNet18",
        isRandom: Bool = false, precision: Precision = .fp32
    ) throws {
        var tensors: [String: NamedTensor] = [:]
        for (name, tensor) in raw { tensors[Self.torchvisionName(name)] = tensor }
        // The width follows the file (narrow networks serve as test fixtures).
        let width = tensors["conv1.weight"]?.shape.first.flatMap { $0 > 0 ? $0 : nil } ?? architecture.width
        let sized = Architecture(blocks: architecture.blocks, bottleneck: architecture.bottleneck, width: width)
        let weights = try LayerWeights(
            tensors, layers: sized.layers, epsilon: 1e-5, path: path, model: model, precision: precision)
        self.init(sized, weights: weights, isRandom: isRandom)
    }

    /// The torchvision name of a tensor named with a wrapper prefix or Hugging Face names.
    static func torchvisionName(_ name: String) -> String {
        var name = name
        for prefix in ["module.", "backbone."] where name.hasPrefix(prefix) { name.removeFirst(prefix.count) }
        if name.hasPrefix("resnet.") { name.removeFirst("resnet.".count) }
        let parts = name.split(separator: ".").map(String.init)
        let norm = ["convolution": "conv", "normalization": "bn"]
        if parts.count >= 4, parts[0] == "embedder", parts[1] == "embedder", let kind = norm[parts[2]] {
            return ([kind + "1"] + parts[3...]).joined(separator: ".")
        }
        // encoder.stages.S.layers.B.layer.I.(convolution|normalization).P or ...shortcut.(convolution|normalization).P
        guard parts.count >= 7, parts[0] == "encoder", parts[1] == "stages", let s = Int(parts[2]), parts[3] == "layers" else {
            return name
        }
        let block = "layer\(s + 1).\(parts[4])."
        if parts[5] == "shortcut", let kind = norm[parts[6]] {
            return block + "downsample.\(kind == "conv" ? 0 : 1)." + parts[7...].joined(separator: ".")
        }
        if parts[5] == "layer", parts.count >= 8, let i = Int(parts[6]), let kind = norm[parts[7]] {
            return block + "\(kind)\(i + 1)." + parts[8...].joined(separator: ".")
        }
        return name
    }

    /// A state dict of torchvision's initialization drawn from `seed` (see `LayerWeights.random`).
    public static func randomStateDict(seed: UInt64, architecture: Architecture = .resnet18) -> [String: NamedTensor] {
        LayerWeights.random(architecture.layers, seed: seed)
    }

    /// ResNet18's random state dict at another width (small networks for tests).
    public static func randomStateDict(seed: UInt64, width: Int) -> [String: NamedTensor] {
        randomStateDict(seed: seed, architecture: Architecture(blocks: [2, 2, 2, 2], bottleneck: false, width: width))
    }
}
