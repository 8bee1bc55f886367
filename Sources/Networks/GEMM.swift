internal import CBLAS
internal import CResNetKernels

/// A weight matrix (`rows` x `columns`, row-major) ready for `c = a x weights`, with the
/// convolution's epilogue (bias, residual add, ReLU) applied as each output row is written.
///
/// On CPUs with AVX-512 the matrix is packed once into 64-column panels for the kernel in
/// CResNetKernels (about 2x OpenBLAS's AVX2 sgemm on this machine); elsewhere it stays as
/// it is and the product is OpenBLAS sgemm followed by the epilogue.
struct GEMMWeights: Sendable {
    static let packs = rn_gemm_available() != 0

    let rows: Int
    let columns: Int
    /// Packed panels when `packs`, else the row-major matrix.
    let values: [Float]

    init(_ matrix: UnsafePointer<Float>, rows: Int, columns: Int) {
        self.rows = rows
        self.columns = columns
        if Self.packs {
            let count = rn_packed_count(Int32(rows), Int32(columns))
            values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                rn_pack(matrix, Int32(rows), Int32(columns), Int32(columns), buffer.baseAddress)
                initialized = count
            }
        } else {
            values = Array(UnsafeBufferPointer(start: matrix, count: rows * columns))
        }
    }

    init(_ matrix: [Float], rows: Int, columns: Int) {
        precondition(matrix.count == rows * columns, "weight matrix size")
        self = matrix.withUnsafeBufferPointer { GEMMWeights($0.baseAddress!, rows: rows, columns: columns) }
    }

    /// `c[m x columns] = a[m x rows] x weights (+ bias) (+ residual)`, through ReLU if asked.
    func multiply(
        _ m: Int, _ a: UnsafePointer<Float>, lda: Int, into c: UnsafeMutablePointer<Float>, ldc: Int,
        bias: UnsafePointer<Float>? = nil, residual: UnsafePointer<Float>? = nil, ldr: Int = 0, relu: Bool = false
    ) {
        values.withUnsafeBufferPointer { w in
            if Self.packs {
                rn_gemm(Int32(m), Int32(columns), Int32(rows), a, Int32(lda), w.baseAddress, c, Int32(ldc),
                        bias, residual, Int32(ldr), relu ? 1 : 0)
                return
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(columns), Int32(rows),
                        1, a, Int32(lda), w.baseAddress, Int32(columns), 0, c, Int32(ldc))
            guard bias != nil || residual != nil || relu else { return }
            for r in 0..<m {
                let row = c + r * ldc
                for o in 0..<columns {
                    var v = row[o]
                    if let bias { v += bias[o] }
                    if let residual { v += residual[r * ldr + o] }
                    row[o] = relu ? max(v, 0) : v
                }
            }
        }
    }
}
