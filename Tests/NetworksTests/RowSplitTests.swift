import Common
import ImageData
import XCTest

@testable import Networks

/// `RowSplit`: a product split across threads by output rows, and one image embedded on two threads,
/// give exactly what one thread gives.
final class RowSplitTests: XCTestCase {
    private func values(_ count: Int, seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Float.random(in: -1...1, using: &generator) }
    }

    func testSplitProductsEqualOneThreadsAtEveryLevel() {
        // Row counts on and off the kernel tiles, with bias, a residual and ReLU6.
        for (m, k, n) in [(1000, 64, 24), (257, 150, 70), (97, 576, 64)] {
            let a = values(m * k, seed: 1), b = values(k * n, seed: 2), bias = values(n, seed: 3),
                residual = values(m * n, seed: 4)
            let weights = GEMMWeights(b, rows: k, columns: n)
            XCTAssertGreaterThanOrEqual(m * k * n, RowSplit.minimumProducts, "large enough to be split")
            for level in SIMDLevel.supported {
                func run(threads: Int) -> [Float] {
                    var c = [Float](repeating: .nan, count: m * n)
                    RowSplit.with(threads) {
                        a.withUnsafeBufferPointer { a in
                            bias.withUnsafeBufferPointer { bias in
                                residual.withUnsafeBufferPointer { residual in
                                    c.withUnsafeMutableBufferPointer { c in
                                        weights.multiply(
                                            m, a.baseAddress!, lda: k, into: c.baseAddress!, ldc: n, bias: bias.baseAddress,
                                            residual: residual.baseAddress, ldr: n, activation: .relu6, level: level)
                                    }
                                }
                            }
                        }
                    }
                    return c
                }
                XCTAssertEqual(run(threads: 2), run(threads: 1), "m \(m), k \(k), n \(n), \(level)")
                XCTAssertEqual(run(threads: 3), run(threads: 1), "m \(m), k \(k), n \(n), \(level), three threads")
            }
        }
    }

    func testOneImageOnTwoThreadsEqualsOneThread() async throws {
        let weights = try await Weights.load(.random(seed: 5))
        let image = RGBImage(width: 40, height: 36, pixels: values(40 * 36 * 3, seed: 6).map { UInt8(($0 + 1) * 127) })
        for preprocessing in [Preprocessing.cifar, .imagenet] {
            let one = Embedder(network: weights.network, preprocessing: preprocessing, threads: 1).embed([image])
            let two = Embedder(network: weights.network, preprocessing: preprocessing, threads: 2).embed([image])
            XCTAssertEqual(two.values, one.values, "\(preprocessing.name)")
        }
    }
}
