/// How an image becomes network input: resize to `size` x `size`, then per-channel
/// normalization `(x / 255 - mean) / std`, written as HWC floats (NHWC when batched).
///
/// Resizing works on floats in [0, 1] exactly as
/// `torch.nn.functional.interpolate(x, size=(size, size), mode='bilinear', antialias=True,
/// align_corners=False)` does (a separable triangle filter widened by the scale when
/// shrinking, width pass first); an image already at `size` x `size` is not resampled.
public struct Preprocessing: Sendable, Equatable {
    /// The preset's name ("cifar", "imagenet"), shown in sidecars and reports.
    public let name: String
    /// The side of the square network input.
    public let size: Int
    public let mean: [Float]
    public let std: [Float]

    public init(name: String, size: Int, mean: [Float], std: [Float]) {
        precondition(size > 0 && mean.count == 3 && std.count == 3, "preprocessing needs a positive size and 3 means and stds")
        self.name = name
        self.size = size
        self.mean = mean
        self.std = std
    }

    /// The notebook's CIFAR-10 input: 32x32, `Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))`.
    public static let cifar = Preprocessing(name: "cifar", size: 32, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5])

    /// torchvision's ImageNet input: 224x224, ImageNet mean and standard deviation.
    public static let imagenet = Preprocessing(
        name: "imagenet", size: 224, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])

    /// The input sides accepted from users and sidecars: enough for any preset, small
    /// enough that one image's tensors stay within a few hundred MB.
    public static let sizes = 8...1024

    /// The preset called `name`, or nil.
    public static func preset(_ name: String) -> Preprocessing? {
        [cifar, imagenet].first { $0.name == name }
    }

    /// The same normalization at another input size.
    public func resized(to size: Int) -> Preprocessing {
        Preprocessing(name: size == self.size ? name : "\(name)@\(size)", size: size, mean: mean, std: std)
    }

    /// The number of floats `write` produces per image.
    public var valuesPerImage: Int { size * size * 3 }

    /// Writes `image` as `size * size * 3` normalized HWC floats to `destination`.
    ///
    /// Reads the image's bytes directly: no float copy of a full-size image is made.
    public func write(_ image: RGBImage, to destination: UnsafeMutablePointer<Float>) {
        precondition(image.width > 0 && image.height > 0, "empty image")
        let resized = image.pixels.withUnsafeBufferPointer { bytes in
            Self.resize(width: image.width, height: image.height, to: size, size) { Float(bytes[$0]) / 255 }
        }
        for i in 0..<size * size {
            for c in 0..<3 { destination[3 * i + c] = (resized[3 * i + c] - mean[c]) / std[c] }
        }
    }

    /// Resizes HWC 3-channel floats like torch's antialiased bilinear interpolation.
    public static func resize(_ values: [Float], width: Int, height: Int, to outWidth: Int, _ outHeight: Int) -> [Float] {
        precondition(values.count == width * height * 3, "resize: \(values.count) values for \(width)x\(height)x3")
        return resize(width: width, height: height, to: outWidth, outHeight) { values[$0] }
    }

    /// Resizes a `width` x `height` HWC 3-channel image whose value at flat index i is
    /// `value(i)` (antialiased bilinear, as torch); an axis already at its size is copied.
    static func resize(width: Int, height: Int, to outWidth: Int, _ outHeight: Int, value: (Int) -> Float) -> [Float] {
        var horizontal = [Float](repeating: 0, count: height * outWidth * 3)
        if outWidth == width {
            for i in horizontal.indices { horizontal[i] = value(i) }
        } else {
            let taps = ResampleTaps(input: width, output: outWidth)
            for y in 0..<height {
                for x in 0..<outWidth {
                    for c in 0..<3 {
                        horizontal[(y * outWidth + x) * 3 + c] = taps.apply(x) { value((y * width + $0) * 3 + c) }
                    }
                }
            }
        }
        guard outHeight != height else { return horizontal }
        var out = [Float](repeating: 0, count: outHeight * outWidth * 3)
        let taps = ResampleTaps(input: height, output: outHeight)
        for y in 0..<outHeight {
            for x in 0..<outWidth {
                for c in 0..<3 {
                    out[(y * outWidth + x) * 3 + c] = taps.apply(y) { horizontal[($0 * outWidth + x) * 3 + c] }
                }
            }
        }
        return out
    }
}

/// The normalized filter weights of each output index along one axis, as (for the triangle)
/// PyTorch's `_upsample_bilinear2d_aa` computes them (support 1, widened by the scale when
/// shrinking; `align_corners=False`).
struct ResampleTaps {
    let first: [Int]
    let weights: [[Float]]

    /// PIL's resampling filters: the triangle of BILINEAR (support 1) and the box of BOX (support 1/2).
    enum Filter {
        case triangle, box

        var support: Double { self == .triangle ? 1 : 0.5 }

        func weight(_ x: Double) -> Double { self == .triangle ? max(0, 1 - abs(x)) : (x > -0.5 && x <= 0.5 ? 1 : 0) }
    }

    init(input: Int, output: Int, filter: Filter = .triangle) {
        let scale = Double(input) / Double(output)
        let support = filter.support * (scale >= 1 ? scale : 1)
        let inverse = scale >= 1 ? 1 / scale : 1
        var first: [Int] = []
        var weights: [[Float]] = []
        for i in 0..<output {
            let center = scale * (Double(i) + 0.5)
            let low = max(Int(center - support + 0.5), 0)
            let high = min(Int(center + support + 0.5), input)
            let raw = (low..<high).map { j in filter.weight((Double(j) - center + 0.5) * inverse) }
            let total = raw.reduce(0, +)
            first.append(low)
            weights.append(raw.map { Float(total > 0 ? $0 / total : 0) })
        }
        self.first = first
        self.weights = weights
    }

    /// The weighted sum for output index `i`, reading input index `j` through `value`.
    @inline(__always)
    func apply(_ i: Int, _ value: (Int) -> Float) -> Float {
        var sum: Float = 0
        for (k, w) in weights[i].enumerated() { sum += w * value(first[i] + k) }
        return sum
    }
}
