internal import CKernels
import Common

/// A weight matrix (`rows` x `columns`, row-major) ready for `c = a x weights`, with the
/// convolution's epilogue (bias, residual add, activation) applied as each output tile is written.
///
/// The matrix is packed once into 16-column slices for the kernels in CKernels: float32 for
/// `fp32` (AVX-512, AVX2+FMA or portable C, at the `SIMDLevel` given), bf16 pairs for `bf16`
/// (AVX512-BF16; the portable reference elsewhere). The packed layout is the same at every level.
struct GEMMWeights: Sendable {
    let rows: Int
    let columns: Int
    /// The packed panels, from a cache line's start: float32 or bf16 pairs.
    private let packed: Packed

    private enum Packed {
        case fp32(ScratchBuffer<Float>)
        case bf16(ScratchBuffer<UInt16>)
    }

    init(_ matrix: UnsafePointer<Float>, rows: Int, columns: Int, precision: Precision = .fp32) {
        self.rows = rows
        self.columns = columns
        switch precision {
        case .fp32:
            let values = ScratchBuffer<Float>(repeating: 0, count: rn_packed_count(Int32(rows), Int32(columns)))
            rn_pack(matrix, Int32(rows), Int32(columns), Int32(columns), values.base)
            packed = .fp32(values)
        case .bf16:
            let halves = ScratchBuffer<UInt16>(repeating: 0, count: rn_packed_bf16_count(Int32(rows), Int32(columns)))
            rn_pack_bf16(matrix, Int32(rows), Int32(columns), Int32(columns), halves.base)
            packed = .bf16(halves)
        }
    }

    init(_ matrix: [Float], rows: Int, columns: Int, precision: Precision = .fp32) {
        precondition(matrix.count == rows * columns, "weight matrix size")
        self = matrix.withUnsafeBufferPointer {
            GEMMWeights($0.baseAddress!, rows: rows, columns: columns, precision: precision)
        }
    }

    /// `c[m x columns] = a[m x rows] x weights (+ bias) (+ residual)`, through `activation`.
    func multiply(
        _ m: Int, _ a: UnsafePointer<Float>, lda: Int, into c: UnsafeMutablePointer<Float>, ldc: Int,
        bias: UnsafePointer<Float>? = nil, residual: UnsafePointer<Float>? = nil, ldr: Int = 0,
        activation: Activation = .identity, level: SIMDLevel = .current
    ) {
        guard m > 0 else { return }
        let split = RowSplit.threads
        if split > 1, m >= split * RowSplit.minimumRows, m * rows * columns >= RowSplit.minimumProducts {
            // Whole kernel tiles per thread, so that no extra edge tiles are made.
            let tile = RowSplit.rowTile
            let tiles = (m + tile - 1) / tile
            forEachChunk(tiles, chunks: split, threads: split) { _, part in
                let first = part.lowerBound * tile, end = min(m, part.upperBound * tile)
                guard end > first else { return }
                multiplyRows(
                    end - first, a + first * lda, lda: lda, into: c + first * ldc, ldc: ldc, bias: bias,
                    residual: residual.map { $0 + first * ldr }, ldr: ldr, activation: activation, level: level)
            }
            return
        }
        multiplyRows(
            m, a, lda: lda, into: c, ldc: ldc, bias: bias, residual: residual, ldr: ldr, activation: activation, level: level)
    }

    /// `multiply` of `m` rows on the calling thread.
    private func multiplyRows(
        _ m: Int, _ a: UnsafePointer<Float>, lda: Int, into c: UnsafeMutablePointer<Float>, ldc: Int,
        bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, ldr: Int, activation: Activation, level: SIMDLevel
    ) {
        switch packed {
        case .fp32(let values):
            rn_gemm(
                level.rawValue, Int32(m), Int32(columns), Int32(rows), a, Int32(lda), values.base, c, Int32(ldc), bias,
                residual, Int32(ldr), activation.code)
        case .bf16(let halves):
            rn_gemm_bf16(
                level.rawValue, Int32(m), Int32(columns), Int32(rows), a, Int32(lda), halves.base, c, Int32(ldc), bias,
                residual, Int32(ldr), activation.code)
        }
    }
}

/// How many threads each matrix product of a forward pass may split its output rows across: set by
/// `Embedder` around a pass with fewer images than threads (one uploaded image), so that a single
/// image uses every core. Products too small to repay a hand-off run on the calling thread; rows are
/// split in whole kernel tiles, so each output row is computed exactly as without the split.
enum RowSplit {
    /// Rows of the widest kernel tile (AVX-512: 12; AVX2's 6 divides it).
    static let rowTile = 12
    /// Fewest output rows per thread worth a split.
    static let minimumRows = 48
    /// Fewest multiply-adds (rows x inner x columns) worth a split: about 20 µs of one core.
    static let minimumProducts = 1 << 20

    /// The threads of the current thread's forward pass (1 outside `with`; a C thread-local).
    static var threads: Int { Int(rn_row_split_threads()) }

    /// Runs `body` with products split across `threads` threads.
    static func with<T>(_ threads: Int, _ body: () throws -> T) rethrows -> T {
        let previous = rn_row_split_threads()
        rn_set_row_split_threads(Int32(threads))
        defer { rn_set_row_split_threads(previous) }
        return try body()
    }
}
