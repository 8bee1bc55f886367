internal import CKernels
import Common
import Foundation

/// Greedy k-means++ seeding: each new centroid is the best (lowest total squared distance)
/// of `2 + ln k` points drawn with probability proportional to their squared distance to
/// the centroids chosen so far. Several starts are seeded in lockstep, each from its own
/// generator: one SIMD pass over the points per step gives the distances for every start's
/// candidates, so the starts share the memory traffic that bounds a pass.
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

    /// `count` seed centroids for each of `generators` (one start each), in their order; each
    /// start's centroids depend only on its own generator.
    func centroids(_ count: Int, using generators: inout [SeededGenerator]) -> [Matrix] {
        let n = points.rows, starts = generators.count
        let trials = 2 + Int(log(Double(count)))
        var chosen = (0..<starts).map { [Int.random(in: 0..<n, using: &generators[$0])] }
        let first = squaredDistances(to: chosen.map { $0[0] })
        var nearest = (0..<starts).map { s in (0..<n).map { first[$0 * starts + s] } }
        while chosen.count > 0, chosen[0].count < count {
            var candidates = [Int]()
            for s in 0..<starts {
                let total = nearest[s].reduce(0.0) { $0 + Double($1) }
                candidates += (0..<trials).map { _ in draw(nearest[s], total: total, using: &generators[s]) }
            }
            let distances = squaredDistances(to: candidates)
            let m = candidates.count
            for s in 0..<starts {
                var bestPotential = Double.infinity
                var bestColumn = 0
                for column in s * trials..<(s + 1) * trials {
                    var potential = 0.0
                    for i in 0..<n { potential += Double(min(nearest[s][i], distances[i * m + column])) }
                    if potential < bestPotential { (bestPotential, bestColumn) = (potential, column) }
                }
                chosen[s].append(candidates[bestColumn])
                for i in 0..<n { nearest[s][i] = min(nearest[s][i], distances[i * m + bestColumn]) }
            }
        }
        return chosen.map { Matrix(rows: count, columns: points.columns, values: $0.flatMap { points.row($0) }) }
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
                        let out = distances.base + i * m
                        rn_dots(level.rawValue, x + i * d, Int32(d), Int32(m), t, out)
                        for c in 0..<m { out[c] = max(0, squaredNorms[i] + targetNorms[c] - 2 * out[c]) }
                    }
                }
            }
        }
        return distances.elements
    }
}
