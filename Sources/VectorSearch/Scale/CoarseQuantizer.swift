internal import CBLAS
internal import CKernels
public import Common

/// The coarse step of an IVF index done by this project's own workers: training the list
/// centroids and finding each row's nearest lists, as tiled `sgemm` products.
///
/// FAISS does the same work in Debian's build (1.7.3) with one single-threaded OpenBLAS call
/// at a time between OpenMP regions whose idle threads spin on the other cores; here every
/// worker multiplies its own tile of rows with single-threaded BLAS, so all cores multiply.
/// Training is FAISS's `Clustering` for IVF quantizers: `lists` distinct training rows drawn
/// by `seed` as the first centroids, then a fixed number of Lloyd iterations; under inner
/// product the centroids are re-normalized after each update (FAISS's spherical k-means);
/// a list left empty takes the row farthest from its centroid.
///
/// ```swift
/// let coarse = try CoarseQuantizer.train(sample, lists: 1024, metric: .l2)
/// let nearest = coarse.nearest(queries, probes: 16)   // 16 list numbers per query
/// ```
struct CoarseQuantizer {
    /// `lists x d` centroids.
    let centroids: Matrix
    let metric: Metric
    /// The kernel level of the norms and of picking each row's nearest list.
    let level: SIMDLevel
    /// `|c|²` of every centroid (the L2 key is `|c|² - 2 x·c`; `|x|²` does not rank lists).
    private let squaredNorms: [Float]
    /// Rows per tile of one `sgemm`.
    private static let blockRows = 256

    init(centroids: Matrix, metric: Metric, level: SIMDLevel = .current) {
        self.centroids = centroids
        self.metric = metric
        self.level = level
        squaredNorms = centroids.values.withUnsafeBufferPointer { c in
            (0..<centroids.rows).map { j in
                let row = c.baseAddress! + j * centroids.columns
                return rn_dot(level.rawValue, row, row, Int32(centroids.columns))
            }
        }
    }

    /// The `probes` nearest lists of every row, nearest first.
    struct Nearest {
        /// `rows x probes` list numbers.
        var lists: [Int64]
        /// `rows x probes` ranking keys (smaller is nearer): `|c|² - 2 x·c` under L2, `-x·c` under inner product.
        var keys: [Float]
    }

    /// The `probes` nearest lists of each row of `rows` (`probes` at most the list count).
    func nearest(_ rows: Matrix, probes: Int, threads: Int = ThreadPools.cores) -> Nearest {
        precondition(rows.columns == centroids.columns && (1...centroids.rows).contains(probes))
        let n = rows.rows
        let d = centroids.columns
        let m = centroids.rows
        var result = Nearest(
            lists: [Int64](repeating: -1, count: n * probes),
            keys: [Float](repeating: .infinity, count: n * probes))
        let blocks = (n + Self.blockRows - 1) / Self.blockRows
        let workers = min(max(threads, 1), blocks)
        let l2 = metric == .l2
        rows.values.withUnsafeBufferPointer { x in
            centroids.values.withUnsafeBufferPointer { c in
                squaredNorms.withUnsafeBufferPointer { norms in
                    result.lists.withUnsafeMutableBufferPointer { lists in
                        result.keys.withUnsafeMutableBufferPointer { keys in
                            let outLists = SharedPointer(lists.baseAddress!)
                            let outKeys = SharedPointer(keys.baseAddress!)
                            forEachInterleaved(blocks, workers: workers) { _, items in
                                var tile = [Float](repeating: 0, count: Self.blockRows * m)
                                for b in items {
                                    let first = b * Self.blockRows
                                    let count = min(Self.blockRows, n - first)
                                    cblas_sgemm(
                                        CblasRowMajor, CblasNoTrans, CblasTrans, Int32(count), Int32(m), Int32(d), 1,
                                        x.baseAddress! + first * d, Int32(d), c.baseAddress!, Int32(d), 0, &tile,
                                        Int32(m))
                                    tile.withUnsafeBufferPointer { t in
                                        for i in 0..<count {
                                            let row = first + i
                                            let products = t.baseAddress! + i * m
                                            if probes == 1 {
                                                var nearest: Int32 = 0
                                                outKeys.base[row] = rn_min_key(
                                                    level.rawValue, products, Int32(m), l2 ? norms.baseAddress : nil,
                                                    l2 ? -2 : -1, &nearest)
                                                outLists.base[row] = Int64(nearest)
                                                continue
                                            }
                                            for j in 0..<m {
                                                TopK.insert(
                                                    l2 ? norms[j] - 2 * products[j] : -products[j], Int64(j),
                                                    keys: outKeys.base + row * probes, ids: outLists.base + row * probes,
                                                    count: probes)
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return result
    }

    /// Each row of `rows` minus the centroid of its list (`lists[i]` for row `i`).
    func residuals(of rows: Matrix, lists: [Int64]) -> Matrix {
        let d = rows.columns
        var values = rows.values
        for (i, list) in lists.enumerated() {
            let centroid = Int(list) * d
            for j in 0..<d { values[i * d + j] -= centroids.values[centroid + j] }
        }
        return Matrix(rows: rows.rows, columns: d, values: values)
    }

    /// Trains `lists` centroids on the rows of `sample` in `iterations` Lloyd iterations.
    static func train(
        _ sample: Matrix, lists: Int, metric: Metric, iterations: Int = 10, seed: UInt64 = 1234,
        threads: Int = ThreadPools.cores, level: SIMDLevel = .current
    ) throws(VectorSearchError) -> CoarseQuantizer {
        let n = sample.rows
        let d = sample.columns
        guard lists > 0, lists <= n else {
            throw .invalidArgument("training \(lists) IVF lists needs at least as many training rows, got \(n)")
        }
        var generator = SeededGenerator(seed: seed)
        var order = Array(0..<n)
        for i in 0..<lists { order.swapAt(i, i + Int(generator.next() % UInt64(n - i))) }
        var values = [Float](repeating: 0, count: lists * d)
        for (j, row) in order.prefix(lists).enumerated() {
            values[j * d..<(j + 1) * d] = sample.values[row * d..<(row + 1) * d]
        }
        var quantizer = CoarseQuantizer(centroids: Matrix(rows: lists, columns: d, values: values), metric: metric, level: level)
        for _ in 0..<iterations {
            let nearest = quantizer.nearest(sample, probes: 1, threads: threads)
            quantizer = CoarseQuantizer(
                centroids: updatedCentroids(sample, nearest: nearest, lists: lists, metric: metric, level: level),
                metric: metric, level: level)
        }
        return quantizer
    }

    /// The mean of each list's rows (normalized under inner product); an empty list takes the
    /// row farthest from its centroid among those not yet moved.
    private static func updatedCentroids(_ sample: Matrix, nearest: Nearest, lists: Int, metric: Metric, level: SIMDLevel)
        -> Matrix
    {
        let n = sample.rows
        let d = sample.columns
        var assignment = nearest.lists.map { Int($0) }
        var counts = [Int](repeating: 0, count: lists)
        for list in assignment { counts[list] += 1 }
        let empty = (0..<lists).filter { counts[$0] == 0 }
        if !empty.isEmpty {
            let distances = sample.values.withUnsafeBufferPointer { x in
                (0..<n).map { i in
                    metric == .l2
                        ? nearest.keys[i] + rn_dot(level.rawValue, x.baseAddress! + i * d, x.baseAddress! + i * d, Int32(d))
                        : nearest.keys[i]
                }
            }
            var farthest = (0..<n).sorted { distances[$0] > distances[$1] }.makeIterator()
            for list in empty {
                while let row = farthest.next() {
                    guard counts[assignment[row]] > 1 else { continue }
                    counts[assignment[row]] -= 1
                    assignment[row] = list
                    counts[list] = 1
                    break
                }
            }
        }
        var sums = [Float](repeating: 0, count: lists * d)
        sample.values.withUnsafeBufferPointer { x in
            sums.withUnsafeMutableBufferPointer { s in
                for i in 0..<n {
                    rn_add_scaled(level.rawValue, x.baseAddress! + i * d, s.baseAddress! + assignment[i] * d, Int32(d), 1)
                }
                for list in 0..<lists where counts[list] > 0 {
                    let centroid = s.baseAddress! + list * d
                    var scale = 1 / Float(counts[list])
                    if metric == .innerProduct {
                        let norm = rn_dot(level.rawValue, centroid, centroid, Int32(d)).squareRoot() * scale
                        if norm > 0 { scale /= norm }
                    }
                    for j in 0..<d { centroid[j] *= scale }
                }
            }
        }
        return Matrix(rows: lists, columns: d, values: sums)
    }
}
