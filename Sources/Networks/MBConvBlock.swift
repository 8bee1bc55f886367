import Common

/// A mobile inverted bottleneck block without squeeze-excitation, NHWC:
/// `project(relu6(depthwise(relu6(expand(x))))) (+ x)`.
///
/// On large maps the three layers run fused, one image and one band of output rows at a time,
/// so the expanded activations (six times the block's input) never leave the cache: the
/// expansion's rows go into a ring buffer as the band needs them (each computed once), the
/// depthwise convolution reads them through row pointers, and the projection multiplies the
/// band's depthwise rows and adds the shortcut. Small maps run layer by layer over the whole
/// batch, where one GEMM per layer reuses the weights across every image.
public struct MBConvBlock: Sendable {
    /// The 1x1 expansion (absent when the expansion ratio is 1).
    public let expand: ConvBN?
    public let depthwise: DepthwiseConvBN
    /// The 1x1 projection (no activation).
    public let project: ConvBN
    /// Whether the input is added back (stride 1 and the same channels in and out).
    public let residual: Bool

    /// Maps whose expanded activations per image reach this many floats run fused.
    static let fusedMinimumFloats = 1 << 16
    /// Floats of depthwise output per band (128 KiB): the band's rows stay in L2.
    static let bandFloats = 1 << 15

    public func callAsFunction(_ x: Tensor, level: SIMDLevel = .current) -> Tensor {
        if x.positions * depthwise.channels >= Self.fusedMinimumFloats { return fused(x, level: level) }
        let expanded = expand.map { $0(x, activation: .relu6, level: level) } ?? x
        return project(
            depthwise(expanded, activation: .relu6, level: level), residual: residual ? x : nil, activation: .identity,
            level: level)
    }

    /// The block run one image and one band of output rows at a time (see the type's summary).
    func fused(_ x: Tensor, level: SIMDLevel) -> Tensor {
        let h = x.height, w = x.width, cin = x.channels, hidden = depthwise.channels, cout = project.outputChannels
        let k = depthwise.kernel, s = depthwise.stride
        let (outH, padTop) = depthwise.layout(h)
        let outW = depthwise.layout(w).output
        precondition(outH > 0 && outW > 0, "input \(h)x\(w) is too small for this block")
        let band = max(1, Self.bandFloats / (outW * hidden))
        // Expanded rows kept: a band's input rows; older rows are overwritten as new ones are computed.
        let capacity = min(h, (band - 1) * s + k)
        let rowFloats = w * hidden
        return Tensor(batch: x.batch, height: outH, width: outW, channels: cout) { output in
            // Every row is written before it is read: no need to zero them.
            withAlignedFloats(expand == nil ? 0 : capacity * rowFloats) { ring in
                withAlignedFloats(band * outW * hidden) { middle in
                    x.values.withUnsafeBufferPointer { xs in
                        guard let xs = xs.baseAddress else { return }
                        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>?.self, capacity: k) { rows in
                            guard let rowPointers = rows.baseAddress else { return }
                            for n in 0..<x.batch {
                                let image = xs + n * h * w * cin
                                // Input row ih of the depthwise convolution: expanded (in the ring) or the image's own.
                                func source(_ ih: Int) -> UnsafePointer<Float> {
                                    expand == nil ? image + ih * rowFloats : UnsafePointer(ring + ih % capacity * rowFloats)
                                }
                                var expandedRows = 0
                                var o0 = 0
                                while o0 < outH {
                                    let o1 = min(outH, o0 + band)
                                    if let expand {
                                        let needed = min(h, (o1 - 1) * s - padTop + k)
                                        while expandedRows < needed {
                                            let slot = expandedRows % capacity
                                            let count = min(needed - expandedRows, capacity - slot)
                                            expand.pointwise(
                                                rows: count * w, x: image + expandedRows * w * cin,
                                                output: ring + slot * rowFloats,
                                                residual: nil, activation: .relu6, level: level)
                                            expandedRows += count
                                        }
                                    }
                                    for oh in o0..<o1 {
                                        for kh in 0..<k {
                                            let ih = oh * s - padTop + kh
                                            rows[kh] = ih >= 0 && ih < h ? source(ih) : nil
                                        }
                                        depthwise.row(
                                            rowPointers, width: w, into: middle + (oh - o0) * outW * hidden, activation: .relu6,
                                            level: level)
                                    }
                                    project.pointwise(
                                        rows: (o1 - o0) * outW, x: middle, output: output + (n * outH + o0) * outW * cout,
                                        residual: residual ? image + o0 * outW * cin : nil, activation: .identity, level: level)
                                    o0 = o1
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Calls `body` with uninitialized room for `count` floats that starts on a cache line.
func withAlignedFloats<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) -> R) -> R {
    withUnsafeTemporaryAllocation(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64) { raw in
        body(raw.baseAddress!.bindMemory(to: Float.self, capacity: max(count, 1)))
    }
}
