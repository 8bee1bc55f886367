import Common
import Foundation
import VectorSearch

/// The symmetric sparse input affinities `P` of t-SNE, in compressed sparse rows, summing to 1.
///
/// Built as in van der Maaten (2014), "Accelerating t-SNE using tree-based algorithms"
/// (JMLR 15): Gaussian conditional probabilities over each point's `3 * perplexity` nearest
/// neighbors, each bandwidth calibrated by bisection to the target perplexity, then
/// `p_ij = (p_j|i + p_i|j) / 2n`.
public struct Affinities: Sendable {
    /// Number of points.
    public let count: Int
    /// Row `i` occupies `rowStart[i]..<rowStart[i + 1]` of `columns` and `values`.
    let rowStart: [Int]
    let columns: [Int32]
    let values: [Float]
    /// `sum p_ij log p_ij`, the constant part of the KL divergence.
    let negativeEntropy: Double

    /// Affinities of the rows of `data` at the given perplexity from their exact nearest neighbors.
    ///
    /// - Parameters:
    ///   - data: `n x d` points, one per row; finite values.
    ///   - perplexity: effective number of neighbors; `3 * perplexity < n`.
    ///   - threads: threads for the neighbor search and calibration.
    public init(data: Matrix, perplexity: Double, threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws(TSNEError) {
        try TSNEError.validate(data, perplexity: perplexity)
        let k = min(data.rows - 1, Int(3 * perplexity))
        let neighbors: Neighbors
        do {
            neighbors = try AllPairsSearch(metric: .l2, threads: threads).run(data, k: k).neighbors
        } catch {
            throw .neighborSearch(error)
        }
        self.init(neighbors: neighbors, perplexity: perplexity, threads: threads)
    }

    /// Calibrates and symmetrizes the affinities of exact neighbor lists (squared L2 distances, self excluded).
    init(neighbors: Neighbors, perplexity: Double, threads: Int) {
        let k = neighbors.k
        let n = neighbors.queries
        var conditional = [Float](repeating: 0, count: n * k)
        conditional.withUnsafeMutableBufferPointer { out in
            let shared = SharedPointer(out.baseAddress!)
            neighbors.distances.withUnsafeBufferPointer { dist in
                forEachChunk(n, chunks: 8, threads: threads) { _, range in
                    for i in range {
                        let p = Self.conditionalProbabilities(
                            squaredDistances: Array(dist[i * k..<(i + 1) * k]), perplexity: perplexity)
                        for j in 0..<k { shared.base[i * k + j] = Float(p[j]) }
                    }
                }
            }
        }
        // Gather p_j|i (row i) and p_i|j (row j) for every neighbor pair, then merge per row.
        var rowCount = [Int](repeating: k, count: n + 1)
        for j in neighbors.ids { rowCount[j] += 1 }
        var start = [Int](repeating: 0, count: n + 1)
        for i in 0..<n { start[i + 1] = start[i] + rowCount[i] }
        var fill = Array(start[0..<n])
        var pairColumns = [Int32](repeating: 0, count: start[n])
        var pairValues = [Float](repeating: 0, count: start[n])
        for i in 0..<n {
            for s in i * k..<(i + 1) * k {
                let j = neighbors.ids[s]
                pairColumns[fill[i]] = Int32(j)
                pairValues[fill[i]] = conditional[s]
                fill[i] += 1
                pairColumns[fill[j]] = Int32(i)
                pairValues[fill[j]] = conditional[s]
                fill[j] += 1
            }
        }
        let scale = Float(1 / (2 * Double(n)))
        var rowStart = [0]
        rowStart.reserveCapacity(n + 1)
        var columns = [Int32]()
        var values = [Float]()
        columns.reserveCapacity(start[n])
        values.reserveCapacity(start[n])
        var negativeEntropy = 0.0
        for i in 0..<n {
            let order = (start[i]..<start[i + 1]).sorted { pairColumns[$0] < pairColumns[$1] }
            var previous: Int32 = -1
            for s in order {
                if pairColumns[s] == previous {
                    values[values.count - 1] += pairValues[s] * scale
                } else {
                    previous = pairColumns[s]
                    columns.append(previous)
                    values.append(pairValues[s] * scale)
                }
            }
            rowStart.append(columns.count)
        }
        for v in values where v > 0 { negativeEntropy += Double(v) * log(Double(v)) }
        self.count = n
        self.rowStart = rowStart
        self.columns = columns
        self.values = values
        self.negativeEntropy = negativeEntropy
    }

    /// Number of stored (nonzero) affinities.
    public var nonzeroCount: Int { values.count }

    /// Gaussian conditional probabilities `p_j|i` whose perplexity `2^H` matches the target.
    ///
    /// Bisection on the precision `beta` of `exp(-beta d_j)` until the Shannon entropy (in nats)
    /// is within 1e-10 of `log(perplexity)` or 200 steps have passed.
    static func conditionalProbabilities(squaredDistances: [Float], perplexity: Double) -> [Double] {
        let d = squaredDistances.map(Double.init)
        let nearest = d.min() ?? 0
        let shifted = d.map { $0 - nearest }
        let target = log(perplexity)
        var beta = 1.0, low = 0.0, high = Double.infinity
        var p = [Double](repeating: 0, count: d.count)
        for _ in 0..<200 {
            var sum = 0.0, weighted = 0.0
            for j in 0..<shifted.count {
                p[j] = exp(-beta * shifted[j])
                sum += p[j]
                weighted += p[j] * shifted[j]
            }
            let entropy = log(sum) + beta * weighted / sum
            for j in 0..<p.count { p[j] /= sum }
            let error = entropy - target
            if abs(error) < 1e-10 { break }
            if error > 0 {
                low = beta
                beta = high.isFinite ? (beta + high) / 2 : beta * 2
            } else {
                high = beta
                beta = (beta + low) / 2
            }
        }
        return p
    }

    /// The exact KL divergence `KL(P || Q)` of an embedding, with `Q` from all `n^2` pairs.
    ///
    /// - Parameters:
    ///   - embedding: `n x 2` points in the order of the data.
    ///   - threads: threads for the O(n^2) normalization sum.
    public func klDivergence(of embedding: Matrix, threads: Int = ProcessInfo.processInfo.activeProcessorCount) -> Double {
        precondition(embedding.rows == count && embedding.columns == 2, "expected a \(count)x2 embedding")
        let chunks = 64
        var partial = [Double](repeating: 0, count: chunks)
        embedding.values.withUnsafeBufferPointer { y in
            partial.withUnsafeMutableBufferPointer { out in
                let shared = SharedPointer(out.baseAddress!)
                forEachChunk(count, chunks: chunks, threads: threads) { c, range in
                    var total = 0.0
                    for i in range {
                        let xi = y[2 * i], yi = y[2 * i + 1]
                        var row: Float = 0
                        for j in 0..<count {
                            let dx = xi - y[2 * j], dy = yi - y[2 * j + 1]
                            row += 1 / (1 + dx * dx + dy * dy)
                        }
                        total += Double(row) - 1
                    }
                    shared.base[c] = total
                }
            }
        }
        let z = partial.reduce(0, +)
        return embedding.values.withUnsafeBufferPointer { y in negativeEntropy - attractionLogSum(y) + log(z) }
    }

    /// `sum p_ij log w_ij` with `w_ij = 1 / (1 + |y_i - y_j|^2)` over the stored pairs.
    func attractionLogSum(_ y: UnsafeBufferPointer<Float>) -> Double {
        var sum = 0.0
        for i in 0..<count {
            for s in rowStart[i]..<rowStart[i + 1] {
                let j = Int(columns[s])
                let dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1]
                sum -= Double(values[s]) * log(1 + Double(dx * dx + dy * dy))
            }
        }
        return sum
    }
}
