/// The k nearest neighbors of a batch of queries, row-major, nearest first.
///
/// `ids[q * k + j]` is the j-th neighbor of query `q` and `distances[q * k + j]` its
/// distance (squared L2) or similarity (inner product). Missing neighbors (an index with
/// fewer than k vectors) have id -1, as in FAISS.
public struct Neighbors: Sendable, Equatable {
    /// How many queries.
    public let queries: Int
    /// Neighbors per query.
    public let k: Int
    /// `queries * k` neighbor ids.
    public var ids: [Int]
    /// `queries * k` distances or similarities.
    public var distances: [Float]

    public init(queries: Int, k: Int, ids: [Int], distances: [Float]) {
        precondition(ids.count == queries * k && distances.count == queries * k, "neighbor arrays do not match \(queries)x\(k)")
        self.queries = queries
        self.k = k
        self.ids = ids
        self.distances = distances
    }

    /// The neighbor ids of query `q`, nearest first.
    public func ids(of q: Int) -> ArraySlice<Int> { ids[q * k..<(q + 1) * k] }

    /// The distances of query `q`'s neighbors, nearest first.
    public func distances(of q: Int) -> ArraySlice<Float> { distances[q * k..<(q + 1) * k] }
}
