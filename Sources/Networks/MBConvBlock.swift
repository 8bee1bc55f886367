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
        let bands = Bands(block: self, input: x)
        let outH = bands.outputHeight, outW = bands.outputWidth
        precondition(outH > 0 && outW > 0, "input \(x.height)x\(x.width) is too small for this block")
        let imageFloats = x.positions * x.channels, outputFloats = outH * outW * project.outputChannels
        return Tensor(batch: x.batch, height: outH, width: outW, channels: project.outputChannels) { output in
            // Every row is written before it is read: no need to zero them.
            withAlignedFloats(expand == nil ? 0 : bands.capacity * bands.rowFloats) { ring in
                withAlignedFloats(bands.band * outW * depthwise.channels) { middle in
                    x.values.withUnsafeBufferPointer { xs in
                        guard let xs = xs.baseAddress else { return }
                        for n in 0..<x.batch {
                            fusedImage(
                                xs + n * imageFloats, bands: bands, ring: ring, middle: middle,
                                into: output + n * outputFloats, level: level)
                        }
                    }
                }
            }
        }
    }

    /// How `fused` walks one image: `band` output rows at a time, keeping `capacity` expanded rows
    /// of `rowFloats` floats in the ring (a band's input rows; older rows are overwritten).
    struct Bands {
        let height: Int
        let width: Int
        let outputHeight: Int
        let outputWidth: Int
        let padTop: Int
        let band: Int
        let capacity: Int
        let rowFloats: Int

        init(block: MBConvBlock, input: Tensor) {
            let depthwise = block.depthwise
            height = input.height
            width = input.width
            (outputHeight, padTop) = depthwise.layout(input.height)
            outputWidth = depthwise.layout(input.width).output
            band = max(1, MBConvBlock.bandFloats / max(1, outputWidth * depthwise.channels))
            capacity = min(input.height, (band - 1) * depthwise.stride + depthwise.kernel)
            rowFloats = input.width * depthwise.channels
        }
    }

    /// One image (`image`: height x width x input channels) through the fused block into `output`.
    private func fusedImage(
        _ image: UnsafePointer<Float>, bands: Bands, ring: UnsafeMutablePointer<Float>, middle: UnsafeMutablePointer<Float>,
        into output: UnsafeMutablePointer<Float>, level: SIMDLevel
    ) {
        let h = bands.height, w = bands.width, outW = bands.outputWidth, k = depthwise.kernel, s = depthwise.stride
        let cin = expand?.inputChannels ?? depthwise.channels, hidden = depthwise.channels, cout = project.outputChannels
        // Input row ih of the depthwise convolution: expanded (in the ring) or the image's own.
        func source(_ ih: Int) -> UnsafePointer<Float> {
            expand == nil ? image + ih * bands.rowFloats : UnsafePointer(ring + ih % bands.capacity * bands.rowFloats)
        }
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>?.self, capacity: k) { rows in
            guard let rowPointers = rows.baseAddress else { return }
            var expandedRows = 0
            var o0 = 0
            while o0 < bands.outputHeight {
                let o1 = min(bands.outputHeight, o0 + bands.band)
                if let expand {
                    let needed = min(h, (o1 - 1) * s - bands.padTop + k)
                    while expandedRows < needed {
                        let slot = expandedRows % bands.capacity
                        let count = min(needed - expandedRows, bands.capacity - slot)
                        expand.pointwise(
                            rows: count * w, x: image + expandedRows * w * cin, output: ring + slot * bands.rowFloats,
                            residual: nil, activation: .relu6, level: level)
                        expandedRows += count
                    }
                }
                for oh in o0..<o1 {
                    for kh in 0..<k {
                        let ih = oh * s - bands.padTop + kh
                        rows[kh] = ih >= 0 && ih < h ? source(ih) : nil
                    }
                    depthwise.row(
                        rowPointers, width: w, into: middle + (oh - o0) * outW * hidden, activation: .relu6, level: level)
                }
                project.pointwise(
                    rows: (o1 - o0) * outW, x: middle, output: output + o0 * outW * cout,
                    residual: residual ? image + o0 * outW * cin : nil, activation: .identity, level: level)
                o0 = o1
            }
        }
    }
}
