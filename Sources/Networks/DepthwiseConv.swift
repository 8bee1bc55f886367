internal import CKernels

/// A depthwise convolution (one `kernel` x `kernel` filter per channel) with its batch norm
/// folded in, then an activation; NHWC in and out.
///
/// Weights are stored tap-major with channels innermost (`kernel * kernel` x `channels`), so
/// the kernel in CKernels (`depthwise.c`) runs over contiguous channels with the
/// widest SIMD the CPU has (`PIC2VEC_SIMD` forces a level).
public struct DepthwiseConvBN: Sendable {
    /// The SIMD level chosen once per process (0 generic, 1 AVX2, 2 AVX-512).
    static let level = rn_depthwise_level()

    /// Whether this CPU runs SIMD `level`.
    static func supports(_ level: Int32) -> Bool { rn_simd_supported(level) != 0 }

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

    /// Convolves `input` and applies `activation`, with the kernel at SIMD `level`.
    public func callAsFunction(_ input: Tensor, activation: Activation) -> Tensor {
        callAsFunction(input, activation: activation, level: Self.level)
    }

    func callAsFunction(_ input: Tensor, activation: Activation, level: Int32) -> Tensor {
        precondition(input.channels == channels, "depthwise conv expects \(channels) channels, got \(input.channels)")
        let (outH, padTop) = padding.layout(input: input.height, kernel: kernel, stride: stride)
        let (outW, padLeft) = padding.layout(input: input.width, kernel: kernel, stride: stride)
        precondition(outH > 0 && outW > 0, "input \(input.height)x\(input.width) is too small for this convolution")
        let code: Int32 =
            switch activation {
            case .identity: 0
            case .relu: 1
            case .relu6: 2
            }
        return Tensor(batch: input.batch, height: outH, width: outW, channels: channels) { output in
            input.values.withUnsafeBufferPointer { x in
                weights.withUnsafeBufferPointer { w in
                    bias.withUnsafeBufferPointer { b in
                        rn_depthwise(
                            level, x.baseAddress, Int32(input.height), Int32(input.width), Int32(channels), w.baseAddress,
                            b.baseAddress, Int32(kernel), Int32(stride), Int32(padTop), Int32(padLeft), Int32(outH),
                            Int32(outW), code, 0, Int32(input.batch * outH), output)
                    }
                }
            }
        }
    }
}
