import Common
import Foundation
import TestSupport
import XCTest

@testable import TSNE

/// `count` points around `clusters` well-separated centers in `dimensions`-D, with their labels.
private func gaussianClusters(count: Int, clusters: Int, dimensions: Int, seed: UInt64) -> (Matrix, [Int]) {
    var generator = SeededGenerator(seed: seed)
    let centers = (0..<clusters).map { _ in (0..<dimensions).map { _ in Float.random(in: -10...10, using: &generator) } }
    var values = [Float](), labels = [Int]()
    for i in 0..<count {
        let c = i % clusters
        labels.append(c)
        for d in 0..<dimensions { values.append(centers[c][d] + Float.random(in: -1...1, using: &generator)) }
    }
    return (Matrix(rows: count, columns: dimensions, values: values), labels)
}

/// Share of each point's `k` nearest 2-D neighbors (brute force) that carry its label.
private func bruteForceClassAgreement(_ y: Matrix, labels: [Int], k: Int) -> Double {
    var agree = 0
    for i in 0..<y.rows {
        let order = (0..<y.rows).filter { $0 != i }.sorted {
            let a = pow(y.values[2 * $0] - y.values[2 * i], 2) + pow(y.values[2 * $0 + 1] - y.values[2 * i + 1], 2)
            let b = pow(y.values[2 * $1] - y.values[2 * i], 2) + pow(y.values[2 * $1 + 1] - y.values[2 * i + 1], 2)
            return a < b
        }
        agree += order.prefix(k).filter { labels[$0] == labels[i] }.count
    }
    return Double(agree) / Double(y.rows * k)
}

final class FFTTests: XCTestCase {
    /// Mixed-radix transforms (4, 2, 3, 5) of two groups of 8 columns match a direct DFT, both ways; other columns stay.
    func testMatchesDirectDFT() throws {
        var generator = SeededGenerator(seed: 3)
        for n in [1, 2, 8, 12, 45, 60, 100] {
            let fft = try XCTUnwrap(FFT(n: n))
            let stride = 27, columns = 8..<24
            var re = (0..<n * stride).map { _ in Float.random(in: -1...1, using: &generator) }
            var im = (0..<n * stride).map { _ in Float.random(in: -1...1, using: &generator) }
            var workRe = [Float](repeating: 0, count: n * stride), workIm = workRe
            for inverse in [false, true] {
                let (inRe, inIm) = (re, im)
                fft.transform(
                    re: &re, im: &im, workRe: &workRe, workIm: &workIm, rowStride: stride, columns: columns, inverse: inverse)
                for c in 0..<stride {
                    var expectedRe = [Float](), expectedIm = [Float](), actualRe = [Float](), actualIm = [Float]()
                    for k in 0..<n {
                        var sr = 0.0, si = 0.0
                        for t in 0..<n {
                            let angle = (inverse ? 2 : -2) * Double.pi * Double(t * k % n) / Double(n)
                            let (xr, xi) = (Double(inRe[t * stride + c]), Double(inIm[t * stride + c]))
                            sr += xr * cos(angle) - xi * sin(angle)
                            si += xr * sin(angle) + xi * cos(angle)
                        }
                        let touched = columns.contains(c)
                        expectedRe.append(touched ? Float(sr) : inRe[k * stride + c])
                        expectedIm.append(touched ? Float(si) : inIm[k * stride + c])
                        actualRe.append(re[k * stride + c])
                        actualIm.append(im[k * stride + c])
                    }
                    assertClose(actualRe, expectedRe, rtol: 1e-4, atol: 1e-4, "n = \(n), column \(c)")
                    assertClose(actualIm, expectedIm, rtol: 1e-4, atol: 1e-4, "n = \(n), column \(c)")
                }
            }
        }
        XCTAssertNil(FFT(n: 14))
        XCTAssertEqual(FFT.smoothLength(atLeast: 299), 300)
        XCTAssertEqual(FFT.smoothLength(atLeast: 301), 320)
    }
}

final class AffinityTests: XCTestCase {
    /// Bisection reaches the target perplexity: entropy within 1e-5 nats of log(perplexity).
    func testCalibrationHitsTargetEntropy() {
        var generator = SeededGenerator(seed: 1)
        for (perplexity, k) in [(2.0, 6), (10.0, 30), (30.0, 90)] {
            for scale: Float in [0.01, 1, 300] {
                let distances = (0..<k).map { _ in Float.random(in: 0...1, using: &generator) * scale }.sorted()
                let p = Affinities.conditionalProbabilities(squaredDistances: distances, perplexity: perplexity)
                let entropy = -p.reduce(0) { $0 + ($1 > 0 ? $1 * log($1) : 0) }
                XCTAssertEqual(p.reduce(0, +), 1, accuracy: 1e-12)
                XCTAssertEqual(entropy, log(perplexity), accuracy: 1e-5, "perplexity \(perplexity), scale \(scale)")
            }
        }
    }

    /// P is symmetric, sums to 1, and links each point to its nearest neighbors.
    func testSymmetricAndNormalized() throws {
        let (data, _) = gaussianClusters(count: 60, clusters: 3, dimensions: 5, seed: 2)
        let p = try Affinities(data: data, perplexity: 5, threads: 2)
        var entries = [Int: Float]()
        for i in 0..<p.count {
            for s in p.rowStart[i]..<p.rowStart[i + 1] { entries[i * p.count + Int(p.columns[s])] = p.values[s] }
        }
        for (key, value) in entries {
            let (i, j) = (key / p.count, key % p.count)
            XCTAssertNotEqual(i, j)
            XCTAssertEqual(entries[j * p.count + i] ?? -1, value, accuracy: 1e-9)
        }
        XCTAssertEqual(Double(p.values.reduce(0, +)), 1, accuracy: 1e-5)
    }
}

final class RepulsionTests: XCTestCase {
    /// Exact `sum_j w_ij^2 (y_i - y_j)` and `Z = sum_{i != j} w_ij` by all pairs, in double precision.
    private func exactSums(_ y: [Float]) -> (forces: [Float], z: Double) {
        let n = y.count / 2
        var forces = [Float](repeating: 0, count: 2 * n)
        var z = 0.0
        for i in 0..<n {
            var (fx, fy) = (0.0, 0.0)
            for j in 0..<n where j != i {
                let dx = Double(y[2 * i] - y[2 * j]), dy = Double(y[2 * i + 1] - y[2 * j + 1])
                let w = 1 / (1 + dx * dx + dy * dy)
                z += w
                fx += w * w * dx
                fy += w * w * dy
            }
            forces[2 * i] = Float(fx)
            forces[2 * i + 1] = Float(fy)
        }
        return (forces, z)
    }

    /// Relative L2 error of the interpolated forces and of `Z` against the exact sums.
    private func errors(_ y: [Float], intervalWidth: Float) -> (forces: Double, z: Double) {
        let (exact, exactZ) = exactSums(y)
        let repulsion = InterpolatedRepulsion(intervalWidth: intervalWidth, threads: 2)
        var forces = [Float](repeating: 0, count: y.count)
        let z = y.withUnsafeBufferPointer { yp in
            forces.withUnsafeMutableBufferPointer { repulsion.forces(yp, into: $0.baseAddress!) }
        }
        let error = zip(forces, exact).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }
        let norm = exact.reduce(0.0) { $0 + Double($1 * $1) }
        return ((error / norm).squareRoot(), abs(z - exactZ) / exactZ)
    }

    /// Two clusters of 600 points, `spread` wide, like an embedding part way through optimization.
    private func clusters(spread: Float, seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<1200).map { i in Float.random(in: -1...1, using: &generator) * spread + (i % 4 < 2 ? spread : -spread) / 2 }
    }

    /// With openTSNE's grid (boxes at most 1 wide, 3 nodes each) the repulsion is within 6% and
    /// `Z` within 2% of the exact O(n^2) sums (relative L2), from a compact to a sparse, wide layout.
    func testMatchesExactSumsAtDefaultGrid() {
        for spread: Float in [0.5, 5, 20] {
            let e = errors(clusters(spread: spread, seed: 9), intervalWidth: 1)
            XCTAssertLessThan(e.forces, 0.06, "spread \(spread)")
            XCTAssertLessThan(e.z, 0.02, "spread \(spread)")
        }
    }

    /// Refining the grid drives the error toward float precision: the interpolation is consistent.
    func testConvergesOnFinerGrids() {
        let y = clusters(spread: 10, seed: 2)
        let coarse = errors(y, intervalWidth: 1), fine = errors(y, intervalWidth: 0.1)
        XCTAssertLessThan(fine.forces, 2e-4)
        XCTAssertLessThan(fine.z, 1e-4)
        XCTAssertLessThan(fine.forces, coarse.forces / 20)
    }
}

final class TSNETests: XCTestCase {
    /// Well-separated Gaussian clusters stay separated: 2-D 10-NN class agreement above 0.98.
    func testSeparatesGaussianClusters() throws {
        let (data, labels) = gaussianClusters(count: 300, clusters: 5, dimensions: 10, seed: 4)
        let result = try TSNE(perplexity: 10, iterations: 300, earlyExaggerationIterations: 100).embed(data)
        XCTAssertEqual(result.embedding.rows, 300)
        XCTAssertEqual(result.embedding.columns, 2)
        XCTAssertGreaterThan(bruteForceClassAgreement(result.embedding, labels: labels, k: 10), 0.98)
        XCTAssertEqual(result.klDivergence, result.affinities.klDivergence(of: result.embedding), accuracy: 0.02)
        XCTAssertLessThan(result.klDivergence, 1.5)
    }

    /// Same input and seed give the same result bit for bit, with one thread or two.
    func testDeterministic() throws {
        let (data, _) = gaussianClusters(count: 120, clusters: 3, dimensions: 8, seed: 6)
        for initialization in [TSNEInitialization.pca, .random] {
            let one = try TSNE(
                perplexity: 8, iterations: 120, earlyExaggerationIterations: 50, initialization: initialization, seed: 3,
                threads: 1
            ).embed(data)
            let two = try TSNE(
                perplexity: 8, iterations: 120, earlyExaggerationIterations: 50, initialization: initialization, seed: 3,
                threads: 2
            ).embed(data)
            XCTAssertEqual(one.embedding, two.embedding)
        }
        let other = try TSNE(perplexity: 8, iterations: 120, earlyExaggerationIterations: 50, initialization: .random, seed: 4)
            .embed(data)
        let first = try TSNE(perplexity: 8, iterations: 120, earlyExaggerationIterations: 50, initialization: .random, seed: 3)
            .embed(data)
        XCTAssertNotEqual(other.embedding, first.embedding)
    }

    /// PCA initialization: first coordinate has standard deviation 1e-4 and follows the widest direction.
    func testPCAInitialization() {
        var generator = SeededGenerator(seed: 8)
        let n = 500
        var values = [Float]()
        for _ in 0..<n {
            let (a, b) = (Float.random(in: -1...1, using: &generator), Float.random(in: -1...1, using: &generator))
            values += [3 * a, 0.5 * b, 0.01 * a, Float.random(in: -0.05...0.05, using: &generator)]
        }
        let y = pcaInitialization(Matrix(rows: n, columns: 4, values: values))
        let first = stride(from: 0, to: 2 * n, by: 2).map { Double(y[$0]) }
        let mean = first.reduce(0, +) / Double(n)
        let std = (first.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)).squareRoot()
        XCTAssertEqual(std, 1e-4, accuracy: 1e-8)
        let correlation = zip(first, stride(from: 0, to: values.count, by: 4).map { Double(values[$0]) }).reduce(0) {
            $0 + $1.0 * $1.1
        }
        XCTAssertGreaterThan(abs(correlation) / (std * Double(n) * (3.0 / 3.0.squareRoot())), 0.99)
    }

    /// Bad input is refused with a clear error before any work.
    func testRejectsBadInput() {
        let tiny = Matrix(rows: 3, columns: 2, values: [0, 1, 2, 3, 4, 5])
        XCTAssertThrowsError(try TSNE(perplexity: 0.5).embed(tiny)) { XCTAssertEqual($0 as? TSNEError, .tooFewPoints(3)) }
        let (data, _) = gaussianClusters(count: 30, clusters: 2, dimensions: 3, seed: 1)
        XCTAssertThrowsError(try TSNE(perplexity: 10).embed(data)) {
            XCTAssertEqual($0 as? TSNEError, .perplexityTooLarge(perplexity: 10, points: 30))
            XCTAssertTrue("\($0)".contains("3 x perplexity"))
        }
        var broken = data
        broken.values[7 * 3 + 1] = .nan
        XCTAssertThrowsError(try TSNE(perplexity: 5).embed(broken)) { XCTAssertEqual($0 as? TSNEError, .nonFiniteRow(7)) }
    }
}

/// New points placed into a fixed layout (openTSNE's `transform`): they land among the points
/// of their own cluster, and the layout's points stay where they are.
final class TSNEPlacementTests: XCTestCase {
    func testNewPointsLandAmongTheirOwnClusterAsOldPointsDo() throws {
        let (data, labels) = gaussianClusters(count: 330, clusters: 5, dimensions: 10, seed: 7)
        let old = Matrix(rows: 300, columns: 10, values: Array(data.values.prefix(3000)))
        let new = Matrix(rows: 30, columns: 10, values: Array(data.values.suffix(300)))
        let layout = try TSNE(perplexity: 10, iterations: 500, seed: 1).embed(old).embedding
        let placed = try TSNEPlacement().place(new, reference: old, layout: layout)
        XCTAssertEqual(placed.rows, 30)
        XCTAssertTrue(placed.values.allSatisfy(\.isFinite))
        let all = Matrix(rows: 330, columns: 2, values: layout.values + placed.values)
        let together = bruteForceClassAgreement(all, labels: labels, k: 10)
        let alone = bruteForceClassAgreement(layout, labels: Array(labels.prefix(300)), k: 10)
        XCTAssertGreaterThan(together, alone - 0.02, "placed points agree with their neighbours as the old ones do")
        // Each placed point's nearest old point is of its own cluster.
        for i in 0..<30 {
            let nearest = (0..<300).min { a, b in
                func d(_ j: Int) -> Float {
                    pow(layout.values[2 * j] - placed.values[2 * i], 2)
                        + pow(layout.values[2 * j + 1] - placed.values[2 * i + 1], 2)
                }
                return d(a) < d(b)
            }!
            XCTAssertEqual(labels[nearest], labels[300 + i], "placed point \(i)")
        }
    }

    func testMismatchedShapesAreRefused() {
        let rows = Matrix(rows: 10, columns: 3, values: [Float](repeating: 1, count: 30))
        let layout = Matrix(rows: 9, columns: 2, values: [Float](repeating: 0, count: 18))
        XCTAssertThrowsError(try TSNEPlacement().place(rows, reference: rows, layout: layout))
        XCTAssertThrowsError(
            try TSNEPlacement().place(
                Matrix(rows: 1, columns: 4, values: [1, 2, 3, 4]), reference: rows,
                layout: Matrix(rows: 10, columns: 2, values: [Float](repeating: 0, count: 20))))
    }
}
