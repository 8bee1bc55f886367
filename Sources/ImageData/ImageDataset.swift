import Common
import Foundation

/// A set of images with optional labels, read one image at a time by row.
///
/// Row `i` is always the same image: loaders fix a deterministic order (sorted class
/// folders, then sorted file names; CIFAR batches in file order), so row `i` of every
/// output (embeddings, labels, neighbors) names a known image.
public protocol ImageDataset: Sendable {
    /// A short human-readable name ("cifar10-jpeg/train").
    var name: String { get }
    /// The number of images.
    var count: Int { get }
    /// One label per image (an index into `classNames`), or nil for an unlabeled set.
    var labels: [Int]? { get }
    /// Class names in label order (empty for an unlabeled set).
    var classNames: [String] { get }
    /// One id per image: a file path, or "batch#row" for CIFAR batches.
    var ids: [String] { get }
    /// A SHA-256 over what determines the content (ids, sizes, labels, bytes where cheap).
    var fingerprint: String { get }
    /// Decodes image `index` as RGB at its stored size.
    func image(at index: Int) throws -> RGBImage
    /// Decodes image `index` for a `side` x `side` network input: at its stored size, or
    /// smaller (never below `side`) where the format can decode a reduced image directly.
    func image(at index: Int, fitting side: Int) throws -> RGBImage
    /// The rows `rows`, in that order, as a data set of the same kind.
    func subset(_ rows: [Int]) -> any ImageDataset
}

extension ImageDataset {
    /// Sets held in memory or in archives return their stored images.
    public func image(at index: Int, fitting side: Int) throws -> RGBImage {
        try image(at: index)
    }

    /// Decodes the images of `rows` (a batch), in parallel on all cores.
    ///
    /// Throws the error of the first row (in row order) that fails.
    public func images(_ rows: Range<Int>) throws -> [RGBImage] {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= count, "rows \(rows) outside 0..<\(count)")
        let outcomes = parallelMap(rows.count) { offset in Result { try image(at: rows.lowerBound + offset) } }
        return try outcomes.map { try $0.get() }
    }

    /// At most `limit` rows spread evenly over the set (rows `i * count / limit`), so that a
    /// set stored class by class keeps every class; the whole set when `limit >= count`.
    public func limited(to limit: Int) -> any ImageDataset {
        precondition(limit > 0, "limit must be positive, got \(limit)")
        guard limit < count else { return self }
        return subset((0..<limit).map { $0 * count / limit })
    }

    /// The fingerprint of the subset `rows` of a set with fingerprint `fingerprint`.
    static func subsetFingerprint(_ fingerprint: String, rows: [Int]) -> String {
        var print = Fingerprint()
        print.update("subset of \(fingerprint):")
        rows.map { Int64($0) }.withUnsafeBytes { print.update($0) }
        return print.finalize()
    }

    /// The labels of `rows`, or nil for an unlabeled set.
    func labels(of rows: [Int]) -> [Int]? {
        labels.map { all in rows.map { all[$0] } }
    }
}

/// The parts of a data set: a training split, and a test split when the source has one.
public struct DataSplits: Sendable {
    public let train: any ImageDataset
    public let test: (any ImageDataset)?

    public init(train: any ImageDataset, test: (any ImageDataset)?) {
        self.train = train
        self.test = test
    }

    /// The images of `split`; throws naming `spec` (the data's name) when it has no such split.
    public func dataset(_ split: DataSplit, of spec: String) throws -> any ImageDataset {
        switch split {
        case .train: return train
        case .test:
            guard let test else { throw FileError(spec, "has no test split", kind: .missing) }
            return test
        }
    }
}
