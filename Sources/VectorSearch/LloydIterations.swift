internal import CKernels
import Common

/// Lloyd iterations of one k-means run from given centroids, with the scratch memory they
/// need (owned here, freed with this object).
///
/// Elkan's bounds (ICML 2003) skip the distances that provably cannot change a point's
/// centroid: each point keeps an upper bound on the distance to its centroid and a lower
/// bound on the distance to every other centroid (`n x k` floats), each loosened by how far
/// its own centroid moved; a distance is computed only where the bounds overlap and the
/// centroids are not already far apart. In the high dimensions of embeddings the per-centroid
/// bounds stay tight where Hamerly's single bound (loosened by the largest move) fails for most
/// points (measured: `benchmarks/README.md`). Only points that change cluster touch the
/// centroid sums, which are kept in `Double` and updated by per-chunk deltas merged in chunk
/// order. The result is the same as plain Lloyd iterations, and every point ends assigned to
/// its nearest final centroid.
final class LloydIterations {
    let points: Matrix
    let squaredNorms: [Float]
    let n: Int
    let d: Int
    let k: Int
    /// Fixed chunk count of a pass, independent of `threads`, so sums are reduced identically.
    let chunks: Int
    let threads: Int
    let level: SIMDLevel
    /// `k x d` centroids, row-major.
    let centroids: ScratchBuffer<Float>
    /// The centroid of each point (-1 before the first pass).
    let assignments: ScratchBuffer<Int>
    /// Per point: an upper bound on the distance to its centroid; `k` lower bounds, one per centroid.
    let upper: ScratchBuffer<Float>
    let lower: ScratchBuffer<Float>
    /// Per centroid: its squared norm, how far it moved in the last update, half the distance to the nearest other.
    let centroidNorms: ScratchBuffer<Float>
    let moved: ScratchBuffer<Float>
    let separation: ScratchBuffer<Float>
    /// `k x k` half distances between the centroids.
    let halfDistances: ScratchBuffer<Float>
    /// Per chunk: the changes to the centroid sums (`k x d`) and counts (`k`) made by its points in a pass.
    let deltaSums: ScratchBuffer<Float>
    let deltaCounts: ScratchBuffer<Int>
    let chunkChanged: ScratchBuffer<Bool>
    /// The sum and count of the points of each centroid.
    let sums: ScratchBuffer<Double>
    let counts: ScratchBuffer<Int>

    init(points: Matrix, from initial: Matrix, squaredNorms: [Float], chunks: Int, threads: Int, level: SIMDLevel) {
        precondition(initial.columns == points.columns && squaredNorms.count == points.rows, "k-means shapes")
        let n = points.rows, d = points.columns, k = initial.rows, chunks = min(chunks, points.rows)
        self.n = n
        self.d = d
        self.k = k
        self.chunks = chunks
        self.points = points
        self.squaredNorms = squaredNorms
        self.threads = threads
        self.level = level
        centroids = ScratchBuffer(initial.values)
        assignments = ScratchBuffer(repeating: -1, count: n)
        upper = ScratchBuffer(repeating: 0, count: n)
        lower = ScratchBuffer(repeating: 0, count: n * k)
        centroidNorms = ScratchBuffer(repeating: 0, count: k)
        moved = ScratchBuffer(repeating: 0, count: k)
        separation = ScratchBuffer(repeating: 0, count: k)
        halfDistances = ScratchBuffer(repeating: 0, count: k * k)
        deltaSums = ScratchBuffer(repeating: 0, count: chunks * k * d)
        deltaCounts = ScratchBuffer(repeating: 0, count: chunks * k)
        chunkChanged = ScratchBuffer(repeating: false, count: chunks)
        sums = ScratchBuffer(repeating: 0, count: k * d)
        counts = ScratchBuffer(repeating: 0, count: k)
    }

    /// Runs k-means runs over the same points in lockstep, each exactly as it would run alone:
    /// every point is assigned, then updates and assignments alternate until no assignment
    /// changes, the total squared shift is at most `tolerance`, or after `iterations` updates.
    /// Every pass reads a block of rows once for all the runs still iterating, so the runs
    /// share the memory traffic that dominates a pass over high-dimensional points.
    static func run(_ runs: [LloydIterations], iterations: Int, tolerance: Float) -> [(
        centroids: Matrix, assignments: [Int]
    )] {
        guard let first = runs.first else { return [] }
        precondition(
            runs.allSatisfy { $0.n == first.n && $0.d == first.d && $0.chunks == first.chunks },
            "lockstep runs share their points")
        pass(runs, full: true)
        var active = runs
        for _ in 0..<iterations where !active.isEmpty {
            let shifts = active.map { $0.update() }
            let changed = pass(active, full: false)
            active = zip(active, zip(shifts, changed)).filter { _, outcome in outcome.1 && outcome.0 > tolerance }.map(\.0)
        }
        return runs.map { (Matrix(rows: $0.k, columns: $0.d, values: $0.centroids.elements), $0.assignments.elements) }
    }

    /// Rows per block of a lockstep pass: small enough to stay in the L2 cache while every run reads them.
    private static let blockBytes = 256 * 1024

    /// One assignment pass of every run in `runs`, block by block; returns whether each run
    /// changed any assignment.
    @discardableResult
    private static func pass(_ runs: [LloydIterations], full: Bool) -> [Bool] {
        guard let first = runs.first else { return [] }
        for run in runs { run.beginPass() }
        let block = max(1, blockBytes / max(1, first.d * MemoryLayout<Float>.stride))
        first.points.values.withUnsafeBufferPointer { values in
            guard let x = values.baseAddress else { return }
            forEachChunk(first.n, chunks: first.chunks, threads: first.threads) { chunk, range in
                for start in stride(from: range.lowerBound, to: range.upperBound, by: block) {
                    let rows = start..<min(range.upperBound, start + block)
                    for run in runs { run.assignChunk(rows, of: x, full: full, chunk: chunk) }
                }
            }
        }
        return runs.map { $0.endPass() }
    }

    /// Prepares a pass: the centroids' geometry, and no chunk changed yet.
    private func beginPass() {
        refreshCentroidGeometry()
        for chunk in 0..<chunks { chunkChanged[chunk] = false }
    }

    /// Ends a pass: merges the chunks that changed, in chunk order, and clears their deltas.
    /// Returns whether any assignment changed.
    private func endPass() -> Bool {
        guard (0..<chunks).contains(where: { chunkChanged[$0] }) else { return false }
        for chunk in 0..<chunks where chunkChanged[chunk] {
            let base = chunk * k * d
            for j in 0..<k * d { sums[j] += Double(deltaSums[base + j]) }
            (deltaSums.base + base).update(repeating: 0, count: k * d)
        }
        for chunk in 0..<chunks where chunkChanged[chunk] {
            for c in 0..<k {
                counts[c] += deltaCounts[chunk * k + c]
                deltaCounts[chunk * k + c] = 0
            }
        }
        return true
    }

    /// Each centroid's squared norm, half its distance to every other, and to the nearest other.
    private func refreshCentroidGeometry() {
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
                halfDistances[a * k + b] = half
                halfDistances[b * k + a] = half
                separation[a] = min(separation[a], half)
                separation[b] = min(separation[b], half)
            }
        }
    }

    /// The points `range` of chunk `chunk`: bounds, reassignment, and the chunk's deltas.
    private func assignChunk(_ range: Range<Int>, of x: UnsafePointer<Float>, full: Bool, chunk: Int) {
        let (a, u) = (assignments.base, upper.base)
        let (cent, cn, mv, sp, half) = (centroids.base, centroidNorms.base, moved.base, separation.base, halfDistances.base)
        let sums = deltaSums.base + chunk * k * d
        let counts = deltaCounts.base + chunk * k
        var changed = false
        for i in range {
            let old = a[i]
            let row = x + i * d
            let squaredNorm = squaredNorms[i]
            let l = lower.base + i * k
            var best = old
            if full {
                // Every distance: the lower bounds start exact.
                rn_dots(level.rawValue, row, Int32(d), Int32(k), cent, l)
                var nearest: Float = .infinity
                for c in 0..<k {
                    let e = cn[c] - 2 * l[c]
                    l[c] = max(0, squaredNorm + e).squareRoot()
                    if e < nearest { (nearest, best) = (e, c) }
                }
                u[i] = l[best]
            } else {
                u[i] += mv[old]
                for c in 0..<k { l[c] -= mv[c] }
                if u[i] <= sp[old] { continue }
                var tight = false
                for c in 0..<k where c != best && u[i] > l[c] && u[i] > half[best * k + c] {
                    if !tight {
                        u[i] = distance(row, squaredNorm, to: best)
                        tight = true
                        if u[i] <= l[c] || u[i] <= half[best * k + c] { continue }
                    }
                    l[c] = distance(row, squaredNorm, to: c)
                    if l[c] < u[i] {
                        l[best] = u[i]
                        (best, u[i]) = (c, l[c])
                    }
                }
            }
            if best != old {
                changed = true
                a[i] = best
                counts[best] += 1
                rn_add_scaled(level.rawValue, row, sums + best * d, Int32(d), 1)
                if old >= 0 {
                    counts[old] -= 1
                    rn_add_scaled(level.rawValue, row, sums + old * d, Int32(d), -1)
                }
            }
        }
        if changed { chunkChanged[chunk] = true }
    }

    /// The distance from `row` (squared norm `squaredNorm`) to centroid `c`.
    @inline(__always)
    private func distance(_ row: UnsafePointer<Float>, _ squaredNorm: Float, to c: Int) -> Float {
        max(0, squaredNorm + centroidNorms[c] - 2 * KMeans.dot(row, centroids.base + c * d, d, level: level)).squareRoot()
    }

    /// Moves every centroid to the mean of its points; returns the total squared shift.
    private func update() -> Float {
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
                (lower.base + far * k).update(repeating: 0, count: k)
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
}
