internal import CKernels
public import Common

/// k-means clustering: greedy k-means++ seeding (Arthur & Vassilvitskii, SODA 2007; with
/// scikit-learn's `2 + ln k` candidates per step), then Lloyd iterations, keeping the
/// lowest-inertia of `restarts` runs, each seeded from its own generator drawn from `seed`.
///
/// A pass over the points is split into fixed chunks across `threads` workers; each row's dot
/// products with the centroids come from the SIMD kernels of CKernels at `level` (row norms are
/// computed once), and Elkan's bounds skip the distances that provably cannot change a row's
/// centroid, so later iterations compute few. Sums are kept in `Double` and merged in chunk order, so a
/// seed gives the same result for any thread count. The k-means++ distances are computed the
/// same way, one pass per step. Like scikit-learn, iterations stop when no assignment changes
/// or the centroids barely move (total squared shift <= `1e-4` x the mean per-column variance),
/// with `iterations` as the cap; an empty cluster takes the point farthest from its centroid.
/// (Why this runs in Swift rather than through FAISS's `Clustering`: `benchmarks/README.md`.)
///
/// ```swift
/// let result = try KMeans(clusters: 10, seed: 42).fit(embeddings)
/// print(result.inertia, result.assignments[0])
/// ```
public struct KMeans: Sendable {
    /// The outcome of one clustering.
    public struct Result: Sendable {
        /// `clusters x d` centroids.
        public var centroids: Matrix
        /// The nearest centroid of every point.
        public var assignments: [Int]
        /// Sum of squared distances from each point to its centroid (scikit-learn's `inertia_`).
        public var inertia: Double
    }

    /// The default number of k-means++ restarts.
    public static let defaultRestarts = 3

    public var clusters: Int
    /// The most Lloyd iterations per restart.
    public var iterations: Int
    public var restarts: Int
    public var seed: Int
    public var threads: Int
    /// The kernel level of the distance loops.
    public var level: SIMDLevel

    public init(
        clusters: Int, iterations: Int = 300, restarts: Int = KMeans.defaultRestarts, seed: Int,
        threads: Int = ThreadPools.cores, level: SIMDLevel = .current
    ) {
        self.level = level
        self.clusters = clusters
        self.iterations = iterations
        self.restarts = restarts
        self.seed = seed
        self.threads = threads
    }

    /// Clusters the rows of `points`.
    public func fit(_ points: Matrix) throws(VectorSearchError) -> Result {
        guard clusters > 0, clusters <= points.rows else {
            throw .invalidArgument("k-means needs 1...\(points.rows) clusters (the point count), got \(clusters)")
        }
        guard iterations > 0, restarts > 0 else { throw .invalidArgument("iterations and restarts must be positive") }
        try points.checkFinite()
        var generator = SeededGenerator(seed: UInt64(bitPattern: Int64(seed)))
        let seeding = Seeding(points, threads: threads, level: level)
        let tolerance = Self.tolerance(points, threads: threads)
        var generators = (0..<restarts).map { _ in SeededGenerator(seed: generator.next()) }
        let initials = seeding.centroids(clusters, using: &generators)
        var best: Result?
        for result in lloyd(points, from: initials, squaredNorms: seeding.squaredNorms, tolerance: tolerance)
        where result.inertia < best?.inertia ?? .infinity {
            best = result
        }
        guard let best else { throw .invalidArgument("k-means needs at least one restart") }
        return best
    }

    /// Fixed chunk count of a pass, independent of `threads`, so sums are reduced identically.
    private static let chunks = 32

    /// Runs Lloyd iterations from each of `initials`, in lockstep (see `LloydIterations`), and
    /// assigns every point; one result per start, in order.
    func lloyd(_ points: Matrix, from initials: [Matrix], squaredNorms: [Float], tolerance: Float) -> [Result] {
        let runs = initials.map {
            LloydIterations(
                points: points, from: $0, squaredNorms: squaredNorms, chunks: Self.chunks, threads: threads, level: level)
        }
        return LloydIterations.run(runs, iterations: iterations, tolerance: tolerance).map { run in
            Result(
                centroids: run.centroids, assignments: run.assignments,
                inertia: Self.inertia(points, centroids: run.centroids, assignments: run.assignments, threads: threads))
        }
    }

    /// The dot product of a point and a centroid at a kernel level.
    @inline(__always)
    static func dot(_ row: UnsafePointer<Float>, _ centroid: UnsafePointer<Float>, _ d: Int, level: SIMDLevel) -> Float {
        rn_dot(level.rawValue, row, centroid, Int32(d))
    }

    /// scikit-learn's convergence tolerance: `1e-4` x the mean per-column variance.
    static func tolerance(_ points: Matrix, threads: Int) -> Float {
        let n = points.rows, d = points.columns
        let chunks = min(32, n)
        let partial = ScratchBuffer<Double>(repeating: 0, count: chunks * 2 * d)
        points.values.withUnsafeBufferPointer { values in
            guard let x = values.baseAddress else { return }
            forEachChunk(n, chunks: chunks, threads: threads) { chunk, range in
                let mean = partial.base + chunk * 2 * d, square = mean + d
                var rowMean = [Float](repeating: 0, count: d), rowSquare = [Float](repeating: 0, count: d)
                var start = range.lowerBound
                while start < range.upperBound {
                    // Float partials over blocks of 256 rows, then Double.
                    let end = min(range.upperBound, start + 256)
                    for j in 0..<d {
                        rowMean[j] = 0
                        rowSquare[j] = 0
                    }
                    for i in start..<end {
                        let row = x + i * d
                        for j in 0..<d {
                            let v = row[j]
                            rowMean[j] += v
                            rowSquare[j] += v * v
                        }
                    }
                    for j in 0..<d {
                        mean[j] += Double(rowMean[j])
                        square[j] += Double(rowSquare[j])
                    }
                    start = end
                }
            }
        }
        var variance = 0.0
        for j in 0..<d {
            var mean = 0.0, square = 0.0
            for chunk in 0..<chunks {
                mean += partial[chunk * 2 * d + j]
                square += partial[chunk * 2 * d + d + j]
            }
            let m = mean / Double(n)
            variance += max(0, square / Double(n) - m * m)
        }
        return Float(1e-4 * variance / Double(d))
    }

    /// The exact sum of squared distances (accumulated in Double) from each point to its centroid.
    static func inertia(_ points: Matrix, centroids: Matrix, assignments: [Int], threads: Int = ThreadPools.cores) -> Double {
        let n = points.rows, d = points.columns
        let chunks = min(32, n)
        let partial = ScratchBuffer<Double>(repeating: 0, count: chunks)
        points.values.withUnsafeBufferPointer { values in
            centroids.values.withUnsafeBufferPointer { centroidValues in
                guard let x = values.baseAddress, let c = centroidValues.baseAddress else { return }
                forEachChunk(n, chunks: chunks, threads: threads) { chunk, range in
                    var total = 0.0
                    for i in range {
                        let row = x + i * d, centroid = c + assignments[i] * d
                        var sum: Float = 0
                        for j in 0..<d { sum += (row[j] - centroid[j]) * (row[j] - centroid[j]) }
                        total += Double(sum)
                    }
                    partial[chunk] = total
                }
            }
        }
        return partial.elements.reduce(0, +)
    }
}
