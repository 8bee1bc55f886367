internal import CKernels
import Common
import Foundation

/// Winograd F(4x4, 3x3) for stride-1, padding-1 3x3 convolutions, NHWC.
///
/// Each 4x4 output tile comes from a 6x6 input tile: `Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A`, with the
/// interpolation points 0, ±1, ±2 and infinity. The 36 products are 36 SGEMMs of (tiles x
/// inputChannels) by (inputChannels x outputChannels): 4x fewer multiplies than the direct
/// convolution (F(2x2, 3x3): 2.25x). Lavin and Gray, "Fast Algorithms for Convolutional Neural
/// Networks", CVPR 2016.
struct WinogradWeights: Sendable {
    /// 36 matrices `inputChannels x outputChannels`, one per transformed tap `G g Gᵀ`.
    let transformed: [GEMMWeights]

    /// G applied to three values (a kernel row or column), in Double: six values.
    private static func interpolate(
        _ a: SIMD8<Double>, _ b: SIMD8<Double>, _ d: SIMD8<Double>
    ) -> (SIMD8<Double>, SIMD8<Double>, SIMD8<Double>, SIMD8<Double>, SIMD8<Double>, SIMD8<Double>) {
        (a / 4, -(a + b + d) / 6, -(a - b + d) / 6, a / 24 + b / 12 + d / 6, a / 24 - b / 12 + d / 6, d)
    }

    /// Transforms GEMM-layout 3x3 weights (`9 * inputs` rows by `outputs` columns), packed for `precision`.
    init(packed: [Float], inputs: Int, outputs: Int, precision: Precision = .fp32) {
        let plane = inputs * outputs
        let u = [Float](unsafeUninitializedCapacity: 36 * plane) { u, initialized in
            packed.withUnsafeBufferPointer { g in
                for i in 0..<inputs {
                    for o in 0..<outputs {
                        let at = i * outputs + o
                        // G g: lane c of each vector is kernel column c.
                        func row(_ r: Int) -> SIMD8<Double> {
                            SIMD8(
                                Double(g[3 * r * plane + at]), Double(g[(3 * r + 1) * plane + at]),
                                Double(g[(3 * r + 2) * plane + at]), 0, 0, 0, 0, 0)
                        }
                        let gg = Self.interpolate(row(0), row(1), row(2))
                        // (G g) Gᵀ: lane r of each vector is row r of G g.
                        func column(_ c: Int) -> SIMD8<Double> {
                            SIMD8(gg.0[c], gg.1[c], gg.2[c], gg.3[c], gg.4[c], gg.5[c], 0, 0)
                        }
                        let y = Self.interpolate(column(0), column(1), column(2))
                        for r in 0..<6 {
                            let out = u.baseAddress! + 6 * r * plane + at
                            out[0] = Float(y.0[r])
                            out[plane] = Float(y.1[r])
                            out[2 * plane] = Float(y.2[r])
                            out[3 * plane] = Float(y.3[r])
                            out[4 * plane] = Float(y.4[r])
                            out[5 * plane] = Float(y.5[r])
                        }
                    }
                }
            }
            initialized = 36 * plane
        }
        transformed = u.withUnsafeBufferPointer { u in
            (0..<36).map { GEMMWeights(u.baseAddress! + $0 * plane, rows: inputs, columns: outputs, precision: precision) }
        }
    }
}

extension ConvBN {
    /// Runs the convolution with Winograd F(4x4, 3x3) at a kernel level; precondition: 3x3, stride 1, padding 1.
    func winograd(
        _ input: Tensor, weights: WinogradWeights, x: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        residual: UnsafePointer<Float>?, activation: Activation, level: SIMDLevel = .current
    ) {
        let tiles = WinogradTiles(input)
        // Tiles per chunk: the transformed tiles and their products stay within L2 (but a chunk is
        // never smaller than winogradMinimumChunk tiles, nor larger than the batch's).
        let chunk = min(
            tiles.total, max(Self.winogradMinimumChunk, Self.winogradChunkFloats / (36 * (inputChannels + outputChannels))))
        withAlignedFloats(36 * chunk * inputChannels) { v in
            withAlignedFloats(36 * chunk * outputChannels) { m in
                winogradChunks(
                    input, tiles: tiles, weights: weights, x: x, output: output, residual: residual, activation: activation,
                    level: level, chunk: chunk, v: v, m: m)
            }
        }
    }

    /// `winograd` with its buffers: transformed tiles `v` and products `m` for `chunk` tiles
    /// (every plane row written before it is read).
    private func winogradChunks(
        _ input: Tensor, tiles: WinogradTiles, weights: WinogradWeights, x: UnsafePointer<Float>,
        output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?, activation: Activation, level: SIMDLevel,
        chunk: Int, v: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>
    ) {
        let h = input.height, w = input.width, cin = inputChannels, cout = outputChannels
        let (tilesW, perImage, total) = (tiles.perRow, tiles.perImage, tiles.total)
        let zeros = ScratchBuffer<Float>(repeating: 0, count: cin)
        var rows = [UnsafePointer<Float>?](repeating: UnsafePointer(zeros.base), count: 36)
        var targets = [UnsafeMutablePointer<Float>?](repeating: nil, count: 16)
        var shortcuts = [UnsafePointer<Float>?](repeating: nil, count: 16)
        var start = 0
        while start < total {
            let count = min(chunk, total - start)
            for t in 0..<count {
                let tile = start + t, n = tile / perImage, th = tile % perImage / tilesW, tw = tile % tilesW
                for i in 0..<6 {
                    for j in 0..<6 {
                        let ih = 4 * th - 1 + i, iw = 4 * tw - 1 + j
                        rows[6 * i + j] =
                            ih >= 0 && ih < h && iw >= 0 && iw < w
                            ? x + ((n * h + ih) * w + iw) * cin : UnsafePointer(zeros.base)
                    }
                }
                rn_winograd_input(level.rawValue, rows, v + t * cin, chunk * cin, Int32(cin))
            }
            // The 36 products are independent: a pass allowed more threads (`RowSplit`) shares them out.
            let split = RowSplit.threads
            forEachChunk(36, chunks: split, threads: split) { _, products in
                RowSplit.with(1) {
                    for k in products {
                        weights.transformed[k].multiply(
                            count, v + k * chunk * cin, lda: cin, into: m + k * chunk * cout, ldc: cout, level: level)
                    }
                }
            }
            for t in 0..<count {
                let tile = start + t, n = tile / perImage, th = tile % perImage / tilesW, tw = tile % tilesW
                for i in 0..<16 { (targets[i], shortcuts[i]) = (nil, nil) }
                for r in 0..<4 where 4 * th + r < h {
                    for c in 0..<4 where 4 * tw + c < w {
                        let position = (n * h + 4 * th + r) * w + 4 * tw + c
                        targets[4 * r + c] = output + position * cout
                        shortcuts[4 * r + c] = residual.map { $0 + position * cout }
                    }
                }
                bias.withUnsafeBufferPointer { b in
                    rn_winograd_output(
                        level.rawValue, m + t * cout, chunk * cout, Int32(cout), b.baseAddress, targets,
                        residual == nil ? nil : shortcuts, activation.code)
                }
            }
            start += count
        }
    }

    /// How a batch divides into 4x4 output tiles (the last row and column of tiles may overhang the map).
    struct WinogradTiles {
        let perRow: Int
        let perImage: Int
        let total: Int

        init(_ input: Tensor) {
            perRow = (input.width + 3) / 4
            perImage = (input.height + 3) / 4 * perRow
            total = input.batch * perImage
        }
    }

    /// Floats of transformed tiles and products per chunk (2 MiB), and the fewest tiles per chunk.
    static let winogradChunkFloats = 1 << 19
    static let winogradMinimumChunk = 32
}
