internal import CBLAS
import Common
import Foundation

/// The first two principal components of `x`, scaled so that the first has standard deviation `targetStd`.
///
/// The t-SNE initialization of Kobak & Linderman (2021), "Initialization is critical for
/// preserving global data structure in both t-SNE and UMAP" (Nature Biotechnology 39),
/// with openTSNE's scale 1e-4. The covariance comes from one SGEMM; its two leading
/// eigenvectors from subspace iteration with a Rayleigh-Ritz step, signs fixed so that each
/// vector's largest-magnitude component is positive. Returns `n * 2` interleaved coordinates.
func pcaInitialization(_ x: Matrix, targetStd: Double = 1e-4) -> [Float] {
    let n = x.rows, d = x.columns
    precondition(d >= 2, "PCA to 2-D needs at least 2 columns")
    let centered = x.centered().values
    var covarianceF = [Float](repeating: 0, count: d * d)
    centered.withUnsafeBufferPointer { c in
        covarianceF.withUnsafeMutableBufferPointer { cov in
            cblas_sgemm(
                CblasRowMajor, CblasTrans, CblasNoTrans, Int32(d), Int32(d), Int32(n),
                1, c.baseAddress!, Int32(d), c.baseAddress!, Int32(d), 0, cov.baseAddress!, Int32(d))
        }
    }
    let covariance = covarianceF.map(Double.init)
    let basis = leadingEigenvectors(covariance, size: d)
    var y = [Float](repeating: 0, count: 2 * n)
    for i in 0..<n {
        for c in 0..<2 {
            var s = 0.0
            for j in 0..<d { s += Double(centered[i * d + j]) * basis[c][j] }
            y[2 * i + c] = Float(s)
        }
    }
    var sum = 0.0, squares = 0.0
    for i in 0..<n {
        sum += Double(y[2 * i])
        squares += Double(y[2 * i]) * Double(y[2 * i])
    }
    let std = (max(0, squares / Double(n) - (sum / Double(n)) * (sum / Double(n)))).squareRoot()
    let scale = std > 0 ? Float(targetStd / std) : 0
    return y.map { $0 * scale }
}

/// The two leading eigenvectors of a symmetric positive semidefinite `size x size` matrix.
private func leadingEigenvectors(_ a: [Double], size d: Int) -> [[Double]] {
    // A fixed, generic start (not orthogonal to any particular eigenvector in practice).
    var v = (0..<2).map { c in (0..<d).map { j in 1 + sin(Double(j * (c + 2) + 1)) } }
    func multiply(_ u: [Double]) -> [Double] {
        (0..<d).map { i in
            var s = 0.0
            for j in 0..<d { s += a[i * d + j] * u[j] }
            return s
        }
    }
    func orthonormalize(_ w: inout [[Double]]) {
        for c in 0..<w.count {
            for prior in 0..<c {
                let dot = zip(w[c], w[prior]).reduce(0) { $0 + $1.0 * $1.1 }
                for j in 0..<d { w[c][j] -= dot * w[prior][j] }
            }
            let norm = w[c].reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm > 0 { for j in 0..<d { w[c][j] /= norm } }
        }
    }
    orthonormalize(&v)
    for _ in 0..<1000 {
        var w = v.map(multiply)
        orthonormalize(&w)
        let change = zip(w, v).map { pair in zip(pair.0, pair.1).reduce(0) { max($0, abs(abs($1.0) - abs($1.1))) } }.max() ?? 0
        v = w
        if change < 1e-12 { break }
    }
    // Rayleigh-Ritz: diagonalize the 2x2 projection to order and separate the two vectors.
    let av = v.map(multiply)
    let b00 = zip(v[0], av[0]).reduce(0) { $0 + $1.0 * $1.1 }
    let b01 = zip(v[0], av[1]).reduce(0) { $0 + $1.0 * $1.1 }
    let b11 = zip(v[1], av[1]).reduce(0) { $0 + $1.0 * $1.1 }
    let angle = 0.5 * atan2(2 * b01, b00 - b11)
    let (c, s) = (cos(angle), sin(angle))
    var result = [
        (0..<d).map { c * v[0][$0] + s * v[1][$0] },
        (0..<d).map { -s * v[0][$0] + c * v[1][$0] },
    ]
    for i in 0..<2 {
        let largest = result[i].max { abs($0) < abs($1) } ?? 0
        if largest < 0 { result[i] = result[i].map { -$0 } }
    }
    return result
}
