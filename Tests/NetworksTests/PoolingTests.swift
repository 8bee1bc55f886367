import Common
import TestSupport
import XCTest

@testable import Networks

/// The max-pooling kernel at every level this CPU runs against a direct 3x3 / stride 2 / padding 1 maximum.
final class PoolingTests: XCTestCase {
    func testMaxPoolMatchesTheDirectMaximumAtEveryLevel() {
        // Odd and even sides, a 1x1 map, channel counts off the vector widths.
        for (index, (h, w, c)) in [(7, 8, 5), (16, 16, 64), (1, 1, 3), (9, 4, 37)].enumerated() {
            var generator = SeededGenerator(seed: UInt64(index))
            let x = Tensor(
                batch: 2, height: h, width: w, channels: c,
                values: (0..<2 * h * w * c).map { _ in Float.random(in: -5 ... -1, using: &generator) })
            let outH = (h - 1) / 2 + 1, outW = (w - 1) / 2 + 1
            var expected = [Float](repeating: 0, count: 2 * outH * outW * c)
            for n in 0..<2 {
                for oh in 0..<outH {
                    for ow in 0..<outW {
                        for ch in 0..<c {
                            var best = -Float.infinity
                            for ih in 2 * oh - 1...2 * oh + 1 where ih >= 0 && ih < h {
                                for iw in 2 * ow - 1...2 * ow + 1 where iw >= 0 && iw < w {
                                    best = max(best, x.values[((n * h + ih) * w + iw) * c + ch])
                                }
                            }
                            expected[((n * outH + oh) * outW + ow) * c + ch] = best
                        }
                    }
                }
            }
            for level in SIMDLevel.supported {
                let pooled = maxPool3x3Stride2(x, level: level)
                XCTAssertEqual([pooled.height, pooled.width, pooled.channels], [outH, outW, c])
                XCTAssertEqual(pooled.values, expected, "\(level), \(h)x\(w)x\(c): negative inputs, so padding never wins")
            }
        }
    }
}
