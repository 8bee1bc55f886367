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
        let bounds = runs.map { $0.beginPass() }
        let block = max(1, blockBytes / max(1, first.d * MemoryLayout<Float>.stride))
        first.points.values.withUnsafeBufferPointer { values in
            guard let x = values.baseAddress else { return }
            forEachChunk(first.n, chunks: first.chunks, threads: first.threads) { chunk, range in
                for start in stride(from: range.lowerBound, to: range.upperBound, by: block) {
                    let rows = start..<min(range.upperBound, start + block)
                    for (run, moved) in zip(runs, bounds) { run.assignChunk(rows, of: x, full: full, moved: moved, chunk: chunk) }
                }
            }
        }
        return runs.map { $0.endPass() }
    }

    /// How far the centroids moved in the last update: the largest move, where, and the second largest.
    struct Moves {
        var largest: Float = 0
        var second: Float = 0
        var largestAt = -1
    }

    /// Prepares a pass: the centroids' geometry, their moves, and no chunk changed yet.
    private func beginPass() -> Moves {
        refreshCentroidGeometry()
        var moves = Moves()
        for c in 0..<k {
            if moved[c] > moves.largest {
                (moves.second, moves.largest, moves.largestAt) = (moves.largest, moved[c], c)
            } else if moved[c] > moves.second {
                moves.second = moved[c]
            }
        }
        for chunk in 0..<chunks { chunkChanged[chunk] = false }
        return moves
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

    /// The points `range` of chunk `chunk`: bounds, reassignment, and the chunk's deltas.
    private func assignChunk(_ range: Range<Int>, of x: UnsafePointer<Float>, full: Bool, moved moves: Moves, chunk: Int) {
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
                l[i] -= old == moves.largestAt ? moves.second : moves.largest
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
        if changed { chunkChanged[chunk] = true }
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
