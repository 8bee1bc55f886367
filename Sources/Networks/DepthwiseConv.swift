internal import CKernels
import Common

/// A depthwise convolution (one `kernel` x `kernel` filter per channel) with its batch norm
/// folded in, then an activation; NHWC in and out.
///
/// Weights are stored tap-major with channels innermost (`kernel * kernel` x `channels`), so
/// the kernel in CKernels (`depthwise.c`) runs over blocks of 16 contiguous channels, a tile of
/// outputs at a time, at a `SIMDLevel` (`PIC2VEC_SIMD` forces one).
public struct DepthwiseConvBN: Sendable {
    public let channels: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Padding
    /// `kernel * kernel * channels`, scaled by the batch norm's `gamma / sqrt(var + eps)`.
    let weights: [Float]
    let bias: [Float]

    /// Folds batch norm into a PyTorch-layout depthwise weight (`channels x 1 x kernel x kernel`).
    public init(
        torchWeight: [Float], channels: Int, kernel: Int, stride: Int, padding: Padding,
        gamma: [Float], beta: [Float], mean: [Float], variance: [Float], epsilon: Float
    ) {
        precondition(torchWeight.count == channels * kernel * kernel, "depthwise weight size")
        precondition([gamma, beta, mean, variance].allSatisfy { $0.count == channels }, "batch norm size")
        let scale = (0..<channels).map { gamma[$0] / (variance[$0] + epsilon).squareRoot() }
        let taps = kernel * kernel
        var packed = [Float](repeating: 0, count: taps * channels)
        for c in 0..<channels {
            for t in 0..<taps { packed[t * channels + c] = torchWeight[c * taps + t] * scale[c] }
        }
        self.channels = channels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.weights = packed
        self.bias = (0..<channels).map { beta[$0] - mean[$0] * scale[$0] }
    }

    /// The output size and padding before the first input row or column for an input size.
    func layout(_ input: Int) -> (output: Int, before: Int) {
        padding.layout(input: input, kernel: kernel, stride: stride)
    }

    /// Convolves `input` and applies `activation`, with the kernel at `level`.
    public func callAsFunction(_ input: Tensor, activation: Activation, level: SIMDLevel = .current) -> Tensor {
        precondition(input.channels == channels, "depthwise conv expects \(channels) channels, got \(input.channels)")
        let (outH, padTop) = layout(input.height)
        let outW = layout(input.width).output
        precondition(outH > 0 && outW > 0, "input \(input.height)x\(input.width) is too small for this convolution")
        let rowFloats = input.width * channels
        return Tensor(batch: input.batch, height: outH, width: outW, channels: channels) { output in
            input.values.withUnsafeBufferPointer { x in
                guard let x = x.baseAddress else { return }
                withUnsafeTemporaryAllocation(of: UnsafePointer<Float>?.self, capacity: kernel) { rows in
                    for n in 0..<input.batch {
                        for oh in 0..<outH {
                            for kh in 0..<kernel {
                                let ih = oh * stride - padTop + kh
                                rows[kh] = ih >= 0 && ih < input.height ? x + (n * input.height + ih) * rowFloats : nil
                            }
                            row(
                                rows.baseAddress!, width: input.width, into: output + (n * outH + oh) * outW * channels,
                                activation: activation, level: level)
                        }
                    }
                }
            }
        }
    }

    /// One output row from `kernel` input rows (`width` x `channels` each; nil for padding rows).
    func row(
        _ rows: UnsafePointer<UnsafePointer<Float>?>, width: Int, into output: UnsafeMutablePointer<Float>,
        activation: Activation, level: SIMDLevel
    ) {
        weights.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in
                rn_depthwise_row(
                    level.rawValue, rows, Int32(width), Int32(channels), w.baseAddress, b.baseAddress, Int32(kernel),
                    Int32(stride), Int32(layout(width).before), Int32(layout(width).output), activation.code, output)
            }
        }
    }
}
