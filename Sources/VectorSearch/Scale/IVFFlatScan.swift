internal import CBLAS
internal import CKernels
import Common

/// Searches many queries in an IVF-Flat index list by list: every list is read once per
/// batch and multiplied, as one `sgemm`, with all the queries that probe it.
///
/// FAISS scans a list once per query that probes it, with SSE code in Debian's build; a batch
/// of 1,000 queries at 16 probes of 1,024 lists visits each list about 16 times, so reading it
/// once and multiplying it with those queries turns the scan from memory-bound dot products
/// into a matrix product. The probed lists and the candidates are FAISS's: the `probes`
/// nearest centroids of each query, every vector stored in them; distances are computed as
/// `|q|² + |v|² - 2 q·v` (clamped at 0) instead of FAISS's `|q - v|²`, so they can differ in
/// the last bits, and ties may be ordered differently.
struct IVFFlatScan {
    /// One list: its vectors (`count x d`, row-major) and their ids, owned by the index (nil
    /// when the list is empty).
    struct List {
        let count: Int
        let vectors: UnsafePointer<Float>?
        let ids: UnsafePointer<Int64>?
    }

    let coarse: CoarseQuantizer
    /// Visited lists per query.
    let probes: Int
    let threads: Int
    /// Stored vectors per `sgemm` tile (a long list is multiplied in slices).
    static let sliceRows = 4096

    /// The `k` nearest stored vectors of every query (FAISS's conventions: ids -1 and distances
    /// of the largest float, negated under inner product, where fewer than `k` were found).
    func search(_ queries: Matrix, k: Int, list: (Int) throws(VectorSearchError) -> List) throws(VectorSearchError)
        -> Neighbors
    {
        let n = queries.rows
        let d = queries.columns
        let lists = coarse.centroids.rows
        let level = coarse.level
        let probed = coarse.nearest(queries, probes: probes, threads: threads)
        var starts = [Int](repeating: 0, count: lists + 1)
        for l in probed.lists { starts[Int(l) + 1] += 1 }
        for l in 0..<lists { starts[l + 1] += starts[l] }
        var fill = starts
        var askers = [Int32](repeating: 0, count: probed.lists.count)
        for (slot, l) in probed.lists.enumerated() {
            askers[fill[Int(l)]] = Int32(slot / probes)
            fill[Int(l)] += 1
        }
        let visited = try (0..<lists).filter { starts[$0 + 1] > starts[$0] }.map { l throws(VectorSearchError) in
            (number: l, list: try list(l))
        }
        let order = visited.indices.sorted { a, b in
            (starts[visited[a].number + 1] - starts[visited[a].number]) * visited[a].list.count
                > (starts[visited[b].number + 1] - starts[visited[b].number]) * visited[b].list.count
        }
        let workers = max(1, min(threads, order.count))
        let best = (0..<workers).map { _ in TopK(queries: n, k: k) }
        let l2 = coarse.metric == .l2
        queries.values.withUnsafeBufferPointer { q in
            forEachInterleaved(order.count, workers: workers) { worker, items in
                let top = best[worker]
                var gathered: [Float] = []
                var tile: [Float] = []
                var norms: [Float] = []
                for item in items {
                    let (number, list) = visited[order[item]]
                    let asking = askers[starts[number]..<starts[number + 1]]
                    guard list.count > 0, let vectors = list.vectors, let ids = list.ids else { continue }
                    gathered.removeAll(keepingCapacity: true)
                    for query in asking {
                        gathered.append(contentsOf: UnsafeBufferPointer(start: q.baseAddress! + Int(query) * d, count: d))
                    }
                    // A list is multiplied a slice at a time, so that no tile outgrows `sliceRows` columns.
                    for first in stride(from: 0, to: list.count, by: Self.sliceRows) {
                        let width = min(Self.sliceRows, list.count - first)
                        let slice = vectors + first * d
                        tile.removeAll(keepingCapacity: true)
                        tile.append(contentsOf: repeatElement(0, count: asking.count * width))
                        cblas_sgemm(
                            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(asking.count), Int32(width), Int32(d), 1,
                            gathered, Int32(d), slice, Int32(d), 0, &tile, Int32(width))
                        if l2 {
                            norms = (0..<width).map { v in rn_dot(level.rawValue, slice + v * d, slice + v * d, Int32(d)) }
                        }
                        for (row, query) in asking.enumerated() {
                            for v in 0..<width {
                                let product = tile[row * width + v]
                                top.offer(
                                    query: Int(query), key: l2 ? norms[v] - 2 * product : -product, id: ids[first + v])
                            }
                        }
                    }
                }
            }
        }
        var ids = [Int](repeating: -1, count: n * k)
        var distances = [Float](repeating: l2 ? .greatestFiniteMagnitude : -.greatestFiniteMagnitude, count: n * k)
        queries.values.withUnsafeBufferPointer { q in
            for query in 0..<n {
                let candidates = best.flatMap { $0.entries(of: query) }.sorted(by: Self.nearerFirst)
                let squaredNorm =
                    l2 ? rn_dot(level.rawValue, q.baseAddress! + query * d, q.baseAddress! + query * d, Int32(d)) : 0
                for (rank, candidate) in candidates.prefix(k).enumerated() {
                    ids[query * k + rank] = Int(candidate.id)
                    distances[query * k + rank] = l2 ? max(0, squaredNorm + candidate.key) : -candidate.key
                }
            }
        }
        return Neighbors(queries: n, k: k, ids: ids, distances: distances)
    }
}

extension IVFFlatScan {
    /// Orders candidates by key, then id.
    fileprivate static func nearerFirst(_ a: (key: Float, id: Int64), _ b: (key: Float, id: Int64)) -> Bool {
        a.key < b.key || (a.key == b.key && a.id < b.id)
    }
}

/// The `k` smallest keys offered for each of a number of queries, with their ids.
///
/// Unchecked: each worker of a scan owns one `TopK` and is the only one to `offer` to it;
/// the results are read after every worker has finished.
final class TopK: @unchecked Sendable {
    let k: Int
    /// `queries x k` keys, each query's sorted ascending (`+inf` where empty), and their ids.
    private let keys: ScratchBuffer<Float>
    private let ids: ScratchBuffer<Int64>

    init(queries: Int, k: Int) {
        self.k = k
        keys = ScratchBuffer(repeating: .infinity, count: queries * k)
        ids = ScratchBuffer(repeating: -1, count: queries * k)
    }

    /// Keeps `id` among `query`'s `k` smallest keys if `key` is below the current k-th.
    func offer(query: Int, key: Float, id: Int64) {
        Self.insert(key, id, keys: keys.base + query * k, ids: ids.base + query * k, count: k)
    }

    /// The kept keys and ids of `query` (fewer than `k` when fewer were offered).
    func entries(of query: Int) -> [(key: Float, id: Int64)] {
        (query * k..<(query + 1) * k).filter { ids[$0] >= 0 }.map { (keys[$0], ids[$0]) }
    }

    /// Inserts `key` and `id` into `count` slots sorted by key, ascending, if `key` is below
    /// the last slot's, dropping the last.
    @inline(__always)
    static func insert(
        _ key: Float, _ id: Int64, keys: UnsafeMutablePointer<Float>, ids: UnsafeMutablePointer<Int64>, count: Int
    ) {
        guard key < keys[count - 1] else { return }
        var slot = count - 1
        while slot > 0, keys[slot - 1] > key {
            keys[slot] = keys[slot - 1]
            ids[slot] = ids[slot - 1]
            slot -= 1
        }
        keys[slot] = key
        ids[slot] = id
    }
}
