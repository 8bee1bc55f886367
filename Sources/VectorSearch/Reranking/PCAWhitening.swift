internal import CBLAS
public import Common

/// PCA whitening learned on a database, then L2 normalization (Jégou and Chum, "Negative
/// evidences and co-occurrences in image retrieval: the benefit of PCA and whitening", ECCV 2012).
///
/// `fit` centers the rows, takes the covariance (divided by `rows - 1`, as scikit-learn's
/// `PCA` does) and its eigendecomposition (LAPACK `dsyevd` in double precision); `apply`
/// projects centered rows on the `dimension` leading eigenvectors, divides each coordinate by
/// the square root of its eigenvalue and L2-normalizes the result. This equals
/// `normalize(PCA(n_components=dimension, whiten=True).fit(X).transform(Y))` up to the sign of
/// each component; here each component's largest-magnitude entry is positive.
public struct PCAWhitening: Sendable {
    /// The mean of the rows it was fitted on.
    public let mean: [Float]
    /// The leading eigenvalues of the covariance, largest first.
    public let eigenvalues: [Double]
    /// `dimension x columns`: row i is eigenvector i divided by the square root of eigenvalue i.
    public let projection: Matrix

    /// Throws unless a whitening to `dimension` can be fitted on `rows` rows of `columns` floats:
    /// at least 2 rows, and from 1 to min(columns, rows - 1) dimensions.
    public static func check(dimension: Int, rows: Int, columns: Int) throws(VectorSearchError) {
        guard rows >= 2 else { throw .invalidArgument("PCA whitening needs at least 2 rows, got \(rows)") }
        guard dimension >= 1, dimension <= min(columns, rows - 1) else {
            throw .invalidArgument("whitening dimension must be in 1...\(min(columns, rows - 1)), got \(dimension)")
        }
    }

    /// The output dimension.
    public var dimension: Int { projection.rows }

    /// Fits the whitening on the rows of `x`, keeping `dimension` components.
    public static func fit(_ x: Matrix, dimension: Int) throws(VectorSearchError) -> PCAWhitening {
        let n = x.rows, d = x.columns
        try check(dimension: dimension, rows: n, columns: d)
        try x.checkFinite()
        let (mean, centered) = x.centered()
        var covarianceF = [Float](repeating: 0, count: d * d)
        ThreadPools.useFAISS(threads: 1)
        openblas_set_num_threads(Int32(ThreadPools.cores))
        cblas_ssyrk(
            CblasRowMajor, CblasUpper, CblasTrans, Int32(d), Int32(n), 1 / Float(n - 1), centered, Int32(d), 0, &covarianceF,
            Int32(d))
        openblas_set_num_threads(1)
        // Row-major upper triangle = column-major lower triangle.
        var a = covarianceF.map(Double.init)
        var w = [Double](repeating: 0, count: d)
        let (values, vectors) = try Self.eigen(&a, &w, size: d)
        let keep = (0..<dimension).map { d - 1 - $0 }
        guard let smallest = keep.last.map({ values[$0] }), smallest > 1e-12 * max(values[d - 1], 1e-30) else {
            throw .invalidArgument(
                "the covariance has fewer than \(dimension) non-zero eigenvalues; lower the whitening dimension")
        }
        var rows = [Float](repeating: 0, count: dimension * d)
        for (r, e) in keep.enumerated() {
            let column = vectors[e * d..<(e + 1) * d]
            let largest = column.max { abs($0) < abs($1) } ?? 1
            let scale = (largest < 0 ? -1 : 1) / values[e].squareRoot()
            for j in 0..<d { rows[r * d + j] = Float(column[column.startIndex + j] * scale) }
        }
        return PCAWhitening(
            mean: mean.map(Float.init), eigenvalues: keep.map { values[$0] },
            projection: Matrix(rows: dimension, columns: d, values: rows))
    }

    /// The whitened, L2-normalized rows of `x`.
    public func apply(_ x: Matrix) -> Matrix {
        precondition(x.columns == mean.count, "whitening fitted on \(mean.count) columns, applied to \(x.columns)")
        var centered = x.values
        for i in 0..<x.rows { for j in 0..<x.columns { centered[i * x.columns + j] -= mean[j] } }
        var out = [Float](repeating: 0, count: x.rows * dimension)
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(x.rows), Int32(dimension), Int32(x.columns), 1, centered,
            Int32(x.columns), projection.values, Int32(x.columns), 0, &out, Int32(dimension))
        return Matrix(rows: x.rows, columns: dimension, values: out).l2Normalized()
    }

    /// Eigenvalues (ascending) and column-major eigenvectors of the symmetric matrix whose
    /// column-major lower triangle is in `a`.
    private static func eigen(_ a: inout [Double], _ w: inout [Double], size d: Int) throws(VectorSearchError) -> (
        [Double], [Double]
    ) {
        var n = Int32(d), lda = Int32(d), info: Int32 = 0
        var lwork: Int32 = -1, liwork: Int32 = -1
        var workSize = 0.0
        var iworkSize: Int32 = 0
        dsyevd_("V", "L", &n, &a, &lda, &w, &workSize, &lwork, &iworkSize, &liwork, &info)
        guard info == 0 else { throw .invalidArgument("LAPACK dsyevd workspace query failed (info \(info))") }
        lwork = Int32(workSize)
        liwork = iworkSize
        var work = [Double](repeating: 0, count: Int(lwork))
        var iwork = [Int32](repeating: 0, count: Int(liwork))
        dsyevd_("V", "L", &n, &a, &lda, &w, &work, &lwork, &iwork, &liwork, &info)
        guard info == 0 else { throw .invalidArgument("LAPACK dsyevd did not converge (info \(info))") }
        return (w, a)
    }
}
