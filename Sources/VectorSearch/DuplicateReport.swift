import Common
import Foundation

/// The JSON form of a duplicate search (`pic2vec duplicates --json`), schema `pic2vec-duplicates/1`:
///
///     {
///       "schema": "pic2vec-duplicates/1",
///       "distance": "squared L2 between L2-normalized embeddings",
///       "features": "resnet18, random weights (seed 0), preset cifar",   // what was embedded
///       "threshold": 0.05,                 // the largest distance counted as a duplicate
///       "threshold_rule": "0.2 x median nearest-neighbor distance within the reference",  // or "given"
///       "median_nearest_distance": 0.5,    // median distance of each reference image (set 0) to its nearest other one
///       "sets": [{"name": "train", "images": 50000}, ...],  // one entry, or two with --across
///       "images_in_groups": 12,
///       "groups": [                        // largest first, then by first member
///         {"size": 2, "exact": true,       // exact: all members' pixels are identical
///          "members": [                    // set index, then row; the first is the reference
///            {"set": 0, "row": 4, "path": "train/cat/0004.jpg", "distance": 0, "exact": true}, ...]}]
///     }
///
/// `distance` of a member is to the group's first member; `exact` says whether its pixels equal
/// the first member's. With `--across A,B`, set 0 is A (the reference) and set 1 is B.
public struct DuplicateReport: Codable, Equatable, Sendable {
    /// The schema identifier this type writes.
    public static let schemaName = "pic2vec-duplicates/1"

    /// One searched set.
    public struct SetInfo: Codable, Equatable, Sendable {
        public let name: String
        public let images: Int
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
        public let members: [Member]
    }

    public let schema: String
    public let distance: String
    public let features: String
    public let threshold: Float
    public let thresholdRule: String
    public let medianNearestDistance: Float
    public let sets: [SetInfo]
    public let imagesInGroups: Int
    public let groups: [Group]

    /// The report of `groups` over sets named `names` whose images have ids (paths) `ids`.
    public init(
        groups: [DuplicateGroup], threshold: Float, thresholdRule: String, medianNearestDistance: Float, features: String,
        names: [String], ids: [[String]]
    ) {
        precondition(names.count == ids.count, "\(names.count) set names for \(ids.count) id lists")
        schema = Self.schemaName
        distance = "squared L2 between L2-normalized embeddings"
        self.features = features
        self.threshold = threshold
        self.thresholdRule = thresholdRule
        self.medianNearestDistance = medianNearestDistance
        sets = zip(names, ids).map { SetInfo(name: $0, images: $1.count) }
        imagesInGroups = groups.reduce(0) { $0 + $1.members.count }
        self.groups = groups.map { group in
            Group(
                size: group.members.count, exact: group.isExact,
                members: group.members.map {
                    Member(
                        set: $0.item.set, row: $0.item.row, path: ids[$0.item.set][$0.item.row], distance: $0.distance,
                        exact: $0.exact)
                })
        }
    }

    enum CodingKeys: String, CodingKey {
        case schema, distance, features, threshold, sets, groups
        case imagesInGroups = "images_in_groups"
        case thresholdRule = "threshold_rule"
        case medianNearestDistance = "median_nearest_distance"
    }

    /// Pretty-printed JSON with sorted keys.
    public func json() throws -> Data { try JSONFile.encode(self) }
}
