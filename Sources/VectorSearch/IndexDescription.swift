import Common
import Foundation

/// How an index's rows were made: the sidecar `<index>.json` beside a FAISS index file.
///
/// Enough to rebuild the query side exactly: the data set (to show images, ids and labels,
/// checked by fingerprint), the weights (checked by hash), the preprocessing preset and
/// whether rows were L2-normalized. Field names follow `pic2vec embed`'s sidecar.
public struct IndexDescription: Codable, Sendable, Equatable {
    /// The data spec the rows came from (an image folder path or "cifar10"); nil when
    /// unknown, which allows image queries but not showing the rows.
    public var data: String?
    /// "train" or "test".
    public var split: String
    /// The `--limit` used (rows spread evenly over the set), or nil for all images.
    public var limit: Int?
    /// Seeded augmentations of every image the rows are (`AugmentedDataset`, after `limit`), or
    /// nil for the images themselves.
    public var augmentations: Augmentations?
    /// The data set's fingerprint, checked when the set is reopened (nil: not checked).
    public var dataFingerprint: String?
    /// The network (`Model`'s raw value, "resnet18" ...); nil in descriptions written before
    /// models could be chosen, which means "resnet18".
    public var model: String?
    /// "torchvision", "random" or a weight file path.
    public var weights: String
    /// The seed for random weights.
    public var seed: UInt64
    /// The weights' hash, checked when they are reloaded (nil: not checked).
    public var weightsHash: String?
    /// The preprocessing preset: "cifar" or "imagenet" (the model's native input).
    public var preset: String
    /// The input side, when it differs from the preset's.
    public var inputSize: Int?
    /// The arithmetic of the network's matrix products ("fp32", "bf16"); nil in descriptions
    /// written before precisions could be chosen, which means "fp32".
    public var precision: String?
    /// Whether the indexed rows are L2-normalized.
    public var normalized: Bool
    /// The re-ranking searches use (`RerankingPipeline`'s name); nil or "none": plain search.
    public var rerank: String?
    /// The part of the set the rows are ("I/N", `Shard`), or nil for the whole set.
    public var shard: String?
    /// The FAISS index factory string of the index ("IVF1024,Flat"), when known.
    public var structure: String?
    /// The search parameter the index is saved with ("nprobe", "efSearch"), when it has one.
    public var searchParameters: [String: Int]?
    /// What `--type auto` chose and the recall it measured.
    public var tuning: TuningRecord?

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
        data: String?, split: String = "train", limit: Int? = nil, augmentations: Augmentations? = nil,
        dataFingerprint: String? = nil, model: String? = nil,
        weights: String,
        seed: UInt64 = 0, weightsHash: String? = nil, preset: String, inputSize: Int? = nil, normalized: Bool,
        rerank: String? = nil, shard: String? = nil, precision: String? = nil
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

    /// The re-ranking pipeline `rerank` names (the baseline when none).
    public func reranking() throws(VectorSearchError) -> RerankingPipeline {
        try RerankingPipeline(name: rerank ?? "none")
    }

    /// Where the description of the index at `indexPath` lives.
    public static func path(forIndex indexPath: String) -> String { indexPath + ".json" }

    /// The description beside `indexPath`, or nil when there is none.
    public static func read(forIndex indexPath: String) throws -> IndexDescription? {
        let path = path(forIndex: indexPath)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try decode(RegularFile.contents(path, maxBytes: JSONFile.maximumBytes, kind: "index description"), path: path)
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
        if let shard {
            do { _ = try Shard(shard) } catch { throw FileError(path, "\"shard\": \(error)") }
        }
        do { _ = try reranking() } catch { throw FileError(path, "\"rerank\": \(error)") }
    }

    /// Writes the description beside `indexPath`, atomically.
    public func write(forIndex indexPath: String) throws {
        try AtomicFile.write(try encoded(), to: Self.path(forIndex: indexPath))
    }

    /// The sidecar's JSON bytes (pretty-printed, sorted keys).
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}
