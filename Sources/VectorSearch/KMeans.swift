public import Common
internal import CFAISS

/// k-means clustering: greedy k-means++ seeding (Arthur & Vassilvitskii, SODA 2007; with
/// scikit-learn's `2 + ln k` candidates per step), then FAISS's `Clustering` (Lloyd
/// iterations), keeping the lowest-inertia of `restarts` runs drawn from `seed`.
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

    public var clusters: Int
    public var iterations: Int
    public var restarts: Int
    public var seed: Int
    public var threads: Int

    public init(clusters: Int, iterations: Int = 25, restarts: Int = 1, seed: Int, threads: Int = ThreadPools.cores) {
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
        var best: Result?
        for _ in 0..<restarts {
            let initial = Seeding(points).centroids(clusters, using: &generator)
            let result = try lloyd(points, from: initial)
            if result.inertia < best?.inertia ?? .infinity { best = result }
        }
        guard let best else { throw .invalidArgument("k-means needs at least one restart") }
        return best
    }

    /// Runs FAISS's Lloyd iterations from `initial` and assigns every point.
    private func lloyd(_ points: Matrix, from initial: Matrix) throws(VectorSearchError) -> Result {
        ThreadPools.useFAISS(threads: threads)
        var centroids = [Float](repeating: 0, count: clusters * points.columns)
        var objective: Float = 0
        try VectorIndex.check("kmeans") {
            points.values.withUnsafeBufferPointer { x in
                centroids.withUnsafeMutableBufferPointer { c in
                    pv_faiss_kmeans(
                        Int64(points.rows), Int32(points.columns), x.baseAddress, Int32(clusters), Int32(iterations), 1,
                        Int32(truncatingIfNeeded: seed), initial.values, c.baseAddress, &objective)
                }
            }
        }
        let centroidMatrix = Matrix(rows: clusters, columns: points.columns, values: centroids)
        let assigner = try VectorIndex(dimension: points.columns, threads: threads)
        try assigner.add(centroidMatrix)
        let nearest = try assigner.search(points, k: 1)
        return Result(
            centroids: centroidMatrix, assignments: nearest.ids,
            inertia: Self.inertia(points, centroids: centroidMatrix, assignments: nearest.ids))
    }

    /// The exact sum of squared distances (accumulated in Double) from each point to its centroid.
    static func inertia(_ points: Matrix, centroids: Matrix, assignments: [Int]) -> Double {
        var total = 0.0
        for i in 0..<points.rows {
            let c = assignments[i]
            var sum: Float = 0
            for (a, b) in zip(points.row(i), centroids.row(c)) { sum += (a - b) * (a - b) }
            total += Double(sum)
        }
        return total
    }
}
