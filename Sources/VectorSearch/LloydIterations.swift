internal import CKernels
import Common

/// Lloyd iterations of one k-means run from given centroids, with the scratch memory they
/// need (owned here, freed with this object).
///
/// Hamerly's bounds (SDM 2010) skip the points that provably keep their centroid: each point
/// keeps an upper bound on the distance to its centroid and a lower bound on the distance to
/// any other, loosened by how far the centroids moved. Only points whose bounds overlap are
/// read again, and only points that change cluster touch the centroid sums, which are kept
/// in `Double` and updated by per-chunk deltas merged in chunk order. The result is the same
/// as plain Lloyd iterations, and every point ends assigned to its nearest final centroid.
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
    /// Per point: an upper bound on the distance to its centroid, a lower bound on the distance to any other.
    let upper: ScratchBuffer<Float>
    let lower: ScratchBuffer<Float>
    /// Per centroid: its squared norm, how far it moved in the last update, half the distance to the nearest other.
    let centroidNorms: ScratchBuffer<Float>
    let moved: ScratchBuffer<Float>
    let separation: ScratchBuffer<Float>
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
        lower = ScratchBuffer(repeating: 0, count: n)
        centroidNorms = ScratchBuffer(repeating: 0, count: k)
        moved = ScratchBuffer(repeating: 0, count: k)
        separation = ScratchBuffer(repeating: 0, count: k)
        deltaSums = ScratchBuffer(repeating: 0, count: chunks * k * d)
        deltaCounts = ScratchBuffer(repeating: 0, count: chunks * k)
        chunkChanged = ScratchBuffer(repeating: false, count: chunks)
        sums = ScratchBuffer(repeating: 0, count: k * d)
        counts = ScratchBuffer(repeating: 0, count: k)
    }

    /// Assigns every point, then alternates updates and assignments until no assignment
    /// changes, the total squared shift is at most `tolerance`, or after `iterations` updates.
    func run(iterations: Int, tolerance: Float) -> (centroids: Matrix, assignments: [Int]) {
        _ = assign(full: true)
        for _ in 0..<iterations {
            let shift = update()
            let changed = assign(full: false)
            if !changed || shift <= tolerance { break }
        }
        return (Matrix(rows: k, columns: d, values: centroids.elements), assignments.elements)
    }

    /// Each centroid's squared norm and half the distance to its nearest other centroid.
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
                separation[a] = min(separation[a], half)
                separation[b] = min(separation[b], half)
            }
        }
    }

    /// One pass over the points; `full` recomputes every point, otherwise the bounds filter.
    /// Returns whether any assignment changed.
    private func assign(full: Bool) -> Bool {
        refreshCentroidGeometry()
        var maxMoved: Float = 0, secondMoved: Float = 0, maxAt = -1
        for c in 0..<k {
            if moved[c] > maxMoved {
                (secondMoved, maxMoved, maxAt) = (maxMoved, moved[c], c)
            } else if moved[c] > secondMoved {
                secondMoved = moved[c]
            }
        }
        points.values.withUnsafeBufferPointer { values in
            guard let x = values.baseAddress else { return }
            forEachChunk(n, chunks: chunks, threads: threads) { chunk, range in
                assignChunk(range, of: x, full: full, maxMoved: maxMoved, secondMoved: secondMoved, maxAt: maxAt, chunk: chunk)
            }
        }
        guard (0..<chunks).contains(where: { chunkChanged[$0] }) else { return false }
        // Merge the chunks that changed, in chunk order, and clear their deltas for the next pass.
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

    /// The points `range` of one chunk: bounds, reassignment, and the chunk's deltas.
    private func assignChunk(
        _ range: Range<Int>, of x: UnsafePointer<Float>, full: Bool, maxMoved: Float, secondMoved: Float, maxAt: Int,
        chunk: Int
    ) {
        let (a, u, l) = (assignments.base, upper.base, lower.base)
        let (cent, cn, mv, sp) = (centroids.base, centroidNorms.base, moved.base, separation.base)
        let sums = deltaSums.base + chunk * k * d
        let counts = deltaCounts.base + chunk * k
        var changed = false
        for i in range {
            let old = a[i]
            let row = x + i * d
            let squaredNorm = squaredNorms[i]
            if !full {
                u[i] += mv[old]
                l[i] -= old == maxAt ? secondMoved : maxMoved
                let bound = max(sp[old], l[i])
                if u[i] <= bound { continue }
                let exact = max(0, squaredNorm + cn[old] - 2 * KMeans.dot(row, cent + old * d, d, level: level))
                u[i] = exact.squareRoot()
                if u[i] <= bound { continue }
            }
            var best: Int32 = 0, first: Float = 0, second: Float = 0
            rn_nearest_two(level.rawValue, row, Int32(d), Int32(k), cent, cn, &best, &first, &second)
            u[i] = max(0, squaredNorm + first).squareRoot()
            l[i] = max(0, squaredNorm + second).squareRoot()
            if Int(best) != old {
                changed = true
                a[i] = Int(best)
                counts[Int(best)] += 1
                rn_add_scaled(level.rawValue, row, sums + Int(best) * d, Int32(d), 1)
                if old >= 0 {
                    counts[old] -= 1
                    rn_add_scaled(level.rawValue, row, sums + old * d, Int32(d), -1)
                }
            }
        }
        chunkChanged[chunk] = changed
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
}
