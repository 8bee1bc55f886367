import Common
import TestSupport
import XCTest

@testable import Networks

/// The depthwise kernel (register tiles, checked edges, masked channel tails) and the fused
/// MBConv block at every level this CPU runs, against direct computation in Double.
final class DepthwiseKernelTests: XCTestCase {
    func values(_ count: Int, _ range: ClosedRange<Float>, _ generator: inout SeededGenerator) -> [Float] {
        (0..<count).map { _ in Float.random(in: range, using: &generator) }
    }

    func depthwise(channels: Int, kernel: Int, stride: Int, padding: Padding, seed: UInt64) -> DepthwiseConvBN {
        var g = SeededGenerator(seed: seed)
        return DepthwiseConvBN(
            torchWeight: values(channels * kernel * kernel, -0.5...0.5, &g), channels: channels, kernel: kernel,
            stride: stride, padding: padding, gamma: values(channels, 0.5...1.5, &g), beta: values(channels, -0.5...0.5, &g),
            mean: values(channels, -0.2...0.2, &g), variance: values(channels, 0.5...2, &g), epsilon: 1e-3)
    }

    func pointwise(inputs: Int, outputs: Int, seed: UInt64) -> ConvBN {
        var g = SeededGenerator(seed: seed)
        return ConvBN(
            torchWeight: values(outputs * inputs, -0.5...0.5, &g), outputChannels: outputs, inputChannels: inputs, kernel: 1,
            stride: 1, padding: .same, gamma: values(outputs, 0.5...1.5, &g), beta: values(outputs, -0.5...0.5, &g),
            mean: values(outputs, -0.2...0.2, &g), variance: values(outputs, 0.5...2, &g), epsilon: 1e-3)
    }

    func tensor(_ n: Int, _ h: Int, _ w: Int, _ c: Int, seed: UInt64, range: ClosedRange<Float> = -1...1) -> Tensor {
        var g = SeededGenerator(seed: seed)
        return Tensor(batch: n, height: h, width: w, channels: c, values: values(n * h * w * c, range, &g))
    }

    /// The depthwise convolution computed directly, in Double, from the folded weights.
    func reference(_ conv: DepthwiseConvBN, _ x: Tensor, activation: Activation) -> [Float] {
        let (outH, top) = conv.layout(x.height)
        let (outW, left) = conv.layout(x.width)
        let c = conv.channels, k = conv.kernel
        var out = [Float](repeating: 0, count: x.batch * outH * outW * c)
        for n in 0..<x.batch {
            for oh in 0..<outH {
                for ow in 0..<outW {
                    for ch in 0..<c {
                        var sum = Double(conv.bias[ch])
                        for kh in 0..<k {
                            for kw in 0..<k {
                                let ih = oh * conv.stride - top + kh, iw = ow * conv.stride - left + kw
                                guard ih >= 0, ih < x.height, iw >= 0, iw < x.width else { continue }
                                sum +=
                                    Double(conv.weights[(kh * k + kw) * c + ch])
                                    * Double(x.values[((n * x.height + ih) * x.width + iw) * c + ch])
                            }
                        }
                        let y: Double =
                            switch activation {
                            case .identity: sum
                            case .relu: max(sum, 0)
                            case .relu6: min(max(sum, 0), 6)
                            }
                        out[((n * outH + oh) * outW + ow) * c + ch] = Float(y)
                    }
                }
            }
        }
        return out
    }

    func testDepthwiseMatchesDirectConvolutionAtEveryLevel() {
        // (channels, kernel, stride, padding, height, width): full and masked channel blocks, maps
        // narrower than the kernel, rows with 8-output tiles and every remainder, both paddings.
        let shapes: [(Int, Int, Int, Padding, Int, Int)] = [
            (16, 3, 1, .same, 5, 13), (37, 5, 1, .same, 4, 20), (48, 5, 2, .same, 9, 23), (5, 3, 2, .symmetric(1), 7, 7),
            (32, 3, 1, .symmetric(1), 1, 1), (21, 5, 2, .same, 2, 3), (64, 3, 2, .same, 6, 17), (16, 5, 1, .same, 3, 2),
        ]
        for (index, shape) in shapes.enumerated() {
            let (c, k, s, padding, h, w) = shape
            let conv = depthwise(channels: c, kernel: k, stride: s, padding: padding, seed: UInt64(index))
            let x = tensor(2, h, w, c, seed: UInt64(50 + index), range: -4...4)
            for activation in [Activation.identity, .relu6] {
                let expected = reference(conv, x, activation: activation)
                for level in SIMDLevel.supported {
                    let output = conv(x, activation: activation, level: level)
                    assertClose(output.values, expected, rtol: 1e-5, atol: 1e-5, "\(level), shape \(index), \(activation)")
                }
            }
        }
    }

    func testFusedBlockMatchesLayerByLayerAtEveryLevel() {
        // (inputs, expansion, outputs, kernel, stride, side): with and without expansion and shortcut,
        // bands that wrap the ring of expanded rows, odd sides with "same" padding.
        let shapes = [
            (8, 6, 8, 3, 1, 29), (16, 6, 24, 5, 2, 27), (24, 6, 24, 5, 1, 21), (32, 1, 16, 3, 1, 40), (19, 3, 11, 3, 2, 33),
        ]
        for (index, shape) in shapes.enumerated() {
            let (cin, expansion, cout, k, s, side) = shape
            let hidden = cin * expansion
            let block = MBConvBlock(
                expand: expansion == 1 ? nil : pointwise(inputs: cin, outputs: hidden, seed: UInt64(10 * index)),
                depthwise: depthwise(channels: hidden, kernel: k, stride: s, padding: .same, seed: UInt64(10 * index + 1)),
                project: pointwise(inputs: hidden, outputs: cout, seed: UInt64(10 * index + 2)),
                residual: s == 1 && cin == cout)
            let x = tensor(2, side, side, cin, seed: UInt64(90 + index))
            for level in SIMDLevel.supported {
                let expanded = block.expand.map { $0(x, activation: .relu6, level: level) } ?? x
                let layered = block.project(
                    block.depthwise(expanded, activation: .relu6, level: level), residual: block.residual ? x : nil,
                    activation: .identity, level: level)
                let fused = block.fused(x, level: level)
                XCTAssertEqual(
                    [fused.batch, fused.height, fused.width, fused.channels],
                    [layered.batch, layered.height, layered.width, layered.channels])
                assertClose(fused.values, layered.values, rtol: 1e-5, atol: 1e-5, "\(level), shape \(index)")
            }
        }
    }

    func testPointwiseReLU6ClampsInTheEpilogueAtEveryLevel() {
        // 24 and 70 columns: a narrow tile and a full tile plus a one-vector remainder at AVX-512.
        for (inputs, outputs) in [(13, 24), (40, 70)] {
            let conv = pointwise(inputs: inputs, outputs: outputs, seed: UInt64(outputs))
            let x = tensor(1, 5, 7, inputs, seed: 7, range: -8...8)
            let plain = conv(x, activation: .identity, level: .generic).values
            let expected = plain.map { min(max($0, 0), 6) }
            XCTAssertTrue(plain.contains { $0 > 6 } && plain.contains { $0 < 0 }, "the case reaches both clamps")
            for level in SIMDLevel.supported {
                assertClose(conv(x, activation: .relu6, level: level).values, expected, rtol: 1e-5, atol: 1e-5, "\(level)")
            }
        }
    }
}

/// The bf16 GEMM: AVX512-BF16 against the portable reference of the same roundings, and both
/// close to float32; a bf16 network close to its fp32 twin.
final class BF16Tests: XCTestCase {
    func matrix(_ rows: Int, _ columns: Int, seed: UInt64) -> [Float] {
        var g = SeededGenerator(seed: seed)
        return (0..<rows * columns).map { _ in Float.random(in: -1...1, using: &g) }
    }

    func testBF16GEMMMatchesTheReferenceAndFloat32() {
        // Odd k (a padded pair), widths of 1 to 4 vectors with masked tails, row counts off the tile.
        for (m, k, n) in [(7, 13, 24), (20, 64, 70), (1, 1, 5), (13, 150, 200)] {
            let a = matrix(m, k, seed: UInt64(m)), b = matrix(k, n, seed: UInt64(k)), bias = matrix(1, n, seed: 9)
            let exact = GEMMWeights(b, rows: k, columns: n), rounded = GEMMWeights(b, rows: k, columns: n, precision: .bf16)
            func run(_ weights: GEMMWeights, _ level: SIMDLevel) -> [Float] {
                var c = [Float](repeating: .nan, count: m * n)
                a.withUnsafeBufferPointer { a in
                    bias.withUnsafeBufferPointer { bias in
                        c.withUnsafeMutableBufferPointer { c in
                            weights.multiply(
                                m, a.baseAddress!, lda: k, into: c.baseAddress!, ldc: n, bias: bias.baseAddress,
                                activation: .relu6, level: level)
                        }
                    }
                }
                return c
            }
            let reference = run(rounded, .generic), float32 = run(exact, .generic)
            // bf16 keeps 8 bits of mantissa: each product is off by about 2^-8 relative.
            assertClose(reference, float32, rtol: 0.02, atol: 0.02 * Float(k).squareRoot(), "bf16 vs fp32, \(m)x\(k)x\(n)")
            XCTAssertNotEqual(reference, float32, "the rounding is real")
            if Precision.bf16.isSupported {
                assertClose(run(rounded, .avx512), reference, rtol: 1e-5, atol: 1e-5, "AVX512-BF16 vs reference, \(m)x\(k)x\(n)")
            }
        }
    }

    func testBF16NetworkStaysCloseToFloat32() throws {
        let layers = EfficientNetLiteTests.tiny.layers
        let state = LayerWeights.random(layers, seed: 4)
        let exact = try EfficientNetLite(
            stateDict: state, path: "random", architecture: EfficientNetLiteTests.tiny, model: "tiny")
        let rounded = try EfficientNetLite(
            stateDict: state, path: "random", architecture: EfficientNetLiteTests.tiny, model: "tiny", precision: .bf16)
        var g = SeededGenerator(seed: 5)
        let x = Tensor(
            batch: 3, height: 36, width: 36, channels: 3,
            values: (0..<3 * 36 * 36 * 3).map { _ in Float.random(in: -1...1, using: &g) })
        let a = exact(x), b = rounded(x)
        for row in 0..<3 {
            let u = a[row * exact.outputDimension..<(row + 1) * exact.outputDimension]
            let v = b[row * exact.outputDimension..<(row + 1) * exact.outputDimension]
            let dot = zip(u, v).map { Double($0) * Double($1) }.reduce(0, +)
            let cosine =
                dot / (u.map { Double($0 * $0) }.reduce(0, +).squareRoot() * v.map { Double($0 * $0) }.reduce(0, +).squareRoot())
            XCTAssertGreaterThan(cosine, 0.99, "row \(row)")
            XCTAssertLessThan(cosine, 1 - 1e-9, "row \(row): the bf16 network rounds")
        }
    }
}
