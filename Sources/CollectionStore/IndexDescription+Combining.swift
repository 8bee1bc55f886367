import Common
import VectorSearch

extension IndexDescription {
    /// The description of one index over the rows of several embedding files or indexes, in
    /// order, given theirs (`paths` name them in errors).
    ///
    /// All must be made alike (model, weights, preprocessing, normalization), or none described;
    /// anything else throws naming the odd file. When they are the shards 0/N ... N-1/N of one
    /// set, in order, the result describes the whole set; when they come from different sets
    /// it names no data (image queries work, stored rows cannot be shown).
    public static func combining(_ descriptions: [IndexDescription?], paths: [String]) throws -> IndexDescription? {
        precondition(descriptions.count == paths.count && !descriptions.isEmpty, "one description per path")
        guard let first = descriptions[0] else {
            if let described = descriptions.firstIndex(where: { $0 != nil }) {
                throw FileError(
                    paths[0], "has no description of how its rows were made, \(paths[described]) has one", kind: .mismatch)
            }
            return nil
        }
        guard descriptions.count > 1 else { return first }
        for (description, path) in zip(descriptions, paths).dropFirst() {
            guard let description else {
                throw FileError(path, "has no description of how its rows were made, \(paths[0]) has one", kind: .mismatch)
            }
            guard description.maker == first.maker else {
                throw FileError(
                    path, "holds rows of \(description.maker), \(paths[0]) of \(first.maker): they cannot share one index",
                    kind: .mismatch)
            }
        }
        var combined = first
        combined.shard = nil
        let shards = descriptions.map { $0?.shard }
        let wholeSet =
            descriptions.allSatisfy { $0?.sameData(as: first) == true }
            && shards.enumerated().allSatisfy { $0.element == (try? Shard(index: $0.offset, count: descriptions.count)) }
        if !wholeSet {
            combined.data = nil
            combined.dataFingerprint = nil
            combined.limit = nil
            combined.augmentations = nil
        }
        return combined
    }

    /// How the rows were made, in words: what must match for rows to share an index.
    var maker: String {
        // Random weights are named by their seed, files by the start of their SHA-256.
        "\(network.rawValue) with weights \(weights)"
            + (weights == "random" ? " seed \(seed)" : weightsHash.map { " (\($0.prefix(12)))" } ?? "") + ", preset \(preset)"
            + (inputSize.map { " at \($0) px" } ?? "")
            + (normalized ? ", L2-normalized" : "")
    }

    /// Whether the rows come from the same data set, split, limit and augmentations.
    func sameData(as other: IndexDescription) -> Bool {
        data == other.data && split == other.split && limit == other.limit && augmentations == other.augmentations
            && dataFingerprint == other.dataFingerprint
    }
}
