internal import CKernels
import Common

/// Winograd F(2x2, 3x3) for stride-1, padding-1 3x3 convolutions, NHWC.
///
/// Each 2x2 output tile comes from a 4x4 input tile: `Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A`.
/// The 16 products are 16 SGEMMs of (tiles x inputChannels) by (inputChannels x
/// outputChannels), 2.25x fewer multiplies than the direct convolution.
/// Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", CVPR 2016.
struct WinogradWeights: Sendable {
    /// 16 matrices `inputChannels x outputChannels`, one per transformed tap `G g Gᵀ`.
    let transformed: [GEMMWeights]

    /// Transforms GEMM-layout 3x3 weights (`9 * inputs` rows by `outputs` columns).
    init(packed: [Float], inputs: Int, outputs: Int) {
        var u = [Float](repeating: 0, count: 16 * inputs * outputs)
        for i in 0..<inputs {
            for o in 0..<outputs {
                let g = (0..<9).map { packed[($0 * inputs + i) * outputs + o] }
                // G g: 4x3, rows g0, (g0+g1+g2)/2, (g0-g1+g2)/2, g2 (over kernel rows).
                var gg = [Float](repeating: 0, count: 12)
                for c in 0..<3 {
                    let a = g[c], b = g[3 + c], d = g[6 + c]
                    gg[c] = a
                    gg[3 + c] = (a + b + d) / 2
                    gg[6 + c] = (a - b + d) / 2
                    gg[9 + c] = d
                }
                for r in 0..<4 {
                    let a = gg[3 * r], b = gg[3 * r + 1], d = gg[3 * r + 2]
                    let row = [a, (a + b + d) / 2, (a - b + d) / 2, d]
                    for c in 0..<4 { u[((4 * r + c) * inputs + i) * outputs + o] = row[c] }
                }
            }
        }
        transformed = u.withUnsafeBufferPointer { u in
            (0..<16).map { GEMMWeights(u.baseAddress! + $0 * inputs * outputs, rows: inputs, columns: outputs) }
        }
    }
}

extension ConvBN {
    /// Runs the convolution with Winograd F(2x2, 3x3) at a kernel level; precondition: 3x3, stride 1, padding 1.
    func winograd(
        _ input: Tensor, weights: WinogradWeights, x: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        residual: UnsafePointer<Float>?, relu: Bool, level: SIMDLevel = .current
    ) {
        let h = input.height, w = input.width, cin = inputChannels, cout = outputChannels
        let tilesW = (w + 1) / 2, perImage = (h + 1) / 2 * tilesW
        let total = input.batch * perImage
        // Tiles per chunk: the transformed tiles and their products stay within L2.
        let chunk = max(Self.winogradMinimumChunk, min(total, Self.winogradChunkFloats / (16 * (cin + cout))))
        let v = UnsafeMutablePointer<Float>.allocate(capacity: 16 * chunk * cin)
        let m = UnsafeMutablePointer<Float>.allocate(capacity: 16 * chunk * cout)
        let zeros = UnsafeMutablePointer<Float>.allocate(capacity: cin)
        zeros.initialize(repeating: 0, count: cin)
        defer {
            v.deallocate()
            m.deallocate()
            zeros.deallocate()
        }
        var rows = [UnsafePointer<Float>](repeating: UnsafePointer(zeros), count: 16)
        var targets = [UnsafeMutablePointer<Float>?](repeating: nil, count: 4)
        var shortcuts = [UnsafePointer<Float>?](repeating: nil, count: 4)
        var start = 0
        while start < total {
            let count = min(chunk, total - start)
            for t in 0..<count {
                let tile = start + t, n = tile / perImage, th = tile % perImage / tilesW, tw = tile % tilesW
                for i in 0..<4 {
                    for j in 0..<4 {
                        let ih = 2 * th - 1 + i, iw = 2 * tw - 1 + j
                        rows[4 * i + j] =
                            ih >= 0 && ih < h && iw >= 0 && iw < w
                            ? x + ((n * h + ih) * w + iw) * cin : UnsafePointer(zeros)
                    }
                }
                rows.withUnsafeBufferPointer { d in
                    d.withMemoryRebound(to: Optional<UnsafePointer<Float>>.self) {
                        rn_winograd_input(level.rawValue, $0.baseAddress, v + t * cin, chunk * cin, Int32(cin))
                    }
                }
            }
            for k in 0..<16 {
                weights.transformed[k].multiply(
                    count, v + k * chunk * cin, lda: cin, into: m + k * chunk * cout, ldc: cout,
                    level: level)
            }
            for t in 0..<count {
                let tile = start + t, n = tile / perImage, th = tile % perImage / tilesW, tw = tile % tilesW
                for i in 0..<4 { (targets[i], shortcuts[i]) = (nil, nil) }
                for r in 0..<2 where 2 * th + r < h {
                    for c in 0..<2 where 2 * tw + c < w {
                        let position = (n * h + 2 * th + r) * w + 2 * tw + c
                        targets[2 * r + c] = output + position * cout
                        shortcuts[2 * r + c] = residual.map { $0 + position * cout }
                    }
                }
                bias.withUnsafeBufferPointer { b in
                    rn_winograd_output(
                        level.rawValue, m + t * cout, chunk * cout, Int32(cout), b.baseAddress, targets,
                        residual == nil ? nil : shortcuts, relu ? 1 : 0)
                }
            }
            start += count
        }
    }

    /// Floats of transformed tiles and products per chunk (2 MiB), and the fewest tiles per chunk.
    static let winogradChunkFloats = 1 << 19
    static let winogradMinimumChunk = 64
}
