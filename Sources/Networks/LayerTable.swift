import Common
import Foundation

/// One convolution and its batch norm, as a model's state dict names them: the unit every
/// architecture's topology table is made of.
public struct ConvLayer: Sendable, Equatable {
    /// The state-dict prefix of the convolution (its weight is `conv + ".weight"`).
    public let conv: String
    /// The state-dict prefix of its batch norm (`.weight`, `.bias`, `.running_mean`, `.running_var`).
    public let norm: String
    public let inputChannels: Int
    public let outputChannels: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Padding
    /// A depthwise convolution (groups = channels; input and output channels equal).
    public let depthwise: Bool

    public init(
        conv: String, norm: String, input: Int, output: Int, kernel: Int, stride: Int = 1, padding: Padding,
        depthwise: Bool = false
    ) {
        precondition(!depthwise || input == output, "a depthwise convolution keeps its channels")
        self.conv = conv
        self.norm = norm
        self.inputChannels = input
        self.outputChannels = output
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.depthwise = depthwise
    }

    /// The PyTorch shape of the convolution weight (`out x in/groups x k x k`).
    public var weightShape: [Int] { [outputChannels, depthwise ? 1 : inputChannels, kernel, kernel] }

    /// Every tensor this layer reads, with its shape, in state-dict order.
    public var tensors: [(name: String, shape: [Int])] {
        [(conv + ".weight", weightShape)]
            + ["weight", "bias", "running_mean", "running_var"].map { (norm + "." + $0, [outputChannels]) }
    }
}

/// The weights of a topology table, checked against a state dict and ready to build layers from.
///
/// Checking walks the table in order and stops at the first tensor that is missing, has
/// another shape, holds NaN or infinity, or (for `running_var`) is negative: the error
/// names the file and that tensor.
public struct LayerWeights: Sendable {
    let tensors: [String: NamedTensor]
    /// The batch norms' epsilon (1e-5 in torchvision, 1e-3 in EfficientNet).
    let epsilon: Float
    /// The arithmetic of the convolutions built from them.
    let precision: Precision

    /// Checks `tensors` (already renamed to the table's names) against `layers`.
    public init(
        _ tensors: [String: NamedTensor], layers: [ConvLayer], epsilon: Float, path: String, model: String,
        precision: Precision = .fp32
    ) throws {
        for layer in layers {
            for (name, shape) in layer.tensors {
                guard let found = tensors[name] else {
                    throw FileError(
                        path, "missing tensor \(name) (expected shape \(shape)); not \(model) weights?", kind: .mismatch)
                }
                guard found.shape == shape else {
                    throw FileError(
                        path, "tensor \(name) has shape \(found.shape), expected \(shape) for \(model)", kind: .wrongShape)
                }
                guard found.values.allSatisfy({ $0.isFinite }) else {
                    throw FileError(path, "tensor \(name) holds NaN or infinity")
                }
                if name.hasSuffix(".running_var"), let negative = found.values.first(where: { $0 < 0 }) {
                    throw FileError(path, "tensor \(name) holds a negative variance (\(negative))")
                }
            }
        }
        self.tensors = tensors
        self.epsilon = epsilon
        self.precision = precision
    }

    private func values(_ name: String) -> [Float] { tensors[name]?.values ?? [] }

    /// The convolution of a full (not depthwise) layer with its batch norm folded in.
    func conv(_ layer: ConvLayer) -> ConvBN {
        precondition(!layer.depthwise, "\(layer.conv) is depthwise")
        return ConvBN(
            torchWeight: values(layer.conv + ".weight"), outputChannels: layer.outputChannels, inputChannels: layer.inputChannels,
            kernel: layer.kernel, stride: layer.stride, padding: layer.padding,
            gamma: values(layer.norm + ".weight"), beta: values(layer.norm + ".bias"),
            mean: values(layer.norm + ".running_mean"), variance: values(layer.norm + ".running_var"), epsilon: epsilon,
            precision: precision)
    }

    /// The depthwise convolution of a depthwise layer with its batch norm folded in.
    func depthwise(_ layer: ConvLayer) -> DepthwiseConvBN {
        precondition(layer.depthwise, "\(layer.conv) is not depthwise")
        return DepthwiseConvBN(
            torchWeight: values(layer.conv + ".weight"), channels: layer.outputChannels, kernel: layer.kernel,
            stride: layer.stride, padding: layer.padding,
            gamma: values(layer.norm + ".weight"), beta: values(layer.norm + ".bias"),
            mean: values(layer.norm + ".running_mean"), variance: values(layer.norm + ".running_var"), epsilon: epsilon)
    }

    /// A state dict for `layers` drawn from `seed`, as torchvision initializes: Kaiming-normal
    /// convolutions (fan out, ReLU gain) and identity batch norms. Deterministic per seed.
    public static func random(_ layers: [ConvLayer], seed: UInt64) -> [String: NamedTensor] {
        var generator = SeededGenerator(seed: seed)
        var dict: [String: NamedTensor] = [:]
        for layer in layers {
            let fanOut = layer.weightShape[0] * layer.kernel * layer.kernel / (layer.depthwise ? layer.outputChannels : 1)
            let std = (2.0 / Double(fanOut)).squareRoot()
            let shape = layer.weightShape
            dict[layer.conv + ".weight"] = NamedTensor(
                shape: shape, values: (0..<shape.reduce(1, *)).map { _ in Float(std * normal(&generator)) })
            for (field, value) in [("weight", Float(1)), ("bias", 0), ("running_mean", 0), ("running_var", 1)] {
                dict[layer.norm + "." + field] = NamedTensor(
                    shape: [layer.outputChannels], values: [Float](repeating: value, count: layer.outputChannels))
            }
        }
        return dict
    }

    /// One standard normal draw (Box-Muller).
    private static func normal(_ generator: inout SeededGenerator) -> Double {
        let u = Double.random(in: Double.ulpOfOne..<1, using: &generator)
        let v = Double.random(in: 0..<1, using: &generator)
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
}

/// A network that turns a normalized NHWC batch into one embedding row per image.
public protocol ImageNetwork: Sendable {
    /// The embedding length.
    var outputDimension: Int { get }
    /// True when the weights were drawn at random: label every output "random weights".
    var isRandom: Bool { get }
    /// Embeddings of a normalized NHWC batch: `batch` rows of `outputDimension` floats.
    func callAsFunction(_ x: Tensor) -> [Float]
}
