import Common
import Foundation
import ImageData

/// The image networks Pic2Vec embeds with (`--model`); `resnet18` is the default.
public enum Model: String, CaseIterable, Sendable, Codable {
    case resnet18
    case resnet34
    case resnet50
    case efficientnetLite0 = "efficientnet-lite0"
    case efficientnetLite1 = "efficientnet-lite1"
    case efficientnetLite2 = "efficientnet-lite2"

    /// The name shown in tables, figure titles and the page ("ResNet18", "EfficientNet-Lite0").
    public var displayName: String {
        switch self {
        case .resnet18: "ResNet18"
        case .resnet34: "ResNet34"
        case .resnet50: "ResNet50"
        case .efficientnetLite0: "EfficientNet-Lite0"
        case .efficientnetLite1: "EfficientNet-Lite1"
        case .efficientnetLite2: "EfficientNet-Lite2"
        }
    }

    var resNet: ResNet.Architecture? {
        switch self {
        case .resnet18: .resnet18
        case .resnet34: .resnet34
        case .resnet50: .resnet50
        default: nil
        }
    }

    var efficientNet: EfficientNetLite.Architecture? {
        switch self {
        case .efficientnetLite0: .lite0
        case .efficientnetLite1: .lite1
        case .efficientnetLite2: .lite2
        default: nil
        }
    }

    /// The embedding length: 512 (ResNet18/34), 2048 (ResNet50), 1280 (EfficientNet-Lite).
    public var outputDimension: Int {
        if let resNet { return resNet.layers.last?.outputChannels ?? 0 }
        return 1280
    }

    /// The side of the input the model was trained on.
    public var nativeSize: Int { efficientNet?.resolution ?? 224 }

    /// The preprocessing of `preset`: `cifar` (32x32, mean/std 0.5, the notebook's setting) for
    /// every model, or `imagenet` (the native size and normalization: ImageNet mean/std for
    /// ResNets, `(x * 255 - 127) / 128` for EfficientNet-Lite).
    public func preprocessing(preset: Preset) -> Preprocessing {
        switch preset {
        case .cifar: return .cifar
        case .imagenet where efficientNet != nil:
            return Preprocessing(
                name: "imagenet", size: nativeSize, mean: [127 / 255, 127 / 255, 127 / 255],
                std: [128 / 255, 128 / 255, 128 / 255])
        case .imagenet: return .imagenet
        }
    }

    /// Builds the network from a state dict (from `path`); the first missing, mis-shaped or
    /// invalid tensor is an error naming the file and the tensor. Its convolutions multiply at `precision`.
    public func network(
        stateDict: [String: NamedTensor], path: String, isRandom: Bool = false, precision: Precision = .fp32
    ) throws -> any ImageNetwork {
        if let resNet {
            return try ResNet(
                stateDict: stateDict, path: path, architecture: resNet, model: displayName, isRandom: isRandom,
                precision: precision)
        }
        guard let efficientNet else { preconditionFailure("\(self) has no architecture") }
        return try EfficientNetLite(
            stateDict: stateDict, path: path, architecture: efficientNet, model: displayName, isRandom: isRandom,
            precision: precision)
    }

    /// Every convolution of the model, in state-dict order (its topology table).
    public var layers: [ConvLayer] { resNet?.layers ?? efficientNet?.layers ?? [] }

    /// A random state dict for the model drawn from `seed` (see `LayerWeights.random`).
    public func randomStateDict(seed: UInt64) -> [String: NamedTensor] { LayerWeights.random(layers, seed: seed) }

    /// torchvision's ImageNet checkpoint for ResNets (nil for EfficientNet-Lite: see the README)
    /// and the prefix of its SHA-256, as in its file name.
    public var torchvisionCheckpoint: (url: URL, hashPrefix: String)? {
        let files: [Model: (String, String)] = [
            .resnet18: ("resnet18-f37072fd.pth", "f37072fd"), .resnet34: ("resnet34-b627a593.pth", "b627a593"),
            .resnet50: ("resnet50-0676ba61.pth", "0676ba61"),
        ]
        guard let entry = files[self], let url = URL(string: "https://download.pytorch.org/models/" + entry.0) else { return nil }
        return (url, entry.1)
    }
}
