import Common
import Foundation
import ImageData
import Networks
import VectorSearch

/// How an index's rows were made: the description `<index>.json` beside a FAISS index file
/// (`CollectionFiles` reads and writes it).
///
/// Enough to rebuild the query side exactly: the data set (to show images, ids and labels,
/// checked by fingerprint), the weights (checked by hash), the preprocessing preset and
/// whether rows were L2-normalized. Field names follow `pic2vec embed`'s sidecar.
public struct IndexDescription: Codable, Sendable, Equatable {
    /// The data spec the rows came from (an image folder path or "cifar10"); nil when
    /// unknown, which allows image queries but not showing the rows.
    public var data: String?
    /// The split the rows come from.
    public var split: DataSplit
    /// The `--limit` used (rows spread evenly over the set), or nil for all images.
    public var limit: Int?
    /// Seeded augmentations of every image the rows are (`AugmentedDataset`, after `limit`), or
    /// nil for the images themselves.
    public var augmentations: Augmentations?
    /// The data set's fingerprint, checked when the set is reopened (nil: not checked).
    public var dataFingerprint: String?
    /// The network; nil in descriptions written before models could be chosen, which means
    /// ResNet18 (`network` says which).
    public var model: Model?
    /// "torchvision", "random" or a weight file path.
    public var weights: String
    /// The seed for random weights.
    public var seed: UInt64
    /// The weights' hash, checked when they are reloaded (nil: not checked).
    public var weightsHash: String?
    /// The preprocessing preset.
    public var preset: Preset
    /// The input side, when it differs from the preset's.
    public var inputSize: Int?
    /// The arithmetic of the network's matrix products; nil in descriptions written before
    /// precisions could be chosen, which means fp32 (`arithmetic` says which).
    public var precision: Precision?
    /// Whether the indexed rows are L2-normalized.
    public var normalized: Bool
    /// The re-ranking searches use (`RerankingPipeline`'s name); nil or "none": plain search.
    public var rerank: String?
    /// The part of the set the rows are (written "I/N"), or nil for the whole set.
    public var shard: Shard?
    /// The FAISS index factory string of the index ("IVF1024,Flat"), when known.
    public var structure: String?
    /// The search parameter the index is saved with ("nprobe", "efSearch"), when it has one.
    public var searchParameters: [String: Int]?
    /// What `--type auto` chose and the recall it measured.
    public var tuning: TuningRecord?
    /// How many changes (`pic2vec add`, `pic2vec remove`) the collection has had; nil: none.
    /// Each commits every file of the collection anew, so a reader that sees a new number
    /// (`pic2vec serve`) knows to open the collection again.
    public var generation: Int?

    /// `copies` augmentations of every image, drawn by `seed`.
    public struct Augmentations: Codable, Sendable, Equatable {
        public var copies: Int
        public var seed: UInt64

        public init(copies: Int, seed: UInt64) {
            self.copies = copies
            self.seed = seed
        }
    }

    public init(
        data: String?, split: DataSplit = .train, limit: Int? = nil, augmentations: Augmentations? = nil,
        dataFingerprint: String? = nil, model: Model? = nil,
        weights: String,
        seed: UInt64 = 0, weightsHash: String? = nil, preset: Preset, inputSize: Int? = nil, normalized: Bool,
        rerank: String? = nil, shard: Shard? = nil, precision: Precision? = nil
    ) {
        self.data = data
        self.split = split
        self.limit = limit
        self.augmentations = augmentations
        self.dataFingerprint = dataFingerprint
        self.model = model
        self.weights = weights
        self.seed = seed
        self.weightsHash = weightsHash
        self.preset = preset
        self.inputSize = inputSize
        self.normalized = normalized
        self.rerank = rerank
        self.shard = shard
        self.precision = precision
    }

    /// The network the rows come from (ResNet18 when the description names none).
    public var network: Model { model ?? .resnet18 }

    /// The generation, 0 for a collection never changed.
    public var generationNumber: Int { generation ?? 0 }

    /// The arithmetic the rows were made with (fp32 when the description names none).
    public var arithmetic: Precision { precision ?? .fp32 }

    /// The preprocessing the rows were made with: the preset for the network, at the recorded input size.
    public var preprocessing: Preprocessing {
        let base = network.preprocessing(preset: preset)
        return inputSize.map { base.resized(to: $0) } ?? base
    }

    /// The re-ranking pipeline `rerank` names (the baseline when none).
    public func reranking() throws(VectorSearchError) -> RerankingPipeline {
        try RerankingPipeline(name: rerank ?? "none")
    }

    /// The description in `bytes` (the file at `path`, named in messages), its values checked.
    public static func decode(_ bytes: [UInt8], path: String) throws -> IndexDescription {
        let description = try JSONFile.decode(IndexDescription.self, from: bytes, path: path, kind: "index description")
        try description.check(path: path)
        return description
    }

    /// Throws a `FileError` naming `path` when a field holds a value no index is made with.
    public func check(path: String) throws {
        if let limit, limit <= 0 { throw FileError(path, "\"limit\" must be positive, got \(limit)") }
        if let augmentations, augmentations.copies <= 0 {
            throw FileError(path, "\"augmentations.copies\" must be positive, got \(augmentations.copies)")
        }
        if let generation, generation < 0 { throw FileError(path, "\"generation\" must be 0 or more, got \(generation)") }
        if let inputSize, !Preprocessing.sizes.contains(inputSize) {
            throw FileError(
                path,
                "\"inputSize\" must be from \(Preprocessing.sizes.lowerBound) to \(Preprocessing.sizes.upperBound), got \(inputSize)"
            )
        }
        do { _ = try reranking() } catch { throw FileError(path, "\"rerank\": \(error)") }
    }

    /// The sidecar's JSON bytes (pretty-printed, sorted keys).
    public func encoded() throws -> Data {
        try JSONFile.encode(self)
    }
}

extension IndexDescription {
    /// Loads the weights the index was embedded with, refusing a file whose hash differs from the
    /// one recorded for the index at `indexPath`.
    public func loadWeights(for indexPath: String) async throws -> LoadedWeights {
        let weights = try await Weights.load(
            WeightsSource(self.weights, seed: seed), model: network, precision: try arithmetic.checked())
        if let expected = weightsHash, expected != weights.hash {
            throw FileError(
                self.weights, "hash \(weights.hash) differs from \(expected) recorded for \(indexPath)", kind: .mismatch)
        }
        return weights
    }
}
