/// A residual block, NHWC: its convolutions in a chain (ReLU after each), the last one adding
/// the shortcut (`downsample(x)` or `x`) before its ReLU.
///
/// A basic block is two 3x3 convolutions; a bottleneck block is 1x1, 3x3 (strided), 1x1.
public struct ResidualBlock: Sendable {
    public let convs: [ConvBN]
    /// The 1x1 strided projection when the shape changes, else nil (identity).
    public let downsample: ConvBN?

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let shortcut = downsample.map { $0(x, activation: .identity) } ?? x
        var y = x
        for conv in convs.dropLast() { y = conv(y, activation: .relu) }
        guard let last = convs.last else { return x }
        return last(y, residual: shortcut, activation: .relu)
    }
}

/// torchvision's ResNet with `fc` removed: the pooled features of the last stage, NHWC in.
///
/// `stem` (7x7/2 conv + bn + relu), 3x3/2 max pool, then stages of residual blocks (the
/// first block of stages 2-4 has stride 2 and a 1x1 projection), then global average pooling.
/// He et al., "Deep Residual Learning for Image Recognition", CVPR 2016.
public struct ResNet: ImageNetwork {
    /// A ResNet topology: blocks per stage and the block kind.
    public struct Architecture: Sendable, Equatable {
        public let blocks: [Int]
        /// Bottleneck blocks (1x1, 3x3, 1x1 with 4x expansion) instead of basic blocks.
        public let bottleneck: Bool
        /// Channels of the stem and of the first stage's 3x3 convolutions.
        public let width: Int

        public init(blocks: [Int], bottleneck: Bool, width: Int = 64) {
            self.blocks = blocks
            self.bottleneck = bottleneck
            self.width = width
        }

        public static let resnet18 = Architecture(blocks: [2, 2, 2, 2], bottleneck: false)
        public static let resnet34 = Architecture(blocks: [3, 4, 6, 3], bottleneck: false)
        public static let resnet50 = Architecture(blocks: [3, 4, 6, 3], bottleneck: true)

        /// The stem's convolution.
        var stem: ConvLayer {
            ConvLayer(conv: "conv1", norm: "bn1", input: 3, output: width, kernel: 7, stride: 2, padding: .symmetric(3))
        }

        /// The topology table: per stage, per block, its convolutions and its projection
        /// (torchvision names; the stride sits on the 3x3 convolution, as in torchvision).
        var table: [[(convs: [ConvLayer], downsample: ConvLayer?)]] {
            let expansion = bottleneck ? 4 : 1
            var channels = width
            return blocks.enumerated().map { s, count in
                let inner = width << s, out = inner * expansion
                return (0..<count).map { b in
                    let name = "layer\(s + 1).\(b)"
                    let stride = s > 0 && b == 0 ? 2 : 1
                    func layer(_ i: Int, _ input: Int, _ output: Int, kernel: Int, stride: Int = 1) -> ConvLayer {
                        ConvLayer(
                            conv: "\(name).conv\(i)", norm: "\(name).bn\(i)", input: input, output: output, kernel: kernel,
                            stride: stride, padding: .symmetric(kernel / 2))
                    }
                    let convs =
                        bottleneck
                        ? [
                            layer(1, channels, inner, kernel: 1), layer(2, inner, inner, kernel: 3, stride: stride),
                            layer(3, inner, out, kernel: 1),
                        ]
                        : [layer(1, channels, out, kernel: 3, stride: stride), layer(2, out, out, kernel: 3)]
                    let downsample =
                        stride != 1 || channels != out
                        ? ConvLayer(
                            conv: name + ".downsample.0", norm: name + ".downsample.1", input: channels, output: out,
                            kernel: 1, stride: stride, padding: .symmetric(0))
                        : nil
                    channels = out
                    return (convs, downsample)
                }
            }
        }

        /// Every layer in state-dict order (the stem, then per block its projection and convolutions).
        public var layers: [ConvLayer] {
            [stem] + table.flatMap { $0.flatMap { block in (block.downsample.map { [$0] } ?? []) + block.convs } }
        }
    }

    public let stem: ConvBN
    public let stages: [[ResidualBlock]]
    public let isRandom: Bool

    /// Builds the network of `architecture` from checked weights.
    init(_ architecture: Architecture, weights: LayerWeights, isRandom: Bool) {
        stem = weights.conv(architecture.stem)
        stages = architecture.table.map { stage in
            stage.map { block in
                ResidualBlock(convs: block.convs.map(weights.conv), downsample: block.downsample.map(weights.conv))
            }
        }
        self.isRandom = isRandom
    }

    /// The embedding length (channels of the last stage).
    public var outputDimension: Int { stages.last?.last?.convs.last?.outputChannels ?? stem.outputChannels }

    /// The feature map before pooling, for a normalized NHWC batch with 3 channels.
    public func features(_ x: Tensor) -> Tensor {
        var y = maxPool3x3Stride2(stem(x, activation: .relu))
        for stage in stages {
            for block in stage { y = block(y) }
        }
        return y
    }

    public func callAsFunction(_ x: Tensor) -> [Float] { globalAveragePool(features(x)) }
}
