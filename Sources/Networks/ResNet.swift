/// A ResNet basic block (two 3x3 ConvBNs and a shortcut), NHWC:
/// `relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))`.
public struct BasicBlock: Sendable {
    public let first: ConvBN
    public let second: ConvBN
    /// The 1x1 strided projection when the shape changes, else nil (identity).
    public let downsample: ConvBN?

    public init(first: ConvBN, second: ConvBN, downsample: ConvBN?) {
        self.first = first
        self.second = second
        self.downsample = downsample
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let shortcut = downsample.map { $0(x, relu: false) } ?? x
        return second(first(x, relu: true), residual: shortcut, relu: true)
    }
}

/// torchvision's ResNet with `fc` removed: the pooled features of the last stage, NHWC in.
///
/// `stem` (7x7/2 conv + bn + relu), 3x3/2 max pool, then `stages` of `BasicBlock`s
/// (channels `width`, 2x, 4x, 8x; the first block of stages 2-4 has stride 2 and a 1x1
/// projection), then global average pooling. ResNet18 is stages `[2, 2, 2, 2]` at width 64.
/// He et al., "Deep Residual Learning for Image Recognition", CVPR 2016.
public struct ResNet: Sendable {
    /// Blocks per stage for ResNet18.
    public static let resnet18Stages = [2, 2, 2, 2]

    public let stem: ConvBN
    public let stages: [[BasicBlock]]
    /// True when the weights were drawn at random rather than loaded: label every output "random weights".
    public let isRandom: Bool

    public init(stem: ConvBN, stages: [[BasicBlock]], isRandom: Bool) {
        self.stem = stem
        self.stages = stages
        self.isRandom = isRandom
    }

    /// The embedding length (channels of the last stage).
    public var outputDimension: Int { stages.last?.last?.second.outputChannels ?? stem.outputChannels }

    /// The feature map before pooling, for a normalized NHWC batch with 3 channels.
    public func features(_ x: Tensor) -> Tensor {
        var y = maxPool3x3Stride2(stem(x, relu: true))
        for stage in stages {
            for block in stage { y = block(y) }
        }
        return y
    }

    /// Embeddings of a normalized NHWC batch: `batch` rows of `outputDimension` floats.
    public func callAsFunction(_ x: Tensor) -> [Float] { globalAveragePool(features(x)) }
}
