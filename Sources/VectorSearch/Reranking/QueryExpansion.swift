public import Common
import Foundation

/// alpha-weighted query expansion (alpha-QE) and database-side augmentation (DBA)
/// (Radenović, Tolias and Chum, "Fine-tuning CNN image retrieval with no human annotation",
/// TPAMI 2018, section 4.3).
///
/// A vector `x` with neighbors `x_1 ... x_n` (similarities `s_i`) becomes
/// `normalize(x + Σ_i max(s_i, 0)^alpha x_i)`. With `alpha = 0` every neighbor weighs 1: the
/// average query expansion of Chum et al. (ICCV 2007). Applied to queries with their neighbors
/// in the database it is alpha-QE; applied to every database row with its leave-one-out
/// neighbors in the database, before searching, it is DBA.
public struct QueryExpansion: Sendable, Equatable {
    /// How many neighbors are averaged in (0 leaves the vectors unchanged, only normalized).
    public var depth: Int
    /// The exponent on the similarities.
    public var alpha: Float

    public init(depth: Int, alpha: Float) {
        precondition(depth >= 0 && alpha >= 0, "query expansion needs depth >= 0 and alpha >= 0")
        self.depth = depth
        self.alpha = alpha
    }

    /// The expanded rows of `vectors`: row q adds its first `depth` neighbors in `neighbors`
    /// (ids into `database`, similarities in `distances`).
    public func expand(_ vectors: Matrix, neighbors: Neighbors, database: Matrix) -> Matrix {
        precondition(
            neighbors.queries == vectors.rows && depth <= neighbors.k, "need \(depth) neighbors for each of \(vectors.rows) rows")
        precondition(vectors.columns == database.columns, "vectors and database differ in dimension")
        let d = vectors.columns
        var out = vectors.values
        out.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            let rows = SharedPointer(base)
            forEachChunk(vectors.rows, chunks: 4 * ThreadPools.cores, threads: ThreadPools.cores) { _, range in
                for q in range {
                    for j in 0..<depth {
                        let id = neighbors.ids[q * neighbors.k + j]
                        let similarity = max(neighbors.distances[q * neighbors.k + j], 0)
                        let weight = alpha == 0 ? 1 : pow(similarity, alpha)
                        guard id >= 0, weight > 0 else { continue }
                        for c in 0..<d { rows.base[q * d + c] += weight * database.values[id * d + c] }
                    }
                }
            }
        }
        return Matrix(rows: vectors.rows, columns: d, values: out).l2Normalized()
    }
}
