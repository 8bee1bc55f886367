import Common
import Foundation

/// The 2-D map of the indexed images (a t-SNE layout, one point per index row), with the
/// optional k-means cluster of each row, as the search page draws it.
///
/// Found beside the index at the names `CollectionFiles` gives them: `tsne-train.npy` (N x 2
/// float32, what experiment 07 caches and `pic2vec tsne --output` writes) and
/// `kmeans-assignments.npy` (N int64, what experiment 06 and `pic2vec kmeans --output` write).
public struct CollectionMap: Sendable, Equatable {
    /// The value that marks "no class" or "no cluster" in the binary encoding.
    public static let none = UInt16.max

    /// x0, y0, x1, y1, ...: one point per index row.
    public let xy: [Float]
    /// Each row's k-means cluster, or nil when no clustering was found.
    public let clusters: [Int]?
    /// Where the layout was read from (shown on the page).
    public let source: String

    /// The number of points.
    public var count: Int { xy.count / 2 }
    /// The number of clusters (0 without clusters).
    public var clusterCount: Int { clusters.map { ($0.max() ?? -1) + 1 } ?? 0 }

    /// A map of `xy` (finite, even length) and optional `clusters` (one per point, 0 to 65534).
    ///
    /// Errors name `source` (the layout) or `clustersSource` (the clusters).
    public init(xy: [Float], clusters: [Int]?, source: String, clustersSource: String? = nil) throws {
        guard xy.count % 2 == 0 else { throw FileError(source, "holds \(xy.count) coordinates, not x, y pairs") }
        guard xy.allSatisfy(\.isFinite) else { throw FileError(source, "holds NaN or infinite coordinates") }
        if let clusters {
            let named = clustersSource ?? source
            guard clusters.count == xy.count / 2 else {
                throw FileError(named, "holds \(clusters.count) cluster assignments for \(xy.count / 2) points")
            }
            guard clusters.allSatisfy({ (0..<Int(Self.none)).contains($0) }) else {
                throw FileError(named, "cluster assignments must be from 0 to \(Int(Self.none) - 1)")
            }
        }
        self.xy = xy
        self.clusters = clusters
        self.source = source
    }

    /// Reads the layout at `layoutPath` and, when `clustersPath` is given, the clusters, both
    /// checked against the index's `rows`.
    public static func read(layout layoutPath: String, clusters clustersPath: String?, rows: Int) throws -> CollectionMap {
        let layout = try NPY.read(
            layoutPath, expected: NPY.Expected(.float32, shape: [rows, 2], meaning: "one t-SNE point per index row"))
        let clusters = try clustersPath.map {
            try NPY.read($0, expected: NPY.Expected(.int64, shape: [rows], meaning: "one cluster per index row")).ints
        }
        return try CollectionMap(xy: layout.floats, clusters: clusters, source: layoutPath, clustersSource: clustersPath)
    }

    /// The map as the page fetches it: little-endian, N x 2 float32 coordinates, then N
    /// uint16 class labels, then N uint16 clusters (`none` where unknown).
    ///
    /// - Parameter labels: each row's class, or nil when the data set has none (labels not
    ///   one per point are left out too).
    public func encoded(labels: [Int]?) -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(count * 12)
        for value in xy { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        func append(_ groups: [Int]?) {
            let groups = groups?.count == count ? groups : nil
            for row in 0..<count {
                let group = groups.flatMap { (0..<Int(Self.none)).contains($0[row]) ? UInt16($0[row]) : nil }
                withUnsafeBytes(of: (group ?? Self.none).littleEndian) { bytes.append(contentsOf: $0) }
            }
        }
        append(labels)
        append(clusters)
        return bytes
    }
}
