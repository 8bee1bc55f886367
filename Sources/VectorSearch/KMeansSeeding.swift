import Common
import Foundation

/// Greedy k-means++ seeding: each new centroid is the best (lowest total squared distance)
/// of `2 + ln k` points drawn with probability proportional to their squared distance to
/// the centroids chosen so far. Distances come from one SIMD pass over the points per step.
struct Seeding {
    let points: Matrix
    let squaredNorms: [Float]
    let threads: Int
    let level: SIMDLevel

    init(_ points: Matrix, threads: Int, level: SIMDLevel) {
        self.points = points
        self.threads = threads
        self.level = level
        squaredNorms = points.rowNorms.map { $0 * $0 }
    }

    /// `count` seed centroids drawn with `generator`.
    func centroids(_ count: Int, using generator: inout SeededGenerator) -> Matrix {
        let n = points.rows
        let trials = 2 + Int(log(Double(count)))
        var chosen = [Int.random(in: 0..<n, using: &generator)]
        var nearest = squaredDistances(to: [chosen[0]])
        while chosen.count < count {
            let total = nearest.reduce(0.0) { $0 + Double($1) }
            let candidates = (0..<trials).map { _ in draw(nearest, total: total, using: &generator) }
            let distances = squaredDistances(to: candidates)
            var bestPotential = Double.infinity
            var bestCandidate = 0
            for t in 0..<trials {
                var potential = 0.0
                for i in 0..<n { potential += Double(min(nearest[i], distances[i * trials + t])) }
                if potential < bestPotential { (bestPotential, bestCandidate) = (potential, t) }
            }
            chosen.append(candidates[bestCandidate])
            for i in 0..<n { nearest[i] = min(nearest[i], distances[i * trials + bestCandidate]) }
        }
        return Matrix(rows: count, columns: points.columns, values: chosen.flatMap { points.row($0) })
    }

    /// A row index drawn with probability proportional to `weights`.
    private func draw(_ weights: [Float], total: Double, using generator: inout SeededGenerator) -> Int {
        var remaining = Double.random(in: 0..<max(total, .leastNonzeroMagnitude), using: &generator)
        for (i, w) in weights.enumerated() {
            remaining -= Double(w)
            if remaining < 0 { return i }
        }
        return weights.count - 1
    }

    /// `n x ids.count` squared distances from every row to the rows `ids`, row-major, from one
    /// pass over the points (split into fixed chunks, so the result does not depend on `threads`).
    private func squaredDistances(to ids: [Int]) -> [Float] {
        let n = points.rows
        let d = points.columns, level = self.level
        let m = ids.count
        let targets = ids.flatMap { points.row($0) }
        let targetNorms = ids.map { squaredNorms[$0] }
        let distances = ScratchBuffer<Float>(repeating: 0, count: n * m)
        points.values.withUnsafeBufferPointer { values in
            targets.withUnsafeBufferPointer { targetValues in
                guard let x = values.baseAddress, let t = targetValues.baseAddress else { return }
                forEachChunk(n, chunks: min(32, n), threads: threads) { _, range in
                    for i in range {
                        let row = x + i * d
                        for c in 0..<m {
                            let dot = KMeans.dot(row, t + c * d, d, level: level)
                            distances[i * m + c] = max(0, squaredNorms[i] + targetNorms[c] - 2 * dot)
                        }
                    }
                }
            }
        }
        return distances.elements
    }
}
