import Common
import Foundation

/// Where the network's weights come from; random weights are only ever chosen explicitly.
public enum WeightsSource: Sendable, Equatable, CustomStringConvertible {
    /// torchvision's ImageNet checkpoint, downloaded once and cached.
    case torchvision
    /// A torch checkpoint or safetensors file.
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
        case .torchvision: "torchvision resnet18 (ImageNet)"
        case .file(let path): path
        case .random(let seed): "random weights (seed \(seed))"
        }
    }
}

/// A loaded network with what identifies its weights.
public struct LoadedWeights: Sendable {
    public let network: ResNet
    /// SHA-256 of the weight file, or "random-seed-S" for random weights.
    public let hash: String
    /// A human-readable label; says "random weights" for random weights.
    public let label: String
    /// True for random weights: everything made from them must say "random weights".
    public var isRandom: Bool { network.isRandom }
}

/// Loading ResNet18 weights from a `WeightsSource`.
public enum Weights {
    /// torchvision's ResNet18 ImageNet checkpoint.
    public static let torchvisionURL = URL(string: "https://download.pytorch.org/models/resnet18-f37072fd.pth")
    /// The prefix of its SHA-256, as in its file name.
    public static let torchvisionHashPrefix = "f37072fd"

    /// Builds the network for `source`; downloads go to `cacheFolder`
    /// (default `$PIC2VEC_CACHE` or `~/.cache/pic2vec`).
    public static func load(_ source: WeightsSource, cacheFolder: String? = nil) async throws -> LoadedWeights {
        switch source {
        case .random(let seed):
            let network = try ResNet(stateDict: ResNet.randomStateDict(seed: seed), path: "random", isRandom: true)
            return LoadedWeights(network: network, hash: "random-seed-\(seed)", label: source.description)
        case .file(let path):
            return try loadFile(path, label: path)
        case .torchvision:
            let path = try await torchvisionCheckpoint(cacheFolder: cacheFolder ?? defaultCacheFolder)
            return try loadFile(path, label: source.description)
        }
    }

    /// Reads a weight file (format detected by content) into a network.
    public static func loadFile(_ path: String, label: String) throws -> LoadedWeights {
        let network = try ResNet(stateDict: WeightFile.read(path), path: path)
        return LoadedWeights(network: network, hash: try Fingerprint.ofFile(path), label: label)
    }

    static var defaultCacheFolder: String {
        ProcessInfo.processInfo.environment["PIC2VEC_CACHE"]
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/pic2vec").path
    }

    /// The cached torchvision checkpoint, downloading it (with progress) and checking its hash.
    static func torchvisionCheckpoint(cacheFolder: String) async throws -> String {
        guard let url = torchvisionURL else { throw FileError("torchvision", "bad download URL") }
        let path = cacheFolder + "/" + url.lastPathComponent
        if FileManager.default.fileExists(atPath: path) {
            guard try Fingerprint.ofFile(path).hasPrefix(torchvisionHashPrefix) else {
                throw FileError(path, "cached checkpoint's SHA-256 does not start with \(torchvisionHashPrefix); delete it to download again")
            }
            return path
        }
        do {
            try Downloader.fetch(url, to: path, checksum: .sha256Prefix(torchvisionHashPrefix))
        } catch let error as FileError where error.problem.hasPrefix("download failed") {
            throw FileError(error.path, error.problem + "; no network? Pass --weights PATH to a local copy")
        }
        return path
    }
}
