internal import CKernels
public import Common

/// k-means clustering: greedy k-means++ seeding (Arthur & Vassilvitskii, SODA 2007; with
/// scikit-learn's `2 + ln k` candidates per step), then Lloyd iterations, keeping the
/// lowest-inertia of `restarts` runs drawn from `seed`.
///
/// A pass over the points is split into fixed chunks across `threads` workers; each row's dot
/// products with the centroids come from the SIMD kernels of CKernels at `level` (row norms are
/// computed once), and Hamerly's bounds skip the rows that provably keep their centroid, so
/// later iterations read few rows. Sums are kept in `Double` and merged in chunk order, so a
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
        var best: Result?
        for _ in 0..<restarts {
            let initial = seeding.centroids(clusters, using: &generator)
            let result = lloyd(points, from: initial, squaredNorms: seeding.squaredNorms, tolerance: tolerance)
            if result.inertia < best?.inertia ?? .infinity { best = result }
        }
        guard let best else { throw .invalidArgument("k-means needs at least one restart") }
        return best
    }

    /// Fixed chunk count of a pass, independent of `threads`, so sums are reduced identically.
    private static let chunks = 32

    /// Runs Lloyd iterations from `initial` and assigns every point.
    ///
    /// Hamerly's bounds (SDM 2010) skip the points that provably keep their centroid: each point
    /// keeps an upper bound on the distance to its centroid and a lower bound on the distance to
    /// any other, loosened by how far the centroids moved. Only points whose bounds overlap are
    /// read again, and only points that change cluster touch the centroid sums, which are kept
    /// in `Double` and updated by per-chunk deltas merged in chunk order. The result is the same
    /// as plain Lloyd iterations, and every point ends assigned to its nearest final centroid.
    func lloyd(_ points: Matrix, from initial: Matrix, squaredNorms: [Float], tolerance: Float) -> Result {
        let n = points.rows, d = points.columns, k = clusters
        let chunks = min(Self.chunks, n)
        var centroids = initial.values
        var assignments = [Int](repeating: -1, count: n)
        var upper = [Float](repeating: 0, count: n)
        var lower = [Float](repeating: 0, count: n)
        var centroidNorms = [Float](repeating: 0, count: k)
        var moved = [Float](repeating: 0, count: k)
        var separation = [Float](repeating: 0, count: k)
        var deltaSums = [Float](repeating: 0, count: chunks * k * d)
        var deltaCounts = [Int](repeating: 0, count: chunks * k)
        var chunkChanged = [Bool](repeating: false, count: chunks)
        var sums = [Double](repeating: 0, count: k * d)
        var counts = [Int](repeating: 0, count: k)
        let threads = self.threads, level = self.level

        func refreshCentroidGeometry() {
            for c in 0..<k {
                var s: Float = 0
                for j in c * d..<(c + 1) * d { s += centroids[j] * centroids[j] }
                centroidNorms[c] = s
            }
            for c in 0..<k { separation[c] = .infinity }
            for a in 0..<k {
                for b in (a + 1)..<max(a + 1, k) {
                    var s: Float = 0
                    for j in 0..<d {
                        let t = centroids[a * d + j] - centroids[b * d + j]
                        s += t * t
                    }
                    let half = 0.5 * s.squareRoot()
                    separation[a] = min(separation[a], half)
                    separation[b] = min(separation[b], half)
                }
            }
        }

        /// One pass over the points; `full` recomputes every point, otherwise the bounds filter.
        /// Returns whether any assignment changed.
        func assign(full: Bool) -> Bool {
            refreshCentroidGeometry()
            var maxMoved: Float = 0, secondMoved: Float = 0, maxAt = -1
            for c in 0..<k {
                if moved[c] > maxMoved {
                    (secondMoved, maxMoved, maxAt) = (maxMoved, moved[c], c)
                } else if moved[c] > secondMoved {
                    secondMoved = moved[c]
                }
            }
            points.values.withUnsafeBufferPointer { xb in
                centroids.withUnsafeBufferPointer { cb in
                    centroidNorms.withUnsafeBufferPointer { nb in
                        squaredNorms.withUnsafeBufferPointer { sb in
                            assignments.withUnsafeMutableBufferPointer { ab in
                                upper.withUnsafeMutableBufferPointer { ub in
                                    lower.withUnsafeMutableBufferPointer { lb in
                                        deltaSums.withUnsafeMutableBufferPointer { dsb in
                                            deltaCounts.withUnsafeMutableBufferPointer { dcb in
                                                chunkChanged.withUnsafeMutableBufferPointer { chb in
                                                    moved.withUnsafeBufferPointer { mb in
                                                        separation.withUnsafeBufferPointer { spb in
                                                            let x = SharedPointer(UnsafeMutablePointer(mutating: xb.baseAddress!))
                                                            let cent = SharedPointer(
                                                                UnsafeMutablePointer(mutating: cb.baseAddress!))
                                                            let cn = SharedPointer(
                                                                UnsafeMutablePointer(mutating: nb.baseAddress!))
                                                            let sq = SharedPointer(
                                                                UnsafeMutablePointer(mutating: sb.baseAddress!))
                                                            let mv = SharedPointer(
                                                                UnsafeMutablePointer(mutating: mb.baseAddress!))
                                                            let sp = SharedPointer(
                                                                UnsafeMutablePointer(mutating: spb.baseAddress!))
                                                            let a = SharedPointer(ab.baseAddress!)
                                                            let u = SharedPointer(ub.baseAddress!)
                                                            let l = SharedPointer(lb.baseAddress!)
                                                            let ds = SharedPointer(dsb.baseAddress!)
                                                            let dc = SharedPointer(dcb.baseAddress!)
                                                            let ch = SharedPointer(chb.baseAddress!)
                                                            forEachChunk(n, chunks: chunks, threads: threads) { chunk, range in
                                                                let sums = ds.base + chunk * k * d
                                                                let counts = dc.base + chunk * k
                                                                var changed = false
                                                                for i in range {
                                                                    let old = a.base[i]
                                                                    let row = UnsafePointer(x.base + i * d)
                                                                    if !full {
                                                                        u.base[i] += mv.base[old]
                                                                        l.base[i] -= old == maxAt ? secondMoved : maxMoved
                                                                        let bound = max(sp.base[old], l.base[i])
                                                                        if u.base[i] <= bound { continue }
                                                                        let exact = max(
                                                                            0,
                                                                            sq.base[i] + cn.base[old] - 2
                                                                                * Self.dot(
                                                                                    row, cent.base + old * d, d, level: level))
                                                                        u.base[i] = exact.squareRoot()
                                                                        if u.base[i] <= bound { continue }
                                                                    }
                                                                    var best: Int32 = 0, first: Float = 0, second: Float = 0
                                                                    rn_nearest_two(
                                                                        level.rawValue, row, Int32(d), Int32(k), cent.base,
                                                                        cn.base,
                                                                        &best, &first, &second)
                                                                    u.base[i] = max(0, sq.base[i] + first).squareRoot()
                                                                    l.base[i] = max(0, sq.base[i] + second).squareRoot()
                                                                    if Int(best) != old {
                                                                        changed = true
                                                                        a.base[i] = Int(best)
                                                                        counts[Int(best)] += 1
                                                                        rn_add_scaled(
                                                                            level.rawValue, row, sums + Int(best) * d, Int32(d), 1
                                                                        )
                                                                        if old >= 0 {
                                                                            counts[old] -= 1
                                                                            rn_add_scaled(
                                                                                level.rawValue, row, sums + old * d, Int32(d), -1)
                                                                        }
                                                                    }
                                                                }
                                                                ch.base[chunk] = changed
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
                    }
                }
            }
            guard chunkChanged.contains(true) else { return false }
            // Merge the chunks that changed, in chunk order, and clear their deltas for the next pass.
            deltaSums.withUnsafeMutableBufferPointer { ds in
                sums.withUnsafeMutableBufferPointer { s in
                    for chunk in 0..<chunks where chunkChanged[chunk] {
                        let base = chunk * k * d
                        for j in 0..<k * d { s[j] += Double(ds[base + j]) }
                        (ds.baseAddress! + base).update(repeating: 0, count: k * d)
                    }
                }
            }
            for chunk in 0..<chunks where chunkChanged[chunk] {
                for c in 0..<k {
                    counts[c] += deltaCounts[chunk * k + c]
                    deltaCounts[chunk * k + c] = 0
                }
            }
            return true
        }

        /// Moves every centroid to the mean of its points; returns the total squared shift.
        func update() -> Float {
            var shift: Float = 0
            for c in 0..<k {
                var squared: Float = 0
                if counts[c] == 0 {
                    // An empty cluster takes the point farthest from its centroid.
                    var far = 0
                    for i in 0..<n where upper[i] > upper[far] { far = i }
                    let old = assignments[far]
                    for j in 0..<d {
                        let v = Double(points.values[far * d + j])
                        sums[old * d + j] -= v
                        sums[c * d + j] = v
                    }
                    counts[old] -= 1
                    counts[c] = 1
                    assignments[far] = c
                    upper[far] = 0
                    lower[far] = 0
                }
                let scale = 1 / Double(counts[c])
                for j in 0..<d {
                    let updated = Float(sums[c * d + j] * scale)
                    let delta = updated - centroids[c * d + j]
                    squared += delta * delta
                    centroids[c * d + j] = updated
                }
                moved[c] = squared.squareRoot()
                shift += squared
            }
            // A relocated point's bounds were zeroed; the others only need `moved`, except when
            // an emptied cluster changed a count, which recomputing `moved` already covers.
            return shift
        }

        _ = assign(full: true)
        for _ in 0..<iterations {
            let shift = update()
            let changed = assign(full: false)
            if !changed || shift <= tolerance { break }
        }
        let centroidMatrix = Matrix(rows: k, columns: d, values: centroids)
        return Result(
            centroids: centroidMatrix, assignments: assignments,
            inertia: Self.inertia(points, centroids: centroidMatrix, assignments: assignments, threads: threads))
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
        var partial = [Double](repeating: 0, count: chunks * 2 * d)
        points.values.withUnsafeBufferPointer { xb in
            partial.withUnsafeMutableBufferPointer { pb in
                let x = SharedPointer(UnsafeMutablePointer(mutating: xb.baseAddress!))
                let p = SharedPointer(pb.baseAddress!)
                forEachChunk(n, chunks: chunks, threads: threads) { chunk, range in
                    let mean = p.base + chunk * 2 * d, square = mean + d
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
                            let row = x.base + i * d
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
        var partial = [Double](repeating: 0, count: chunks)
        points.values.withUnsafeBufferPointer { xb in
            centroids.values.withUnsafeBufferPointer { cb in
                assignments.withUnsafeBufferPointer { ab in
                    partial.withUnsafeMutableBufferPointer { pb in
                        let x = SharedPointer(UnsafeMutablePointer(mutating: xb.baseAddress!))
                        let c = SharedPointer(UnsafeMutablePointer(mutating: cb.baseAddress!))
                        let a = SharedPointer(UnsafeMutablePointer(mutating: ab.baseAddress!))
                        let p = SharedPointer(pb.baseAddress!)
                        forEachChunk(n, chunks: chunks, threads: threads) { chunk, range in
                            var total = 0.0
                            for i in range {
                                let row = x.base + i * d, centroid = c.base + a.base[i] * d
                                var sum: Float = 0
                                for j in 0..<d { sum += (row[j] - centroid[j]) * (row[j] - centroid[j]) }
                                total += Double(sum)
                            }
                            p.base[chunk] = total
                        }
                    }
                }
            }
        }
        return partial.reduce(0, +)
    }
}
