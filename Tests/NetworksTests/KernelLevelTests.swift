import Common
import TestSupport
import XCTest

@testable import Networks

/// The convolution kernels (packed GEMM with fused bias/residual/ReLU, Winograd transforms)
/// at every SIMD level this CPU runs, against a direct convolution in Double.
final class KernelLevelTests: XCTestCase {
    /// A convolution with seeded random weights and batch-norm statistics, and its direct reference.
    struct Case {
        let conv: ConvBN
        let torchWeight: [Float]
        let scale: [Double]
        let shift: [Double]

        init(inputs: Int, outputs: Int, kernel: Int, stride: Int, padding: Int, seed: UInt64) {
            var generator = SeededGenerator(seed: seed)
            func values(_ count: Int, _ range: ClosedRange<Float>) -> [Float] {
                (0..<count).map { _ in Float.random(in: range, using: &generator) }
            }
            torchWeight = values(outputs * inputs * kernel * kernel, -0.5...0.5)
            let gamma = values(outputs, 0.5...1.5), beta = values(outputs, -0.5...0.5)
            let mean = values(outputs, -0.2...0.2), variance = values(outputs, 0.5...2)
            conv = ConvBN(
                torchWeight: torchWeight, outputChannels: outputs, inputChannels: inputs, kernel: kernel, stride: stride,
                padding: .symmetric(padding), gamma: gamma, beta: beta, mean: mean, variance: variance)
            let scale = (0..<outputs).map { Double(gamma[$0]) / (Double(variance[$0]) + 1e-5).squareRoot() }
            self.scale = scale
            shift = (0..<outputs).map { Double(beta[$0]) - Double(mean[$0]) * scale[$0] }
            self.padding = padding
        }

        let padding: Int

        /// The convolution computed directly (+ residual, ReLU).
        func reference(_ input: Tensor, residual: Tensor?, relu: Bool) -> [Float] {
            let k = conv.kernel, cin = conv.inputChannels, cout = conv.outputChannels
            let outH = conv.outputSize(input.height), outW = conv.outputSize(input.width)
            var out = [Float](repeating: 0, count: input.batch * outH * outW * cout)
            for n in 0..<input.batch {
                for oh in 0..<outH {
                    for ow in 0..<outW {
                        for o in 0..<cout {
                            var sum = 0.0
                            for kh in 0..<k {
                                for kw in 0..<k {
                                    let ih = oh * conv.stride - padding + kh, iw = ow * conv.stride - padding + kw
                                    guard ih >= 0, ih < input.height, iw >= 0, iw < input.width else { continue }
                                    for i in 0..<cin {
                                        sum +=
                                            Double(input.values[((n * input.height + ih) * input.width + iw) * cin + i])
                                            * Double(torchWeight[((o * cin + i) * k + kh) * k + kw])
                                    }
                                }
                            }
                            let index = ((n * outH + oh) * outW + ow) * cout + o
                            var y = sum * scale[o] + shift[o]
                            if let residual { y += Double(residual.values[index]) }
                            out[index] = Float(relu ? max(y, 0) : y)
                        }
                    }
                }
            }
            return out
        }
    }

    func tensor(batch: Int, height: Int, width: Int, channels: Int, seed: UInt64) -> Tensor {
        var generator = SeededGenerator(seed: seed)
        let count = batch * height * width * channels
        return Tensor(
            batch: batch, height: height, width: width, channels: channels,
            values: (0..<count).map { _ in Float.random(in: -1...1, using: &generator) })
    }

    func testConvolutionsMatchDirectConvolutionAtEveryLevel() {
        // (inputs, outputs, kernel, stride, padding, height, width): Winograd on odd maps and
        // channel counts off the vector widths; tap groups on a 2x2 map; strided and 1x1 GEMMs.
        let shapes = [
            (19, 37, 3, 1, 1, 7, 9), (16, 70, 3, 1, 1, 5, 5), (8, 24, 3, 1, 1, 2, 2), (13, 33, 3, 2, 1, 9, 8),
            (5, 3, 1, 1, 0, 4, 4), (3, 17, 7, 2, 3, 11, 11),
        ]
        XCTAssertTrue(SIMDLevel.supported.contains(.generic))
        for (index, shape) in shapes.enumerated() {
            let (cin, cout, k, s, p, h, w) = shape
            let test = Case(inputs: cin, outputs: cout, kernel: k, stride: s, padding: p, seed: UInt64(index))
            let input = tensor(batch: 2, height: h, width: w, channels: cin, seed: UInt64(100 + index))
            let outH = test.conv.outputSize(h), outW = test.conv.outputSize(w)
            let residual = tensor(batch: 2, height: outH, width: outW, channels: cout, seed: UInt64(200 + index))
            for (shortcut, relu) in [(nil, false), (residual, true)] {
                let expected = test.reference(input, residual: shortcut, relu: relu)
                for level in SIMDLevel.supported {
                    let output = test.conv(input, residual: shortcut, activation: relu ? .relu : .identity, level: level)
                    assertClose(
                        output.values, expected, rtol: 1e-4, atol: 1e-4,
                        "\(level), shape \(shape), residual \(shortcut != nil), relu \(relu)")
                }
            }
        }
    }
}
