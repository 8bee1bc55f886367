import Common
import Foundation

extension ResNet {
    /// Builds the network from a state dict with torchvision names, folding each batch norm
    /// into its convolution.
    ///
    /// Accepts prefixes `module.` and `backbone.`, Hugging Face `transformers` ResNet names
    /// (`microsoft/resnet-18`), and ignores `fc.*`, the classifier and `num_batches_tracked`.
    /// The width comes from `conv1.weight`. A missing or mis-shaped tensor, or one that
    /// holds NaN or infinity, is an error naming it (and both shapes); `path` names the file.
    public init(stateDict raw: [String: NamedTensor], path: String, stages: [Int] = ResNet.resnet18Stages, isRandom: Bool = false) throws {
        var tensors: [String: NamedTensor] = [:]
        for (name, tensor) in raw { tensors[Self.torchvisionName(name)] = tensor }
        func tensor(_ name: String, _ shape: [Int]) throws -> [Float] {
            guard let found = tensors[name] else { throw FileError(path, "missing tensor \(name) (expected shape \(shape))") }
            guard found.shape == shape else {
                throw FileError(path, "tensor \(name) has shape \(found.shape), expected \(shape)")
            }
            guard found.values.allSatisfy({ $0.isFinite }) else { throw FileError(path, "tensor \(name) holds NaN or infinity") }
            return found.values
        }
        func convBN(_ conv: String, _ bn: String, out: Int, in input: Int, kernel: Int, stride: Int) throws -> ConvBN {
            try ConvBN(
                torchWeight: tensor(conv + ".weight", [out, input, kernel, kernel]), outputChannels: out, inputChannels: input,
                kernel: kernel, stride: stride, padding: kernel / 2,
                gamma: tensor(bn + ".weight", [out]), beta: tensor(bn + ".bias", [out]),
                mean: tensor(bn + ".running_mean", [out]), variance: tensor(bn + ".running_var", [out]))
        }
        guard let width = tensors["conv1.weight"]?.shape.first, width > 0 else {
            throw FileError(path, "missing tensor conv1.weight (not a ResNet state dict?)")
        }
        let stem = try convBN("conv1", "bn1", out: width, in: 3, kernel: 7, stride: 2)
        var channels = width
        var built: [[BasicBlock]] = []
        for (s, blocks) in stages.enumerated() {
            let out = width << s
            var stage: [BasicBlock] = []
            for b in 0..<blocks {
                let name = "layer\(s + 1).\(b)"
                let stride = s > 0 && b == 0 ? 2 : 1
                let downsample = stride != 1 || channels != out
                    ? try convBN(name + ".downsample.0", name + ".downsample.1", out: out, in: channels, kernel: 1, stride: stride) : nil
                stage.append(BasicBlock(
                    first: try convBN(name + ".conv1", name + ".bn1", out: out, in: channels, kernel: 3, stride: stride),
                    second: try convBN(name + ".conv2", name + ".bn2", out: out, in: out, kernel: 3, stride: 1),
                    downsample: downsample))
                channels = out
            }
            built.append(stage)
        }
        self.init(stem: stem, stages: built, isRandom: isRandom)
    }

    /// The torchvision name of a tensor named with a wrapper prefix or Hugging Face names.
    static func torchvisionName(_ name: String) -> String {
        var name = name
        for prefix in ["module.", "backbone."] where name.hasPrefix(prefix) { name.removeFirst(prefix.count) }
        if name.hasPrefix("resnet.") { name.removeFirst("resnet.".count) }
        let parts = name.split(separator: ".").map(String.init)
        let norm = ["convolution": "conv", "normalization": "bn"]
        if parts.count >= 4, parts[0] == "embedder", parts[1] == "embedder", let kind = norm[parts[2]] {
            return ([kind + "1"] + parts[3...]).joined(separator: ".")
        }
        // encoder.stages.S.layers.B.layer.I.(convolution|normalization).P or ...shortcut.(convolution|normalization).P
        guard parts.count >= 7, parts[0] == "encoder", parts[1] == "stages", let s = Int(parts[2]), parts[3] == "layers" else {
            return name
        }
        let block = "layer\(s + 1).\(parts[4])."
        if parts[5] == "shortcut", let kind = norm[parts[6]] {
            return block + "downsample.\(kind == "conv" ? 0 : 1)." + parts[7...].joined(separator: ".")
        }
        if parts[5] == "layer", parts.count >= 8, let i = Int(parts[6]), let kind = norm[parts[7]] {
            return block + "\(kind)\(i + 1)." + parts[8...].joined(separator: ".")
        }
        return name
    }

    /// A state dict of torchvision's initialization drawn from `seed`: Kaiming-normal
    /// convolutions (fan out, ReLU gain) and identity batch norms. Deterministic per seed.
    public static func randomStateDict(seed: UInt64, width: Int = 64, stages: [Int] = resnet18Stages) -> [String: NamedTensor] {
        var generator = SeededGenerator(seed: seed)
        var dict: [String: NamedTensor] = [:]
        func add(_ conv: String, _ bn: String, out: Int, in input: Int, kernel: Int) {
            let std = (2.0 / Double(out * kernel * kernel)).squareRoot()
            let values = (0..<out * input * kernel * kernel).map { _ in Float(std * normal(&generator)) }
            dict[conv + ".weight"] = NamedTensor(shape: [out, input, kernel, kernel], values: values)
            for (field, value) in [("weight", Float(1)), ("bias", 0), ("running_mean", 0), ("running_var", 1)] {
                dict[bn + "." + field] = NamedTensor(shape: [out], values: [Float](repeating: value, count: out))
            }
        }
        add("conv1", "bn1", out: width, in: 3, kernel: 7)
        var channels = width
        for (s, blocks) in stages.enumerated() {
            let out = width << s
            for b in 0..<blocks {
                let name = "layer\(s + 1).\(b)"
                if (s > 0 && b == 0) || channels != out {
                    add(name + ".downsample.0", name + ".downsample.1", out: out, in: channels, kernel: 1)
                }
                add(name + ".conv1", name + ".bn1", out: out, in: channels, kernel: 3)
                add(name + ".conv2", name + ".bn2", out: out, in: out, kernel: 3)
                channels = out
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
