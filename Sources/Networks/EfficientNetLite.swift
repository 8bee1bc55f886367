/// EfficientNet-Lite with its classifier removed: the pooled 1280-d features before the head's
/// dropout and fully connected layer, NHWC in.
///
/// Exactly the PyPI package `efficientnet-lite-pytorch` 0.1.0 (`extract_features(x).mean((2, 3))`):
/// a 3x3/2 stem (32 channels), seven stages of MBConv blocks (depthwise convolutions, ReLU6,
/// no squeeze-excitation), a 1x1 head to 1280 channels, batch norm epsilon 1e-3, and
/// TensorFlow "same" padding computed for the actual input size (equal to the package's
/// static padding at the model's native size). Tan and Le, "EfficientNet: Rethinking Model
/// Scaling for Convolutional Neural Networks", ICML 2019; the Lite variants from
/// tensorflow/tpu `efficientnet/lite`.
public struct EfficientNetLite: ImageNetwork {
    /// One stage of the base (Lite0) topology before scaling.
    struct Stage {
        let repeats: Int
        let kernel: Int
        let stride: Int
        let expansion: Int
        let input: Int
        let output: Int
    }

    /// The base stages (`r1_k3_s11_e1_i32_o16`, ...).
    static let baseStages = [
        Stage(repeats: 1, kernel: 3, stride: 1, expansion: 1, input: 32, output: 16),
        Stage(repeats: 2, kernel: 3, stride: 2, expansion: 6, input: 16, output: 24),
        Stage(repeats: 2, kernel: 5, stride: 2, expansion: 6, input: 24, output: 40),
        Stage(repeats: 3, kernel: 3, stride: 2, expansion: 6, input: 40, output: 80),
        Stage(repeats: 3, kernel: 5, stride: 1, expansion: 6, input: 80, output: 112),
        Stage(repeats: 4, kernel: 5, stride: 2, expansion: 6, input: 112, output: 192),
        Stage(repeats: 1, kernel: 3, stride: 1, expansion: 6, input: 192, output: 320),
    ]

    /// A Lite variant: width and depth multipliers (the stem, head, and first and last
    /// stages' repeats stay fixed) and the native resolution.
    public struct Architecture: Sendable, Equatable {
        public let widthMultiplier: Double
        public let depthMultiplier: Double
        public let resolution: Int

        public init(widthMultiplier: Double, depthMultiplier: Double, resolution: Int) {
            self.widthMultiplier = widthMultiplier
            self.depthMultiplier = depthMultiplier
            self.resolution = resolution
        }

        public static let lite0 = Architecture(widthMultiplier: 1.0, depthMultiplier: 1.0, resolution: 224)
        public static let lite1 = Architecture(widthMultiplier: 1.0, depthMultiplier: 1.1, resolution: 240)
        public static let lite2 = Architecture(widthMultiplier: 1.1, depthMultiplier: 1.2, resolution: 260)

        /// The stem's and the head's channels (not scaled).
        var stemChannels: Int { 32 }
        var headChannels: Int { 1280 }

        /// Channels scaled by the width multiplier and rounded to a multiple of 8 (not less
        /// than 90% of the scaled value), as the reference's `round_filters`.
        func filters(_ base: Int) -> Int {
            let scaled = Double(base) * widthMultiplier
            var rounded = max(8, Int(scaled + 4) / 8 * 8)
            if Double(rounded) < 0.9 * scaled { rounded += 8 }
            return rounded
        }

        var stem: ConvLayer {
            ConvLayer(conv: "_conv_stem", norm: "_bn0", input: 3, output: stemChannels, kernel: 3, stride: 2, padding: .same)
        }

        /// The topology table: every block's expansion, depthwise and projection layers.
        var blocks: [(expand: ConvLayer?, depthwise: ConvLayer, project: ConvLayer, residual: Bool)] {
            var table: [(expand: ConvLayer?, depthwise: ConvLayer, project: ConvLayer, residual: Bool)] = []
            let last = EfficientNetLite.baseStages.count - 1
            for (i, stage) in EfficientNetLite.baseStages.enumerated() {
                let fixed = i == 0 || i == last
                let repeats = fixed ? stage.repeats : Int((depthMultiplier * Double(stage.repeats)).rounded(.up))
                let output = filters(stage.output)
                var input = i == 0 ? stemChannels : filters(stage.input)
                for r in 0..<repeats {
                    let name = "_blocks.\(table.count)."
                    let stride = r == 0 ? stage.stride : 1
                    let hidden = input * stage.expansion
                    let expand =
                        stage.expansion == 1
                        ? nil
                        : ConvLayer(
                            conv: name + "_expand_conv", norm: name + "_bn0", input: input, output: hidden, kernel: 1,
                            padding: .same)
                    let depthwise = ConvLayer(
                        conv: name + "_depthwise_conv", norm: name + "_bn1", input: hidden, output: hidden,
                        kernel: stage.kernel, stride: stride, padding: .same, depthwise: true)
                    let project = ConvLayer(
                        conv: name + "_project_conv", norm: name + "_bn2", input: hidden, output: output, kernel: 1,
                        padding: .same)
                    table.append((expand, depthwise, project, stride == 1 && input == output))
                    input = output
                }
            }
            return table
        }

        var head: ConvLayer {
            let input = filters(EfficientNetLite.baseStages[EfficientNetLite.baseStages.count - 1].output)
            return ConvLayer(conv: "_conv_head", norm: "_bn1", input: input, output: headChannels, kernel: 1, padding: .same)
        }

        /// Every layer in state-dict order.
        public var layers: [ConvLayer] {
            [stem] + blocks.flatMap { block in (block.expand.map { [$0] } ?? []) + [block.depthwise, block.project] } + [head]
        }
    }

    public let stem: ConvBN
    public let blocks: [MBConvBlock]
    public let head: ConvBN
    public let isRandom: Bool

    /// Builds the network of `architecture` from a state dict with the reference's names
    /// (a `module.` prefix is dropped; `_fc.*` is ignored). The first missing or mis-shaped
    /// tensor, or one holding NaN, infinity or a negative variance, is an error naming it. The
    /// convolutions (but the depthwise ones) multiply at `precision`.
    public init(
        stateDict raw: [String: NamedTensor], path: String, architecture: Architecture, model: String, isRandom: Bool = false,
        precision: Precision = .fp32
    ) throws {
        var tensors: [String: NamedTensor] = [:]
        for (name, tensor) in raw { tensors[name.hasPrefix("module.") ? String(name.dropFirst("module.".count)) : name] = tensor }
        let weights = try LayerWeights(
            tensors, layers: architecture.layers, epsilon: 1e-3, path: path, model: model, precision: precision)
        stem = weights.conv(architecture.stem)
        blocks = architecture.blocks.map { block in
            MBConvBlock(
                expand: block.expand.map(weights.conv), depthwise: weights.depthwise(block.depthwise),
                project: weights.conv(block.project), residual: block.residual)
        }
        head = weights.conv(architecture.head)
        self.isRandom = isRandom
    }

    public var outputDimension: Int { head.outputChannels }

    /// The head's feature map (before pooling) for a normalized NHWC batch with 3 channels.
    public func features(_ x: Tensor) -> Tensor {
        var y = stem(x, activation: .relu6)
        for block in blocks { y = block(y) }
        return head(y, activation: .relu6)
    }

    public func callAsFunction(_ x: Tensor) -> [Float] { globalAveragePool(features(x)) }
}
