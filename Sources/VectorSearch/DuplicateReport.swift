import Common
import Foundation

/// The JSON form of a duplicate search (`pic2vec duplicates --json`), schema `pic2vec-duplicates/2`:
///
///     {
///       "schema": "pic2vec-duplicates/2",
///       "distance": "squared L2 between L2-normalized embeddings",
///       "features": "thumbnails, 16x16, ...",  // the evidence that forms the groups
///       "threshold": 0.05,                 // its largest distance counted as a link
///       "threshold_rule": "0.15 x median nearest-neighbor distance within the reference",  // or "given"
///       "median_nearest_distance": 0.5,    // its median distance of each reference image (set 0) to its nearest other one
///       "similar": {"features": "efficientnet-lite0, ...", "threshold": 0.2, "threshold_rule": "...",
///                   "median_nearest_distance": 0.4},  // the network's evidence of the similar tier, when searched
///       "sets": [{"name": "train", "images": 50000}, ...],  // one entry, or two with --across or --against
///       "images_in_groups": 12,
///       "groups": [                        // linked by the grouping evidence; largest first, then by first member
///         {"size": 2, "exact": true,       // exact: all members' pixels are identical
///          "tier": "identical",            // identical, near-duplicate (pixel evidence) or similar (network alone)
///          "members": [                    // set index, then row; the first is the reference
///            {"set": 0, "row": 4, "path": "train/cat/0004.jpg", "distance": 0, "exact": true}, ...]}],
///       "pairs": [                         // every linked pair: identical, then near-duplicate, then similar
///         {"tier": "near-duplicate", "a": {"set": 0, "row": 4, "path": "..."}, "b": {...},
///          "pixel_distance": 0.01, "network_distance": 0.12}, ...]   // each present when measured
///     }
///
/// `distance` of a member is to the group's first member; `exact` says whether its pixels equal
/// the first member's. With `--across A,B`, set 0 is A (the reference) and set 1 is B.
public struct DuplicateReport: Codable, Equatable, Sendable {
    /// The schema identifier this type writes.
    public static let schemaName = "pic2vec-duplicates/2"

    /// One searched set.
    public struct SetInfo: Codable, Equatable, Sendable {
        public let name: String
        public let images: Int
    }

    /// One kind of evidence: what it compared and where it drew the line.
    public struct Evidence: Codable, Equatable, Sendable {
        public let features: String
        public let threshold: Float
        public let thresholdRule: String
        public let medianNearestDistance: Float

        public init(features: String, threshold: Float, thresholdRule: String, medianNearestDistance: Float) {
            self.features = features
            self.threshold = threshold
            self.thresholdRule = thresholdRule
            self.medianNearestDistance = medianNearestDistance
        }

        enum CodingKeys: String, CodingKey {
            case features, threshold
            case thresholdRule = "threshold_rule"
            case medianNearestDistance = "median_nearest_distance"
        }
    }

    /// One member of a group.
    public struct Member: Codable, Equatable, Sendable {
        public let set: Int
        public let row: Int
        public let path: String
        public let distance: Float
        public let exact: Bool
    }

    /// One group.
    public struct Group: Codable, Equatable, Sendable {
        public let size: Int
        public let exact: Bool
        public let tier: DuplicateTier
        public let members: [Member]
    }

    /// One image of a pair.
    public struct Image: Codable, Equatable, Sendable {
        public let set: Int
        public let row: Int
        public let path: String
    }

    /// One linked pair with its tier and evidence.
    public struct Pair: Codable, Equatable, Sendable {
        public let tier: DuplicateTier
        public let a: Image
        public let b: Image
        public let pixelDistance: Float?
        public let networkDistance: Float?

        enum CodingKeys: String, CodingKey {
            case tier, a, b
            case pixelDistance = "pixel_distance"
            case networkDistance = "network_distance"
        }
    }

    public let schema: String
    public let distance: String
    public let features: String
    public let threshold: Float
    public let thresholdRule: String
    public let medianNearestDistance: Float
    public let similar: Evidence?
    public let sets: [SetInfo]
    public let imagesInGroups: Int
    public let groups: [Group]
    public let pairs: [Pair]

    /// The grouping evidence: what formed the groups and where it drew the line.
    public var grouping: Evidence {
        Evidence(
            features: features, threshold: threshold, thresholdRule: thresholdRule, medianNearestDistance: medianNearestDistance)
    }

    /// The report of `groups` (linked by `grouping`, whose non-identical groups are of tier `groupTier`)
    /// and `pairs` over sets named `names` whose images have ids (paths) `ids`; `similar` is the
    /// network's evidence when it was searched besides the grouping evidence.
    public init(
        groups: [DuplicateGroup], groupTier: DuplicateTier, pairs: [DuplicatePair], grouping: Evidence, similar: Evidence?,
        names: [String], ids: [[String]]
    ) {
        precondition(names.count == ids.count, "\(names.count) set names for \(ids.count) id lists")
        schema = Self.schemaName
        distance = "squared L2 between L2-normalized embeddings"
        features = grouping.features
        threshold = grouping.threshold
        thresholdRule = grouping.thresholdRule
        medianNearestDistance = grouping.medianNearestDistance
        self.similar = similar
        sets = zip(names, ids).map { SetInfo(name: $0, images: $1.count) }
        imagesInGroups = groups.reduce(0) { $0 + $1.members.count }
        self.groups = groups.map { group in
            Group(
                size: group.members.count, exact: group.isExact, tier: group.isExact ? .identical : groupTier,
                members: group.members.map {
                    Member(
                        set: $0.item.set, row: $0.item.row, path: ids[$0.item.set][$0.item.row], distance: $0.distance,
                        exact: $0.exact)
                })
        }
        let image = { (item: DuplicateItem) in Image(set: item.set, row: item.row, path: ids[item.set][item.row]) }
        self.pairs = pairs.map {
            Pair(
                tier: $0.tier, a: image($0.link.a), b: image($0.link.b), pixelDistance: $0.pixelDistance,
                networkDistance: $0.networkDistance)
        }
    }

    enum CodingKeys: String, CodingKey {
        case schema, distance, features, threshold, similar, sets, groups, pairs
        case imagesInGroups = "images_in_groups"
        case thresholdRule = "threshold_rule"
        case medianNearestDistance = "median_nearest_distance"
    }

    /// Pretty-printed JSON with sorted keys.
    public func json() throws -> Data { try JSONFile.encode(self) }
}
