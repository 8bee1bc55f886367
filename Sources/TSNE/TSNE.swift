import Common
import Foundation
import VectorSearch

/// Why t-SNE cannot run on the given input.
public enum TSNEError: Error, Equatable, CustomStringConvertible {
    /// t-SNE needs at least 4 points.
    case tooFewPoints(Int)
    /// The neighbor count `3 * perplexity` must be below the number of points.
    case perplexityTooLarge(perplexity: Double, points: Int)
    /// A parameter outside its valid range.
    case invalidParameter(String)
    /// Row `row` holds a NaN or infinite value.
    case nonFiniteRow(Int)
    /// The exact nearest-neighbor search behind the affinities failed.
    case neighborSearch(VectorSearchError)

    public var description: String {
        switch self {
        case .tooFewPoints(let n): "t-SNE needs at least 4 points, got \(n)"
        case .perplexityTooLarge(let perplexity, let n):
            "perplexity \(perplexity) is too large for \(n) points: 3 x perplexity must be below the number of points"
        case .invalidParameter(let message): message
        case .nonFiniteRow(let row): "row \(row) contains NaN or infinite values"
        case .neighborSearch(let error): "nearest-neighbor search failed: \(error)"
        }
    }

    /// Checks the data and perplexity before any work starts.
    static func validate(_ data: Matrix, perplexity: Double) throws(TSNEError) {
        guard data.rows >= 4 else { throw .tooFewPoints(data.rows) }
        guard perplexity.isFinite, perplexity >= 1 else {
            throw .invalidParameter("perplexity must be at least 1, got \(perplexity)")
        }
        guard 3 * perplexity < Double(data.rows) else { throw .perplexityTooLarge(perplexity: perplexity, points: data.rows) }
        guard data.columns >= 2 else {
            throw .invalidParameter("t-SNE to 2-D needs at least 2 input dimensions, got \(data.columns)")
        }
        for i in 0..<data.rows where data.row(i).contains(where: { !$0.isFinite }) {
            throw .nonFiniteRow(i)
        }
        if let row = data.firstRowWithUnboundedDistances {
            throw .invalidParameter("row \(row) is so large that squared distances overflow float32: rescale the data")
        }
    }
}

/// How t-SNE places the points before optimizing.
public enum TSNEInitialization: Sendable, Equatable {
    /// The first two principal components, scaled to standard deviation 1e-4.
    case pca
    /// Gaussian noise with standard deviation 1e-4 from the seed.
    case random
}

/// A 2-D t-SNE embedding and its final KL divergence.
public struct TSNEResult: Sendable {
    /// `n x 2` coordinates, one row per input row.
    public let embedding: Matrix
    /// `KL(P || Q)` of the final embedding, with `Z` from the interpolation.
    public let klDivergence: Double
    /// The input affinities, for exact quality measures (`Affinities.klDivergence(of:)`).
    public let affinities: Affinities
}

/// t-distributed stochastic neighbor embedding of `n x d` points into 2-D.
///
/// van der Maaten & Hinton (2008), "Visualizing data using t-SNE" (JMLR 9), with sparse k-NN
/// affinities (van der Maaten 2014), repulsion by FFT-accelerated interpolation (Linderman et
/// al. 2019, "FIt-SNE"), PCA initialization and learning rate `n / exaggeration` (Belkina et al.
/// 2019; Kobak & Berens 2019), following openTSNE's defaults (Policar, Strazar & Zupan 2024).
/// Gradient descent with momentum and per-coordinate gains (Jacobs 1988), steps clipped to norm 5.
/// Deterministic: the same input and settings give the same result, whatever the thread count.
///
/// ```swift
/// let tsne = TSNE(perplexity: 30, seed: 1)
/// let result = try tsne.embed(embeddings.l2Normalized(), progress: true)
/// try result.embedding.write(npy: "xy.npy")
/// ```
public struct TSNE: Sendable {
    /// Effective number of neighbors; `3 * perplexity` neighbors are used per point.
    public var perplexity: Double
    /// Total iterations, early exaggeration included.
    public var iterations: Int
    /// Iterations of the early exaggeration phase.
    public var earlyExaggerationIterations: Int
    /// Factor on `P` during early exaggeration.
    public var earlyExaggeration: Double
    /// Momentum during early exaggeration, then after it.
    public var momentum: (early: Double, late: Double)
    /// Starting layout.
    public var initialization: TSNEInitialization
    /// Seed for the random initialization.
    public var seed: UInt64
    /// Threads used throughout.
    public var threads: Int

    public init(
        perplexity: Double = 30, iterations: Int = 1000, earlyExaggerationIterations: Int = 250,
        earlyExaggeration: Double = 12, momentum: (early: Double, late: Double) = (0.5, 0.8),
        initialization: TSNEInitialization = .pca, seed: UInt64 = 0,
        threads: Int = ProcessInfo.processInfo.activeProcessorCount
    ) {
        self.perplexity = perplexity
        self.iterations = iterations
        self.earlyExaggerationIterations = earlyExaggerationIterations
        self.earlyExaggeration = earlyExaggeration
        self.momentum = momentum
        self.initialization = initialization
        self.seed = seed
        self.threads = threads
    }

    /// Embeds the rows of `data` in 2-D.
    ///
    /// - Parameters:
    ///   - data: `n x d` points with `n >= 4`, `d >= 2`, `3 * perplexity < n`, all values finite.
    ///   - progress: draw a progress line (iteration, KL divergence every 50 iterations, ETA) on standard error.
    public func embed(_ data: Matrix, progress: Bool = false) throws(TSNEError) -> TSNEResult {
        try TSNEError.validate(data, perplexity: perplexity)
        guard iterations >= 1, (0...iterations).contains(earlyExaggerationIterations), earlyExaggeration > 0 else {
            throw .invalidParameter("need iterations >= 1, 0 <= early exaggeration iterations <= iterations, exaggeration > 0")
        }
        let affinities = try Affinities(data: data, perplexity: perplexity, threads: threads)
        let start: [Float]
        switch initialization {
        case .pca: start = pcaInitialization(data)
        case .random:
            var generator = SeededGenerator(seed: seed)
            start = (0..<2 * data.rows).map { _ in Float(generator.nextGaussian() * 1e-4) }
        }
        return optimize(affinities, start: start, progress: progress)
    }

    /// Runs gradient descent from `start` (`n * 2` interleaved coordinates).
    func optimize(_ affinities: Affinities, start: [Float], progress showProgress: Bool) -> TSNEResult {
        let n = affinities.count
        var y = start
        var next = y
        var update = [Float](repeating: 0, count: 2 * n)
        var gains = [Float](repeating: 1, count: 2 * n)
        var repulsion = [Float](repeating: 0, count: 2 * n)
        let interpolation = InterpolatedRepulsion(threads: threads)
        let meter = showProgress ? Progress("t-SNE", total: iterations, unit: "iterations") : nil
        var note = ""
        var kl = 0.0
        let chunks = 8
        for iteration in 0...iterations {
            let early = iteration < earlyExaggerationIterations
            let exaggeration = Float(early ? earlyExaggeration : 1)
            let learningRate = Float(n) / exaggeration
            let momentum = Float(early ? self.momentum.early : self.momentum.late)
            let z = y.withUnsafeBufferPointer { yp in
                repulsion.withUnsafeMutableBufferPointer { interpolation.forces(yp, into: $0.baseAddress!) }
            }
            let final = iteration == iterations
            if final || (iteration + 1) % 50 == 0 {
                kl = affinities.negativeEntropy - y.withUnsafeBufferPointer { affinities.attractionLogSum($0) } + log(z)
                note = String(format: "KL %.4f", kl)
            }
            if final { break }
            let inverseZ = Float(1 / z)
            var partialMean = [Double](repeating: 0, count: 2 * chunks)
            y.withUnsafeBufferPointer { yp in
                next.withUnsafeMutableBufferPointer { nextPtr in
                    update.withUnsafeMutableBufferPointer { updatePtr in
                        gains.withUnsafeMutableBufferPointer { gainPtr in
                            partialMean.withUnsafeMutableBufferPointer { meanPtr in
                                let step = StepBuffers(
                                    next: nextPtr.baseAddress!, update: updatePtr.baseAddress!, gains: gainPtr.baseAddress!,
                                    mean: meanPtr.baseAddress!)
                                repulsion.withUnsafeBufferPointer { rep in
                                    forEachChunk(n, chunks: chunks, threads: threads) { c, range in
                                        affinities.step(
                                            points: range, y: yp, repulsion: rep, inverseZ: inverseZ,
                                            exaggeration: exaggeration, learningRate: learningRate, momentum: momentum,
                                            buffers: step, chunk: c)
                                    }
                                }
                            }
                        }
                    }
                }
            }
            let meanX = Float(stride(from: 0, to: 2 * chunks, by: 2).reduce(0.0) { $0 + partialMean[$1] } / Double(n))
            let meanY = Float(stride(from: 1, to: 2 * chunks, by: 2).reduce(0.0) { $0 + partialMean[$1] } / Double(n))
            for i in 0..<n {
                next[2 * i] -= meanX
                next[2 * i + 1] -= meanY
            }
            swap(&y, &next)
            meter?.advance(note: note)
        }
        meter?.finish(note: note)
        return TSNEResult(embedding: Matrix(rows: n, columns: 2, values: y), klDivergence: kl, affinities: affinities)
    }
}

/// Output buffers of one gradient step, shared by the parallel chunks (disjoint rows).
struct StepBuffers: @unchecked Sendable {
    let next: UnsafeMutablePointer<Float>
    let update: UnsafeMutablePointer<Float>
    let gains: UnsafeMutablePointer<Float>
    /// Per-chunk sums of the new x and y coordinates.
    let mean: UnsafeMutablePointer<Double>
}

extension Affinities {
    /// One gradient-descent step for `points`: gradient `exaggeration * attraction - repulsion / Z`,
    /// gains, momentum, step clipping to norm 5, new positions into `buffers.next`.
    func step(
        points: Range<Int>, y: UnsafeBufferPointer<Float>, repulsion: UnsafeBufferPointer<Float>, inverseZ: Float,
        exaggeration: Float, learningRate: Float, momentum: Float, buffers: StepBuffers, chunk: Int
    ) {
        var sumX = 0.0, sumY = 0.0
        for i in points {
            let (xi, yi) = (y[2 * i], y[2 * i + 1])
            var ax: Float = 0, ay: Float = 0
            for s in rowStart[i]..<rowStart[i + 1] {
                let j = Int(columns[s])
                let dx = xi - y[2 * j], dy = yi - y[2 * j + 1]
                let pw = values[s] / (1 + dx * dx + dy * dy)
                ax += pw * dx
                ay += pw * dy
            }
            let gradient = (
                exaggeration * ax - repulsion[2 * i] * inverseZ, exaggeration * ay - repulsion[2 * i + 1] * inverseZ
            )
            var u = (
                descend(2 * i, gradient.0, learningRate: learningRate, momentum: momentum, buffers: buffers),
                descend(2 * i + 1, gradient.1, learningRate: learningRate, momentum: momentum, buffers: buffers)
            )
            let norm = (u.0 * u.0 + u.1 * u.1).squareRoot()
            if norm > 5 {
                u = (u.0 * 5 / norm, u.1 * 5 / norm)
            }
            buffers.update[2 * i] = u.0
            buffers.update[2 * i + 1] = u.1
            let (nx, ny) = (xi + u.0, yi + u.1)
            buffers.next[2 * i] = nx
            buffers.next[2 * i + 1] = ny
            sumX += Double(nx)
            sumY += Double(ny)
        }
        buffers.mean[2 * chunk] = sumX
        buffers.mean[2 * chunk + 1] = sumY
    }

    /// Updates the gain of coordinate `s` (plus 0.2 where the signs of the previous step and the
    /// gradient differ, else times 0.8 plus 0.01, as openTSNE) and returns the new momentum step.
    @inline(__always)
    private func descend(_ s: Int, _ gradient: Float, learningRate: Float, momentum: Float, buffers: StepBuffers) -> Float {
        let old = buffers.update[s]
        let differ = (old > 0 ? 1 : old < 0 ? -1 : 0) != (gradient > 0 ? 1 : gradient < 0 ? -1 : 0)
        let gain = differ ? buffers.gains[s] + 0.2 : buffers.gains[s] * 0.8 + 0.01
        buffers.gains[s] = gain
        return momentum * old - learningRate * gain * gradient
    }
}
