import Common
import Download
import Foundation

/// Where the network's weights come from; random weights are only ever chosen explicitly.
public enum WeightsSource: Sendable, Equatable, CustomStringConvertible {
    /// torchvision's ImageNet checkpoint of the model, downloaded once and cached (ResNets only).
    case torchvision
    /// A weight file: torch checkpoint (zip or legacy) or safetensors.
    case file(String)
    /// torchvision's initialization drawn from a seed.
    case random(seed: UInt64)

    /// Parses `torchvision`, `random` (with `seed`) or a path.
    public init(_ argument: String, seed: UInt64) {
        switch argument {
        case "torchvision": self = .torchvision
        case "random": self = .random(seed: seed)
        default: self = .file(argument)
        }
    }

    public var description: String {
        switch self {
        case .torchvision: "torchvision ImageNet weights"
        case .file(let path): path
        case .random(let seed): "random weights (seed \(seed))"
        }
    }
}

/// A loaded network with what identifies its weights.
public struct LoadedWeights: Sendable {
    public let model: Model
    public let network: any ImageNetwork
    /// SHA-256 of the weight file, or "random-seed-S" for random weights.
    public let hash: String
    /// A human-readable label of the weights; says "random weights" for random weights.
    public let label: String
    /// The arithmetic of the network's matrix products.
    public let precision: Precision
    /// True for random weights: everything made from them must say "random weights".
    public var isRandom: Bool { network.isRandom }

    /// The model and its weights (and the precision when not fp32), for titles and headers:
    /// "EfficientNet-Lite0, efficientnet-lite0-57934424.pth", "ResNet18, resnet18-f37072fd.pth, bf16".
    public var caption: String {
        let weights = label.contains("/") ? URL(fileURLWithPath: label).lastPathComponent : label
        return precision == .fp32 ? "\(model.displayName), \(weights)" : "\(model.displayName), \(weights), \(precision)"
    }
}

/// Loading a model's weights from a `WeightsSource`.
public enum Weights {
    /// Builds `model` for `source`, multiplying at `precision`; downloads go to `cacheFolder`
    /// (default `$PIC2VEC_CACHE` or `~/.cache/pic2vec`).
    public static func load(
        _ source: WeightsSource, model: Model = .resnet18, precision: Precision = .fp32, cacheFolder: String? = nil
    ) async throws -> LoadedWeights {
        switch source {
        case .random(let seed):
            let network = try model.network(
                stateDict: model.randomStateDict(seed: seed), path: "random", isRandom: true, precision: precision)
            return LoadedWeights(
                model: model, network: network, hash: "random-seed-\(seed)", label: source.description, precision: precision)
        case .file(let path):
            return try loadFile(path, model: model, label: path, precision: precision)
        case .torchvision:
            let path = try await torchvisionCheckpoint(model, cacheFolder: cacheFolder ?? defaultCacheFolder)
            return try loadFile(path, model: model, label: source.description, precision: precision)
        }
    }

    /// Reads a weight file (format detected by content) into `model`, multiplying at `precision`.
    public static func loadFile(
        _ path: String, model: Model = .resnet18, label: String, precision: Precision = .fp32
    ) throws -> LoadedWeights {
        let network = try model.network(stateDict: WeightFile.read(path), path: path, precision: precision)
        return LoadedWeights(
            model: model, network: network, hash: try Fingerprint.ofFile(path), label: label, precision: precision)
    }

    static var defaultCacheFolder: String {
        ProcessInfo.processInfo.environment["PIC2VEC_CACHE"]
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/pic2vec").path
    }

    /// The cached torchvision checkpoint of `model`, downloading it (with progress) and checking its hash.
    static func torchvisionCheckpoint(_ model: Model, cacheFolder: String) async throws -> String {
        guard let checkpoint = model.torchvisionCheckpoint else { throw NetworksError.noTorchvisionCheckpoint(model) }
        let url = checkpoint.url, hashPrefix = checkpoint.hashPrefix
        let path = cacheFolder + "/" + url.lastPathComponent
        if FileManager.default.fileExists(atPath: path) {
            guard try Fingerprint.ofFile(path).hasPrefix(hashPrefix) else {
                throw FileError(
                    path, "cached checkpoint's SHA-256 does not start with \(hashPrefix); delete it to download again")
            }
            return path
        }
        do {
            try Downloader.fetch(url, to: path, checksum: .sha256Prefix(hashPrefix))
        } catch let error as DownloadError where error.isConnectionFailure {
            throw NetworksError.downloadFailed(error)
        }
        return path
    }
}
