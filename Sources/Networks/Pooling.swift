internal import CKernels
import Common

/// Max pooling with a 3x3 window, stride 2 and padding 1 (padding never wins), NHWC; the kernel
/// in CKernels (`pooling.c`) runs at `level`.
public func maxPool3x3Stride2(_ input: Tensor, level: SIMDLevel = .current) -> Tensor {
    let outH = (input.height - 1) / 2 + 1, outW = (input.width - 1) / 2 + 1, c = input.channels
    return Tensor(batch: input.batch, height: outH, width: outW, channels: c) { out in
        input.values.withUnsafeBufferPointer { x in
            guard let x = x.baseAddress else { return }
            for n in 0..<input.batch {
                rn_max_pool_3x3s2(
                    level.rawValue, x + n * input.positions * c, Int32(input.height), Int32(input.width), Int32(c),
                    out + n * outH * outW * c)
            }
        }
    }
}

/// Global average pooling: the mean over height and width, one row of `channels` per image.
public func globalAveragePool(_ input: Tensor) -> [Float] {
    let c = input.channels, positions = input.positions
    var out = [Float](repeating: 0, count: input.batch * c)
    input.values.withUnsafeBufferPointer { x in
        for n in 0..<input.batch {
            for p in 0..<positions {
                let base = (n * positions + p) * c
                for k in 0..<c { out[n * c + k] += x[base + k] }
            }
            for k in 0..<c { out[n * c + k] /= Float(positions) }
        }
    }
    return out
}
