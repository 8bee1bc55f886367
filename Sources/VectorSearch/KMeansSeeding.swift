internal import CBLAS
import Common
import Foundation

/// Greedy k-means++ seeding: each new centroid is the best (lowest total squared distance)
/// of `2 + ln k` points drawn with probability proportional to their squared distance to
/// the centroids chosen so far. Distances come from one `sgemm` per step.
struct Seeding {
    let points: Matrix
    let squaredNorms: [Float]

    init(_ points: Matrix) {
        self.points = points
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

    /// `n x ids.count` squared distances from every row to the rows `ids`, row-major.
    private func squaredDistances(to ids: [Int]) -> [Float] {
        let n = points.rows
        let d = points.columns
        let targets = ids.flatMap { points.row($0) }
        var products = [Float](repeating: 0, count: n * ids.count)
        openblas_set_num_threads(1)
        points.values.withUnsafeBufferPointer { x in
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(ids.count), Int32(d), 1, x.baseAddress, Int32(d),
                targets, Int32(d), 0, &products, Int32(ids.count))
        }
        for i in 0..<n {
            for (t, id) in ids.enumerated() {
                products[i * ids.count + t] = max(0, squaredNorms[i] + squaredNorms[id] - 2 * products[i * ids.count + t])
            }
        }
        return products
    }
}
