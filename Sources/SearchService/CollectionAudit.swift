import Common
import Evaluation
import ImageData
import VectorSearch

/// What the audit page shows of one generation of a collection: tiered duplicate pairs and the
/// labels that are probably wrong.
///
/// Duplicates as `pic2vec duplicates` finds them (identical, near-duplicate from thumbnails,
/// similar from the index's rows, each threshold relative to the collection's own nearest-neighbor
/// distances); label issues as `pic2vec label-issues` does (`LabelIssueSearch`, flagged only).
public struct CollectionAudit: Sendable {
    /// Neighbors examined per image for duplicates.
    static let duplicateK = 10
    /// Neighbors that vote for an image's class.
    static let labelK = 20

    /// A duplicate pair of rows.
    public struct Pair: Codable, Sendable, Equatable {
        public let tier: DuplicateTier
        public let a: Int
        public let b: Int
        public let pixelDistance: Float
        public let networkDistance: Float
    }

    /// A row whose label is probably wrong.
    public struct LabelIssue: Codable, Sendable, Equatable {
        public let row: Int
        public let label: String
        public let suggested: String
        /// 1 - p(given label).
        public let score: Double
        /// Its nearest rows that carry the suggested label.
        public let neighbors: [Int]
    }

    public let pairs: [Pair]
    /// Nil when the collection has no labels.
    public let labelIssues: [LabelIssue]?

    /// The audit of `engine`'s rows; `trainedWeights` picks the network's default fraction.
    public init(engine: SearchEngine, trainedWeights: Bool) throws {
        let dataset = engine.dataset
        guard engine.count >= 2 else {
            pairs = []
            labelIssues = dataset.labels == nil ? nil : []
            return
        }
        let points = try engine.index.index.vectors().l2Normalized()
        let thumbnails = try dataset.thumbnails()
        let evidence = { (set: DuplicateSet, fraction: Float) throws -> DuplicateEvidence in
            try DuplicateSearch.calibrated(on: set, fraction: fraction, k: Self.duplicateK).evidence(of: [set])
        }
        let pixels = try evidence(
            DuplicateSet(views: thumbnails.views, keys: thumbnails.keys),
            DuplicateSearch.thumbnailRelativeThreshold)
        let network = try evidence(
            DuplicateSet(points: points, keys: thumbnails.keys),
            DuplicateSearch.defaultRelativeThreshold(trainedFeatures: trainedWeights))
        pairs = DuplicatePair.tiers(pixels: pixels, network: network).map {
            Pair(
                tier: $0.tier, a: $0.link.a.row, b: $0.link.b.row, pixelDistance: $0.pixelDistance ?? .nan,
                networkDistance: $0.networkDistance ?? .nan)
        }
        labelIssues = try dataset.labels.map { labels in
            // Images added without a label (-1) neither vote nor are checked.
            let labelled = labels.indices.filter { labels[$0] >= 0 }
            guard labelled.count >= 2 else { return [] }
            let search = try LabelIssueSearch(
                points: Matrix(rows: labelled.count, columns: points.columns, values: labelled.flatMap { points.row($0) }),
                labels: labelled.map { labels[$0] }, k: min(Self.labelK, labelled.count - 1))
            let names = dataset.classNames
            let name = { (label: Int) in names.indices.contains(label) ? names[label] : "class \(label)" }
            return search.flagged.map {
                LabelIssue(
                    row: labelled[$0.row], label: name($0.label), suggested: name($0.suggested), score: $0.score,
                    neighbors: search.supporters(of: $0).map { labelled[$0] })
            }
        }
    }
}
