import Common
import Foundation
import VectorSearch

/// Places new points into an existing 2-D t-SNE layout without moving the old ones, as
/// openTSNE's `TSNEEmbedding.transform` does (Policar, Strazar & Zupan 2024, section "adding
/// new data points").
///
/// Each new point gets Gaussian conditional affinities to its `3 * perplexity` nearest
/// reference points (in the input space), starts at the median of their positions, and then
/// only the new points move: gradient descent on each point's own `KL(P_i || Q_i)`, with `Q_i`
/// its Student-t similarities to every reference point (exact sums; the reference is fixed, so
/// new points neither attract nor repel each other). Deterministic.
public struct TSNEPlacement: Sendable {
    /// Effective neighbors of a new point among the reference points (openTSNE's default for
    /// `transform` is 5: a new point follows its closest reference points).
    public var perplexity: Double
    /// Most gradient steps per point.
    public var iterations: Int
    /// A point stops once a step moves it less than this (in layout units).
    public var tolerance: Float
    /// Step size per unit of gradient.
    public var learningRate: Float
    /// Momentum of the steps.
    public var momentum: Float

    public init(
        perplexity: Double = 5, iterations: Int = 100, tolerance: Float = 0.01, learningRate: Float = 1, momentum: Float = 0.8
    ) {
        self.perplexity = perplexity
        self.iterations = iterations
        self.tolerance = tolerance
        self.learningRate = learningRate
        self.momentum = momentum
    }

    /// The 2-D positions (`new.rows x 2`) of the rows of `new` in `layout`, the t-SNE layout
    /// (`reference.rows x 2`) of the rows of `reference` (same columns as `new`).
    public func place(_ new: Matrix, reference: Matrix, layout: Matrix) throws(TSNEError) -> Matrix {
        guard layout.rows == reference.rows, layout.columns == 2, new.columns == reference.columns else {
            throw .invalidParameter(
                "the layout has \(layout.rows) x \(layout.columns) values for \(reference.rows) reference rows; new rows have \(new.columns) columns, the reference \(reference.columns)"
            )
        }
        guard iterations >= 0, perplexity >= 1, learningRate > 0 else {
            throw .invalidParameter("need iterations >= 0, perplexity >= 1 and a positive learning rate")
        }
        let k = min(Int(3 * perplexity), reference.rows)
        guard new.rows > 0 else { return Matrix(rows: 0, columns: 2, values: []) }
        guard k >= 1 else { throw .tooFewPoints(reference.rows) }
        let neighbors: Neighbors
        do { neighbors = try RankedSearch(depth: k).run(new, database: reference) } catch { throw .neighborSearch(error) }
        let newNorms = new.rowNorms, referenceNorms = reference.rowNorms
        let affinities: [[Double]] = parallelMap(new.rows) { i in
            let squared = (0..<k).map { j in
                let id = neighbors.ids[i * k + j]
                return max(
                    0, newNorms[i] * newNorms[i] + referenceNorms[id] * referenceNorms[id] - 2 * neighbors.distances[i * k + j])
            }
            return Affinities.conditionalProbabilities(squaredDistances: squared, perplexity: min(perplexity, Double(k)))
        }
        let xs = (0..<layout.rows).map { layout.values[2 * $0] }, ys = (0..<layout.rows).map { layout.values[2 * $0 + 1] }
        let placed: [[Float]] = parallelMap(new.rows) { i in
            let ids = neighbors.ids(of: i).map { $0 }
            func median(_ values: [Float]) -> Float {
                let sorted = values.sorted()
                return sorted.count % 2 == 1
                    ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
            }
            var point = (median(ids.map { xs[$0] }), median(ids.map { ys[$0] }))
            var velocity: (Float, Float) = (0, 0)
            for _ in 0..<iterations {
                let g = gradient(at: point, neighbors: ids, affinities: affinities[i], xs: xs, ys: ys)
                velocity = (momentum * velocity.0 - learningRate * g.0, momentum * velocity.1 - learningRate * g.1)
                let norm = (velocity.0 * velocity.0 + velocity.1 * velocity.1).squareRoot()
                if norm > 1 { velocity = (velocity.0 / norm, velocity.1 / norm) }
                point = (point.0 + velocity.0, point.1 + velocity.1)
                if norm < tolerance { break }
            }
            return [point.0, point.1]
        }
        return Matrix(rows: new.rows, columns: 2, values: placed.flatMap { $0 })
    }

    /// The gradient of `KL(P_i || Q_i)` at `point`: `4 sum_j (p_ij - q_ij) w_ij (y_i - y_j)` with
    /// `w_ij = 1 / (1 + |y_i - y_j|^2)` over every reference point and `q_ij = w_ij / sum_j w_ij`.
    private func gradient(at point: (Float, Float), neighbors: [Int], affinities: [Double], xs: [Float], ys: [Float])
        -> (Float, Float)
    {
        var attraction: (Float, Float) = (0, 0)
        for (j, id) in neighbors.enumerated() {
            let dx = point.0 - xs[id], dy = point.1 - ys[id]
            let w = Float(affinities[j]) / (1 + dx * dx + dy * dy)
            attraction = (attraction.0 + w * dx, attraction.1 + w * dy)
        }
        let px = SIMD8<Float>(repeating: point.0), py = SIMD8<Float>(repeating: point.1)
        var z = SIMD8<Float>(repeating: 0), rx = SIMD8<Float>(repeating: 0), ry = SIMD8<Float>(repeating: 0)
        let whole = xs.count / 8 * 8
        xs.withUnsafeBufferPointer { x in
            ys.withUnsafeBufferPointer { y in
                for start in stride(from: 0, to: whole, by: 8) {
                    let dx = px - UnsafeRawPointer(x.baseAddress! + start).loadUnaligned(as: SIMD8<Float>.self)
                    let dy = py - UnsafeRawPointer(y.baseAddress! + start).loadUnaligned(as: SIMD8<Float>.self)
                    let w = 1 / (1 + dx * dx + dy * dy)
                    z += w
                    rx += w * w * dx
                    ry += w * w * dy
                }
            }
        }
        var total = z.sum(), repulsion = (rx.sum(), ry.sum())
        for id in whole..<xs.count {
            let dx = point.0 - xs[id], dy = point.1 - ys[id]
            let w = 1 / (1 + dx * dx + dy * dy)
            total += w
            repulsion = (repulsion.0 + w * w * dx, repulsion.1 + w * w * dy)
        }
        return (4 * (attraction.0 - repulsion.0 / total), 4 * (attraction.1 - repulsion.1 / total))
    }
}
