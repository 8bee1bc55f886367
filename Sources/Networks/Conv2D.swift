internal import CBLAS
internal import CKernels
import Common
import Foundation

/// How a convolution pads its input.
public enum Padding: Sendable, Equatable {
    /// `p` zeros on every side (PyTorch's `padding=p`).
    case symmetric(Int)
    /// TensorFlow's "same": output `ceil(input / stride)`, the padding split with the odd
    /// one at the bottom and right (as EfficientNet's `Conv2dStaticSamePadding`).
    case same

    /// The output size and the padding before the first input (top or left) for `input` pixels.
    func layout(input: Int, kernel: Int, stride: Int) -> (output: Int, before: Int) {
        switch self {
        case .symmetric(let p):
            return ((input + 2 * p - kernel) / stride + 1, p)
        case .same:
            let output = (input + stride - 1) / stride
            return (output, max((output - 1) * stride + kernel - input, 0) / 2)
        }
    }
}

/// The nonlinearity applied to a layer's output.
public enum Activation: Sendable, Equatable {
    case identity
    /// `max(x, 0)`.
    case relu
    /// `min(max(x, 0), 6)` (MobileNet, EfficientNet-Lite).
    case relu6

    /// The kernels' code for this activation (`RN_ACTIVATION_*`).
    var code: Int32 {
        switch self {
        case .identity: Int32(RN_ACTIVATION_NONE)
        case .relu: Int32(RN_ACTIVATION_RELU)
        case .relu6: Int32(RN_ACTIVATION_RELU6)
        }
    }

    /// Applies the activation to `count` floats in place.
    func apply(_ values: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .identity: return
        case .relu: for i in 0..<count { values[i] = max(values[i], 0) }
        case .relu6: for i in 0..<count { values[i] = min(max(values[i], 0), 6) }
        }
    }
}

/// A 2-D convolution with its batch norm folded in (NHWC in, NHWC out), optionally
/// followed by a residual add and an activation (ReLU or ReLU6).
///
/// Weights are stored as a GEMM matrix of `kernel * kernel * inputChannels` rows (tap
/// row, tap column, input channel) by `outputChannels` columns, already scaled by the
/// batch norm's `gamma / sqrt(var + eps)`; `bias` is `beta - mean * scale`.
///
/// The convolution is im2col + one SGEMM over the whole batch, in row chunks that stay
/// in cache. On small maps (the late stages at 32x32 input) most taps read padding, so
/// output positions are grouped by the set of taps that land inside the image and each
/// group multiplies only those taps: a 3x3 convolution over a 1x1 map is its center tap.
/// Stride-1 3x3 convolutions over maps of 3x3 or more use Winograd F(4x4, 3x3) instead,
/// and 1x1 stride-1 convolutions multiply the input directly (no im2col).
public struct ConvBN: Sendable {
    public let kernel: Int
    public let stride: Int
    public let padding: Padding
    public let inputChannels: Int
    public let outputChannels: Int
    /// The arithmetic of its matrix products.
    public let precision: Precision
    /// `kernel * kernel * inputChannels` x `outputChannels`, row-major.
    let weights: [Float]
    let bias: [Float]
    /// Whether this is a 3x3, stride-1, padding-1 convolution, run with Winograd F(4x4, 3x3) on maps large enough.
    let isWinograd: Bool
    /// Its Winograd weights, transformed on first use (a network that never sees a map large enough
    /// never holds them: 4x the convolution's weights).
    private let winogradWeights = Lazy<WinogradWeights>()
    /// The packed weights of a 1x1 stride-1 convolution, which multiplies its input rows directly.
    let pointwiseWeights: GEMMWeights?
    private let plans = PlanCache()

    /// Folds batch norm `(gamma, beta, mean, variance, eps)` into a PyTorch-layout weight
    /// (`outputChannels x inputChannels x kernel x kernel`, row-major).
    public init(
        torchWeight: [Float], outputChannels: Int, inputChannels: Int, kernel: Int, stride: Int, padding: Padding,
        gamma: [Float], beta: [Float], mean: [Float], variance: [Float], epsilon: Float = 1e-5, precision: Precision = .fp32
    ) {
        precondition(torchWeight.count == outputChannels * inputChannels * kernel * kernel, "conv weight size")
        precondition([gamma, beta, mean, variance].allSatisfy { $0.count == outputChannels }, "batch norm size")
        let scale = (0..<outputChannels).map { gamma[$0] / (variance[$0] + epsilon).squareRoot() }
        let taps = kernel * kernel
        let packed = [Float](unsafeUninitializedCapacity: taps * inputChannels * outputChannels) { packed, initialized in
            torchWeight.withUnsafeBufferPointer { torch in
                for t in 0..<taps {
                    for i in 0..<inputChannels {
                        let row = (t * inputChannels + i) * outputChannels
                        for o in 0..<outputChannels { packed[row + o] = torch[(o * inputChannels + i) * taps + t] * scale[o] }
                    }
                }
            }
            initialized = taps * inputChannels * outputChannels
        }
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.precision = precision
        self.weights = packed
        self.bias = (0..<outputChannels).map { beta[$0] - mean[$0] * scale[$0] }
        self.isWinograd = kernel == 3 && stride == 1 && padding == .symmetric(1)
        let pointwise = kernel == 1 && stride == 1 && padding.layout(input: 1, kernel: 1, stride: 1).before == 0
        self.pointwiseWeights =
            pointwise ? GEMMWeights(packed, rows: inputChannels, columns: outputChannels, precision: precision) : nil
    }

    /// Maps with fewer output positions use tap groups: Winograd saves nothing on a 2x2 map.
    static let winogradMinimumPositions = 9

    /// The output height (or width) for an input height (or width).
    public func outputSize(_ input: Int) -> Int { padding.layout(input: input, kernel: kernel, stride: stride).output }

    /// Convolves `input`, adds `residual` (same shape as the output) if given, then applies `activation`;
    /// the kernels run at `level`.
    public func callAsFunction(
        _ input: Tensor, residual: Tensor? = nil, activation: Activation, level: SIMDLevel = .current
    ) -> Tensor {
        precondition(input.channels == inputChannels, "conv expects \(inputChannels) channels, got \(input.channels)")
        let outH = outputSize(input.height), outW = outputSize(input.width)
        if let residual {
            precondition(
                residual.batch == input.batch && residual.height == outH && residual.width == outW
                    && residual.channels == outputChannels, "residual shape differs from the convolution's output")
        }
        return Tensor(batch: input.batch, height: outH, width: outW, channels: outputChannels) { output in
            input.values.withUnsafeBufferPointer { x in
                guard let x = x.baseAddress else { return }
                withOptionalPointer(residual?.values) { residual in
                    if isWinograd, outH * outW >= Self.winogradMinimumPositions {
                        let transformed = winogradWeights.value {
                            WinogradWeights(packed: weights, inputs: inputChannels, outputs: outputChannels, precision: precision)
                        }
                        return winograd(
                            input, weights: transformed, x: x, output: output, residual: residual, activation: activation,
                            level: level)
                    }
                    if pointwiseWeights != nil {
                        return pointwise(
                            rows: input.batch * outH * outW, x: x, output: output, residual: residual, activation: activation,
                            level: level)
                    }
                    let plan = plans.plan(height: input.height, width: input.width) { makePlan(height: $0, width: $1) }
                    for group in plan.groups {
                        run(
                            group, plan: plan, input: input, x: x, output: output, residual: residual, activation: activation,
                            level: level)
                    }
                }
            }
        }
    }

    /// A 1x1 stride-1 convolution of `rows` input rows (`inputChannels` floats each) into as many
    /// output rows (+ `residual` rows, then `activation`), in chunks that stay in cache.
    func pointwise(
        rows: Int, x: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?,
        activation: Activation, level: SIMDLevel
    ) {
        guard let weights = pointwiseWeights else { preconditionFailure("not a 1x1 stride-1 convolution") }
        let cin = inputChannels, cout = outputChannels
        let chunk = max(32, (1 << 18) / max(cin, cout))
        bias.withUnsafeBufferPointer { b in
            var start = 0
            while start < rows {
                let count = min(chunk, rows - start)
                let destination = output + start * cout
                weights.multiply(
                    count, x + start * cin, lda: cin, into: destination, ldc: cout, bias: b.baseAddress,
                    residual: residual.map { $0 + start * cout }, ldr: cout, activation: activation, level: level)
                start += count
            }
        }
    }

    /// One group: im2col of its positions and taps in row chunks, then one GEMM per chunk
    /// that adds the bias, and the residual and ReLU when the group covers every position.
    private func run(
        _ group: TapGroup, plan: ConvPlan, input: Tensor, x: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        residual: UnsafePointer<Float>?, activation: Activation, level: SIMDLevel
    ) {
        let depth = group.depth(inputChannels), cout = outputChannels
        let groupPositions = group.positions.count
        let rows = input.batch * groupPositions
        let chunk = max(32, min(rows, (1 << 19) / depth))
        let direct = plan.groups.count == 1
        let columnBuffer = ScratchBuffer<Float>(uninitializedCount: chunk * depth)
        let stagingBuffer = direct ? nil : ScratchBuffer<Float>(uninitializedCount: chunk * cout)
        let columns = columnBuffer.base, staging = stagingBuffer?.base
        defer { withExtendedLifetime((columnBuffer, stagingBuffer)) {} }
        let outputPositions = plan.outputHeight * plan.outputWidth
        bias.withUnsafeBufferPointer { b in
            var start = 0
            while start < rows {
                let count = min(chunk, rows - start)
                for r in 0..<count {
                    let n = (start + r) / groupPositions, p = Int(group.positions[(start + r) % groupPositions])
                    gather(
                        x, input: input, plan: plan, n: n, oh: p / plan.outputWidth, ow: p % plan.outputWidth,
                        runs: group.runs, into: columns + r * depth)
                }
                guard let staging else {
                    group.weights.multiply(
                        count, columns, lda: depth, into: output + start * cout, ldc: cout, bias: b.baseAddress,
                        residual: residual.map { $0 + start * cout }, ldr: cout, activation: activation, level: level)
                    start += count
                    continue
                }
                group.weights.multiply(count, columns, lda: depth, into: staging, ldc: cout, bias: b.baseAddress, level: level)
                for r in 0..<count {
                    let n = (start + r) / groupPositions, p = Int(group.positions[(start + r) % groupPositions])
                    let offset = (n * outputPositions + p) * cout
                    let source = staging + r * cout, destination = output + offset
                    if let residual {
                        for o in 0..<cout { destination[o] = source[o] + residual[offset + o] }
                    } else {
                        destination.update(from: source, count: cout)
                    }
                    activation.apply(destination, count: cout)
                }
                start += count
            }
        }
    }

    /// Copies the input patch of output position (n, oh, ow) for the given tap runs; padding reads as zero.
    @inline(__always)
    private func gather(
        _ x: UnsafePointer<Float>, input: Tensor, plan: ConvPlan, n: Int, oh: Int, ow: Int, runs: [TapRun],
        into destination: UnsafeMutablePointer<Float>
    ) {
        let c = inputChannels
        for run in runs {
            let out = destination + run.offset * c
            let ih = oh * stride - plan.padTop + run.row
            guard ih >= 0 && ih < input.height else {
                out.update(repeating: 0, count: run.count * c)
                continue
            }
            let iw0 = ow * stride - plan.padLeft + run.column
            let low = max(0, -iw0), high = max(low, min(run.count, input.width - iw0))
            if low > 0 { out.update(repeating: 0, count: low * c) }
            if high > low {
                out.advanced(by: low * c).update(
                    from: x + ((n * input.height + ih) * input.width + iw0 + low) * c, count: (high - low) * c)
            }
            if high < run.count { out.advanced(by: high * c).update(repeating: 0, count: (run.count - high) * c) }
        }
    }

    /// Groups the output positions of an input size by the taps that land inside the image.
    private func makePlan(height: Int, width: Int) -> ConvPlan {
        let (outH, padTop) = padding.layout(input: height, kernel: kernel, stride: stride)
        let (outW, padLeft) = padding.layout(input: width, kernel: kernel, stride: stride)
        precondition(outH > 0 && outW > 0, "input \(height)x\(width) is too small for this convolution")
        var byMask: [[Bool]: [Int32]] = [:]
        var order: [[Bool]] = []
        var usedTaps = 0
        for oh in 0..<outH {
            for ow in 0..<outW {
                let mask = (0..<kernel * kernel).map { t in
                    let ih = oh * stride - padTop + t / kernel, iw = ow * stride - padLeft + t % kernel
                    return ih >= 0 && ih < height && iw >= 0 && iw < width
                }
                usedTaps += mask.count { $0 }
                if byMask[mask] == nil { order.append(mask) }
                byMask[mask, default: []].append(Int32(oh * outW + ow))
            }
        }
        let allTaps = outH * outW * kernel * kernel
        let everything = [Bool](repeating: true, count: kernel * kernel)
        let groups: [TapGroup]
        if Double(usedTaps) > 0.85 * Double(allTaps) {
            groups = [
                TapGroup(
                    positions: (0..<Int32(outH * outW)).map { $0 }, mask: everything, kernel: kernel,
                    weights: weights, rowsPerTap: inputChannels * outputChannels, columns: outputChannels,
                    precision: precision)
            ]
        } else {
            groups = order.map { mask in
                TapGroup(
                    positions: byMask[mask] ?? [], mask: mask, kernel: kernel, weights: weights,
                    rowsPerTap: inputChannels * outputChannels, columns: outputChannels, precision: precision)
            }
        }
        return ConvPlan(outputHeight: outH, outputWidth: outW, padTop: padTop, padLeft: padLeft, groups: groups)
    }
}

/// A run of consecutive taps in one kernel row: `count` taps from (`row`, `column`),
/// stored at tap slot `offset` of an im2col row.
struct TapRun: Sendable {
    let row: Int
    let column: Int
    let count: Int
    let offset: Int
}

/// Output positions that share one set of taps, with the weight rows of those taps.
struct TapGroup: Sendable {
    let positions: [Int32]
    let runs: [TapRun]
    let taps: Int
    /// `taps * inputChannels` x `outputChannels`, the selected taps' rows of the full matrix.
    let weights: GEMMWeights

    init(
        positions: [Int32], mask: [Bool], kernel: Int, weights all: [Float], rowsPerTap: Int, columns: Int,
        precision: Precision
    ) {
        let selected = mask.indices.filter { mask[$0] }
        var runs: [TapRun] = []
        for (slot, tap) in selected.enumerated() {
            if let last = runs.last, last.row == tap / kernel, last.column + last.count == tap % kernel {
                runs[runs.count - 1] = TapRun(row: last.row, column: last.column, count: last.count + 1, offset: last.offset)
            } else {
                runs.append(TapRun(row: tap / kernel, column: tap % kernel, count: 1, offset: slot))
            }
        }
        self.positions = positions
        self.runs = runs
        self.taps = selected.count
        self.weights = GEMMWeights(
            selected.count == mask.count ? all : selected.flatMap { all[$0 * rowsPerTap..<($0 + 1) * rowsPerTap] },
            rows: selected.count * rowsPerTap / columns, columns: columns, precision: precision)
    }

    /// The im2col row length for `channels` input channels.
    func depth(_ channels: Int) -> Int { taps * channels }
}

/// How one convolution runs on one input size.
struct ConvPlan: Sendable {
    let outputHeight: Int
    let outputWidth: Int
    /// Zero rows above and columns left of the input.
    let padTop: Int
    let padLeft: Int
    let groups: [TapGroup]
}

/// Plans by input size, built once and shared by all threads.
final class PlanCache: @unchecked Sendable {
    private var plans: [Int: ConvPlan] = [:]
    private let lock = NSLock()

    func plan(height: Int, width: Int, make: (Int, Int) -> ConvPlan) -> ConvPlan {
        lock.lock()
        defer { lock.unlock() }
        let key = height << 32 | width
        if let plan = plans[key] { return plan }
        let plan = make(height, width)
        plans[key] = plan
        return plan
    }
}

/// A value made on first use and shared by all threads.
final class Lazy<Value: Sendable>: @unchecked Sendable {
    private var value: Value?
    private let lock = NSLock()

    /// The value, made by `make` on the first call.
    func value(make: () -> Value) -> Value {
        lock.lock()
        defer { lock.unlock() }
        if let value { return value }
        let made = make()
        value = made
        return made
    }
}

/// Calls `body` with the array's base address, or with nil for no array.
@inline(__always)
func withOptionalPointer<R>(_ array: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let array else { return body(nil) }
    return array.withUnsafeBufferPointer { body($0.baseAddress) }
}
