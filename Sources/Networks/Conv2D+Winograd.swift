internal import CResNetKernels

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
    /// Runs the convolution with Winograd F(2x2, 3x3); precondition: 3x3, stride 1, padding 1.
    func winograd(
        _ input: Tensor, weights: WinogradWeights, x: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        residual: UnsafePointer<Float>?, relu: Bool
    ) {
        let h = input.height, w = input.width, cin = inputChannels, cout = outputChannels
        let tilesW = (w + 1) / 2, perImage = (h + 1) / 2 * tilesW
        let total = input.batch * perImage
        // Tiles per chunk: the transformed tiles and their products stay within L2.
        let chunk = max(Self.winogradMinimumChunk, min(total, Self.winogradChunkFloats / (16 * (cin + cout))))
        let v = UnsafeMutablePointer<Float>.allocate(capacity: 16 * chunk * cin)
        let m = UnsafeMutablePointer<Float>.allocate(capacity: 16 * chunk * cout)
        let y = UnsafeMutablePointer<Float>.allocate(capacity: 4 * cout)
        let zeros = UnsafeMutablePointer<Float>.allocate(capacity: cin)
        zeros.initialize(repeating: 0, count: cin)
        defer {
            v.deallocate()
            m.deallocate()
            y.deallocate()
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
                        rows[4 * i + j] = ih >= 0 && ih < h && iw >= 0 && iw < w
                            ? x + ((n * h + ih) * w + iw) * cin : UnsafePointer(zeros)
                    }
                }
                if GEMMWeights.packs {
                    rows.withUnsafeBufferPointer { d in
                        d.withMemoryRebound(to: Optional<UnsafePointer<Float>>.self) {
                            rn_winograd_input($0.baseAddress, v + t * cin, chunk * cin, Int32(cin))
                        }
                    }
                } else {
                    Self.transformInput(rows, into: v + t * cin, stride: chunk * cin, channels: cin)
                }
            }
            for k in 0..<16 {
                weights.transformed[k].multiply(count, v + k * chunk * cin, lda: cin, into: m + k * chunk * cout, ldc: cout)
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
                if GEMMWeights.packs {
                    bias.withUnsafeBufferPointer { b in
                        rn_winograd_output(m + t * cout, chunk * cout, Int32(cout), b.baseAddress, targets,
                                           residual == nil ? nil : shortcuts, relu ? 1 : 0)
                    }
                } else {
                    Self.transformOutput(m + t * cout, stride: chunk * cout, into: y, channels: cout)
                    for (i, target) in targets.enumerated() {
                        if let target { finish(y + i * cout, into: target, residual: shortcuts[i], relu: relu) }
                    }
                }
            }
            start += count
        }
    }

    /// Floats of transformed tiles and products per chunk (2 MiB), and the fewest tiles per chunk.
    static let winogradChunkFloats = 1 << 19
    static let winogradMinimumChunk = 64

    /// `Bᵀ d B` of one 4x4 tile given as 16 channel rows, written to 16 planes `stride` apart.
    @inline(__always)
    static func transformInput(_ rows: [UnsafePointer<Float>], into v: UnsafeMutablePointer<Float>, stride: Int, channels: Int) {
        rows.withUnsafeBufferPointer { d in
            let d0 = d[0], d1 = d[1], d2 = d[2], d3 = d[3], d4 = d[4], d5 = d[5], d6 = d[6], d7 = d[7]
            let d8 = d[8], d9 = d[9], d10 = d[10], d11 = d[11], d12 = d[12], d13 = d[13], d14 = d[14], d15 = d[15]
            for c in 0..<channels {
                // Bᵀ d: tile rows (0 - 2, 1 + 2, 2 - 1, 1 - 3), per column.
                let a0 = d0[c] - d8[c], a1 = d1[c] - d9[c], a2 = d2[c] - d10[c], a3 = d3[c] - d11[c]
                let b0 = d4[c] + d8[c], b1 = d5[c] + d9[c], b2 = d6[c] + d10[c], b3 = d7[c] + d11[c]
                let e0 = d8[c] - d4[c], e1 = d9[c] - d5[c], e2 = d10[c] - d6[c], e3 = d11[c] - d7[c]
                let f0 = d4[c] - d12[c], f1 = d5[c] - d13[c], f2 = d6[c] - d14[c], f3 = d7[c] - d15[c]
                // · B: the same combination of columns, per row.
                v[c] = a0 - a2; v[stride + c] = a1 + a2; v[2 * stride + c] = a2 - a1; v[3 * stride + c] = a1 - a3
                v[4 * stride + c] = b0 - b2; v[5 * stride + c] = b1 + b2; v[6 * stride + c] = b2 - b1; v[7 * stride + c] = b1 - b3
                v[8 * stride + c] = e0 - e2; v[9 * stride + c] = e1 + e2; v[10 * stride + c] = e2 - e1; v[11 * stride + c] = e1 - e3
                v[12 * stride + c] = f0 - f2; v[13 * stride + c] = f1 + f2; v[14 * stride + c] = f2 - f1; v[15 * stride + c] = f1 - f3
            }
        }
    }

    /// `Aᵀ m A` of one tile's 16 product rows (`stride` apart): 4 output rows (2x2, row-major) into `y`.
    @inline(__always)
    static func transformOutput(_ m: UnsafeMutablePointer<Float>, stride: Int, into y: UnsafeMutablePointer<Float>, channels: Int) {
        for c in 0..<channels {
            var q = (Float(0), Float(0), Float(0), Float(0), Float(0), Float(0), Float(0), Float(0))
            // Aᵀ m: rows (0 + 1 + 2, 1 - 2 - 3), per column.
            let m0 = m[c], m1 = m[stride + c], m2 = m[2 * stride + c], m3 = m[3 * stride + c]
            let m4 = m[4 * stride + c], m5 = m[5 * stride + c], m6 = m[6 * stride + c], m7 = m[7 * stride + c]
            let m8 = m[8 * stride + c], m9 = m[9 * stride + c], m10 = m[10 * stride + c], m11 = m[11 * stride + c]
            let m12 = m[12 * stride + c], m13 = m[13 * stride + c], m14 = m[14 * stride + c], m15 = m[15 * stride + c]
            q.0 = m0 + m4 + m8; q.1 = m1 + m5 + m9; q.2 = m2 + m6 + m10; q.3 = m3 + m7 + m11
            q.4 = m4 - m8 - m12; q.5 = m5 - m9 - m13; q.6 = m6 - m10 - m14; q.7 = m7 - m11 - m15
            // · A: the same combination of columns, per row.
            y[c] = q.0 + q.1 + q.2
            y[channels + c] = q.1 - q.2 - q.3
            y[2 * channels + c] = q.4 + q.5 + q.6
            y[3 * channels + c] = q.5 - q.6 - q.7
        }
    }
}
