/// Max pooling with a 3x3 window, stride 2 and padding 1 (padding never wins), NHWC.
public func maxPool3x3Stride2(_ input: Tensor) -> Tensor {
    let outH = (input.height - 1) / 2 + 1, outW = (input.width - 1) / 2 + 1, c = input.channels
    return Tensor(batch: input.batch, height: outH, width: outW, channels: c) { out in
        input.values.withUnsafeBufferPointer { x in
            for n in 0..<input.batch {
                for oh in 0..<outH {
                    for ow in 0..<outW {
                        let o = out + ((n * outH + oh) * outW + ow) * c
                        o.update(repeating: -.infinity, count: c)
                        for ih in max(0, 2 * oh - 1)...min(input.height - 1, 2 * oh + 1) {
                            for iw in max(0, 2 * ow - 1)...min(input.width - 1, 2 * ow + 1) {
                                let base = ((n * input.height + ih) * input.width + iw) * c
                                for k in 0..<c { o[k] = max(o[k], x[base + k]) }
                            }
                        }
                    }
                }
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
