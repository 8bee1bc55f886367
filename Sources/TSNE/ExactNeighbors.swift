internal import CBLAS
import Common

/// The k nearest neighbors of every point, nearest first: row `i` holds `k` entries.
struct NeighborGraph: Sendable {
    /// Neighbors per point.
    let k: Int
    /// `n * k` neighbor indices.
    var indices: [Int32]
    /// `n * k` squared Euclidean distances, ascending within each row.
    var squaredDistances: [Float]
}

/// Exact k nearest neighbors of every row of `x` by squared Euclidean distance, itself excluded.
///
/// Brute force: one SGEMM per block of rows gives `|y|^2 - 2 x.y` against all rows, and a
/// bounded max-heap per row keeps the `k` smallest. O(n^2 d) time, O(block * n) memory.
/// Ties are broken by the lower index, so the result does not depend on the thread count.
func exactNeighbors(of x: Matrix, k: Int, threads: Int) -> NeighborGraph {
    let n = x.rows, d = x.columns
    precondition(k >= 1 && k < n, "k = \(k) needs 1 <= k < n = \(n)")
    let norms: [Float] = x.values.withUnsafeBufferPointer { v in
        (0..<n).map { i in
            var s: Float = 0
            for j in 0..<d { s += v[i * d + j] * v[i * d + j] }
            return s
        }
    }
    openblas_set_num_threads(Int32(threads))
    let block = max(1, min(n, (1 << 23) / n))
    var products = [Float](repeating: 0, count: block * n)
    var indices = [Int32](repeating: 0, count: n * k)
    var distances = [Float](repeating: 0, count: n * k)
    x.values.withUnsafeBufferPointer { xv in
        products.withUnsafeMutableBufferPointer { prod in
            indices.withUnsafeMutableBufferPointer { ind in
                distances.withUnsafeMutableBufferPointer { dist in
                    let out = SharedPointer(base: ind.baseAddress!), outD = SharedPointer(base: dist.baseAddress!)
                    let prodPtr = SharedPointer(base: prod.baseAddress!)
                    for start in stride(from: 0, to: n, by: block) {
                        let rows = min(block, n - start)
                        cblas_sgemm(
                            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(n), Int32(d),
                            1, xv.baseAddress! + start * d, Int32(d), xv.baseAddress!, Int32(d), 0, prodPtr.base, Int32(n))
                        forEachChunk(rows, chunks: 8, threads: threads) { _, range in
                            for r in range {
                                let i = start + r
                                selectNearest(
                                    products: prodPtr.base + r * n, norms: norms, exclude: i, k: k,
                                    indices: out.base + i * k, distances: outD.base + i * k, selfNorm: norms[i])
                            }
                        }
                    }
                }
            }
        }
    }
    return NeighborGraph(k: k, indices: indices, squaredDistances: distances)
}

/// Keeps the `k` points with the smallest `|y|^2 - 2 x.y`, sorted by distance then index.
private func selectNearest(
    products: UnsafePointer<Float>, norms: [Float], exclude: Int, k: Int,
    indices: UnsafeMutablePointer<Int32>, distances: UnsafeMutablePointer<Float>, selfNorm: Float
) {
    var heapScore = [Float](repeating: .infinity, count: k)
    var heapIndex = [Int32](repeating: Int32.max, count: k)
    norms.withUnsafeBufferPointer { norms in
        heapScore.withUnsafeMutableBufferPointer { hs in
            heapIndex.withUnsafeMutableBufferPointer { hi in
                for j in 0..<norms.count where j != exclude {
                    let score = norms[j] - 2 * products[j]
                    guard score < hs[0] else { continue }
                    var at = 0
                    while true {
                        let left = 2 * at + 1
                        if left >= k { break }
                        var child = left
                        if left + 1 < k && (hs[left + 1] > hs[left] || (hs[left + 1] == hs[left] && hi[left + 1] > hi[left])) {
                            child = left + 1
                        }
                        if hs[child] > score || (hs[child] == score && hi[child] > Int32(j)) {
                            hs[at] = hs[child]
                            hi[at] = hi[child]
                            at = child
                        } else {
                            break
                        }
                    }
                    hs[at] = score
                    hi[at] = Int32(j)
                }
            }
        }
    }
    let order = (0..<k).sorted { (heapScore[$0], heapIndex[$0]) < (heapScore[$1], heapIndex[$1]) }
    for (slot, h) in order.enumerated() {
        indices[slot] = heapIndex[h]
        distances[slot] = max(0, heapScore[h] + selfNorm)
    }
}
