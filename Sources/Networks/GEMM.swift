internal import CKernels
import Common

/// A weight matrix (`rows` x `columns`, row-major) ready for `c = a x weights`, with the
/// convolution's epilogue (bias, residual add, ReLU) applied as each output tile is written.
///
/// The matrix is packed once into 16-column slices for the kernels in CKernels, which
/// run at the `SIMDLevel` given (AVX-512, AVX2+FMA or portable C). The packed layout is the
/// same at every level.
struct GEMMWeights: Sendable {
    let rows: Int
    let columns: Int
    /// The packed panels.
    let values: [Float]

    init(_ matrix: UnsafePointer<Float>, rows: Int, columns: Int) {
        self.rows = rows
        self.columns = columns
        let count = rn_packed_count(Int32(rows), Int32(columns))
        values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            rn_pack(matrix, Int32(rows), Int32(columns), Int32(columns), buffer.baseAddress)
            initialized = count
        }
    }

    init(_ matrix: [Float], rows: Int, columns: Int) {
        precondition(matrix.count == rows * columns, "weight matrix size")
        self = matrix.withUnsafeBufferPointer { GEMMWeights($0.baseAddress!, rows: rows, columns: columns) }
    }

    /// `c[m x columns] = a[m x rows] x weights (+ bias) (+ residual)`, through `activation`.
    func multiply(
        _ m: Int, _ a: UnsafePointer<Float>, lda: Int, into c: UnsafeMutablePointer<Float>, ldc: Int,
        bias: UnsafePointer<Float>? = nil, residual: UnsafePointer<Float>? = nil, ldr: Int = 0,
        activation: Activation = .identity,
        level: SIMDLevel = .current
    ) {
        values.withUnsafeBufferPointer { w in
            rn_gemm(
                level.rawValue, Int32(m), Int32(columns), Int32(rows), a, Int32(lda), w.baseAddress, c, Int32(ldc),
                bias, residual, Int32(ldr), activation.code)
        }
    }
}
