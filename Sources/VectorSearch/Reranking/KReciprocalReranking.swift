public import Common
import Foundation

/// k-reciprocal re-ranking (Zhong, Zheng, Cao and Li, "Re-ranking Person Re-identification
/// with k-reciprocal Encoding", CVPR 2017) for L2-normalized vectors.
///
/// Two items are k-reciprocal neighbors when each is among the other's k nearest. Each item
/// gets the set R*(x): its k1-reciprocal neighbors, extended by the k1/2-reciprocal set of any
/// member that shares more than 2/3 of it; the set becomes a sparse vector with weights
/// `exp(-d(x, h))` (d: squared L2 distance) summing to 1, averaged over the item's `k2` nearest
/// (local query expansion). The new distance is `(1 - lambda) * jaccard + lambda * d / dMax`,
/// where the Jaccard distance compares the two sparse vectors and `dMax` is the largest
/// distance in the query's candidate list (the paper normalizes by a maximum as well).
///
/// Departures from the paper, to scale to 50,000 database images: the query is not added to
/// the database (a database item's neighborhoods come from the database alone), reciprocity of
/// a query uses each database item's k1-th neighbor similarity as its threshold, and only the
/// first `candidates.k` database items of each query are re-ranked (the rest keep their order).
public struct KReciprocalReranking: Sendable, Equatable {
    public var k1: Int
    public var k2: Int
    public var lambda: Float

    public init(k1: Int = 20, k2: Int = 6, lambda: Float = 0.3) {
        precondition(k1 >= 2 && k2 >= 1 && (0...1).contains(lambda), "k-reciprocal needs k1 >= 2, k2 >= 1, lambda in [0, 1]")
        self.k1 = k1
        self.k2 = k2
        self.lambda = lambda
    }

    /// A sparse vector: ids ascending, with their weights.
    struct Sparse: Sendable {
        var ids: [Int] = []
        var weights: [Float] = []
    }

    /// What the database contributes: its vectors, neighbor lists and encoded neighborhoods.
    public struct Prepared: Sendable {
        let database: Matrix
        let lists: Neighbors
        let halfSets: [[Int]]
        let encodings: [Sparse]
    }

    /// Encodes every database row from its leave-one-out neighbors (`neighbors.k >= k1`,
    /// similarities in `distances`, nearest first).
    public func prepare(database: Matrix, neighbors: Neighbors) -> Prepared {
        precondition(
            neighbors.queries == database.rows && neighbors.k >= k1, "k-reciprocal needs \(k1) neighbors per database row")
        let half = max(1, (k1 + 1) / 2)
        let threshold = { (h: Int, k: Int) in neighbors.distances[h * neighbors.k + k - 1] }
        let reciprocal = { (g: Int, k: Int) -> [Int] in
            [g]
                + neighbors.ids(of: g).prefix(k).filter { h in
                    Self.dot(database, g, database, h) >= threshold(h, k)
                }
        }
        let halfSets = parallelMap(database.rows) { reciprocal($0, half) }
        let raw = parallelMap(database.rows) { g in
            self.encode(database.row(g), set: reciprocal(g, k1), halfSets: halfSets, database: database)
        }
        let encodings = parallelMap(database.rows) { g in
            Self.average([raw[g]] + neighbors.ids(of: g).prefix(k2 - 1).map { raw[$0] })
        }
        return Prepared(database: database, lists: neighbors, halfSets: halfSets, encodings: encodings)
    }

    /// Re-ranks each query's candidates (ids into the prepared database, similarities in
    /// `distances`, best first, at least `k1` of them): the same ids in the new order, with
    /// their final k-reciprocal distances ((1 - lambda) Jaccard + lambda scaled distance) in
    /// `distances`, lowest first.
    public func rerank(_ queries: Matrix, candidates: Neighbors, prepared: Prepared) -> Neighbors {
        precondition(candidates.queries == queries.rows && candidates.k >= k1, "k-reciprocal needs \(k1) candidates per query")
        let m = candidates.k
        let database = prepared.database
        let lists = prepared.lists
        let orders = parallelMap(queries.rows) { q -> [(from: Int, distance: Float)] in
            let ids = Array(candidates.ids(of: q))
            let similarities = Array(candidates.distances(of: q))
            let set = zip(ids, similarities).prefix(self.k1).filter { h, s in
                s >= lists.distances[h * lists.k + self.k1 - 1]
            }.map { $0.0 }
            let own = self.encode(queries.row(q), set: set, halfSets: prepared.halfSets, database: database)
            let encoding = Self.average([own] + ids.prefix(self.k2 - 1).map { prepared.encodings[$0] })
            let distances = similarities.map { 2 - 2 * $0 }
            let largest = max(distances.max() ?? 1, 1e-12)
            let final = (0..<m).map { j in
                (1 - self.lambda) * Self.jaccard(encoding, prepared.encodings[ids[j]]) + self.lambda * distances[j] / largest
            }
            return (0..<m).sorted { final[$0] < final[$1] || (final[$0] == final[$1] && $0 < $1) }.map { ($0, final[$0]) }
        }
        var ids = candidates.ids, distances = candidates.distances
        for q in 0..<queries.rows {
            for (j, entry) in orders[q].enumerated() {
                ids[q * m + j] = candidates.ids[q * m + entry.from]
                distances[q * m + j] = entry.distance
            }
        }
        return Neighbors(queries: queries.rows, k: m, ids: ids, distances: distances)
    }

    /// The weighted sparse encoding of vector `x` whose k1-reciprocal set is `set`.
    private func encode(_ x: ArraySlice<Float>, set: [Int], halfSets: [[Int]], database: Matrix) -> Sparse {
        let original = Set(set)
        var members = original
        for c in set {
            let candidate = halfSets[c]
            let shared = candidate.reduce(0) { $0 + (original.contains($1) ? 1 : 0) }
            if 3 * shared > 2 * candidate.count { members.formUnion(candidate) }
        }
        var sparse = Sparse()
        sparse.ids = members.sorted()
        sparse.weights = sparse.ids.map { h in
            var dot: Float = 0
            for (a, b) in zip(x, database.row(h)) { dot += a * b }
            return Float(exp(-Double(2 - 2 * dot)))
        }
        let total = sparse.weights.reduce(0, +)
        if total > 0 { sparse.weights = sparse.weights.map { $0 / total } }
        return sparse
    }

    /// The mean of sparse vectors.
    static func average(_ vectors: [Sparse]) -> Sparse {
        var sums: [Int: Float] = [:]
        for v in vectors { for (id, w) in zip(v.ids, v.weights) { sums[id, default: 0] += w } }
        var out = Sparse()
        out.ids = sums.keys.sorted()
        out.weights = out.ids.map { sums[$0]! / Float(vectors.count) }
        return out
    }

    /// `1 - Σ min(a, b) / Σ max(a, b)` over the union of the supports.
    static func jaccard(_ a: Sparse, _ b: Sparse) -> Float {
        var i = 0, j = 0
        var low: Float = 0, high: Float = 0
        while i < a.ids.count || j < b.ids.count {
            if j == b.ids.count || (i < a.ids.count && a.ids[i] < b.ids[j]) {
                high += a.weights[i]
                i += 1
            } else if i == a.ids.count || b.ids[j] < a.ids[i] {
                high += b.weights[j]
                j += 1
            } else {
                low += min(a.weights[i], b.weights[j])
                high += max(a.weights[i], b.weights[j])
                i += 1
                j += 1
            }
        }
        return high > 0 ? 1 - low / high : 1
    }

    private static func dot(_ a: Matrix, _ i: Int, _ b: Matrix, _ j: Int) -> Float {
        var s: Float = 0
        for (x, y) in zip(a.row(i), b.row(j)) { s += x * y }
        return s
    }
}
