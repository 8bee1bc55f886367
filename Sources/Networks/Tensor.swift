/// A batch of feature maps in NHWC layout (batch x height x width x channels), float32.
public struct Tensor: Sendable {
    public let batch: Int
    public let height: Int
    public let width: Int
    public let channels: Int
    /// `batch * height * width * channels` values, channels fastest.
    public var values: [Float]

    public init(batch: Int, height: Int, width: Int, channels: Int, values: [Float]) {
        precondition(
            values.count == batch * height * width * channels,
            "\(values.count) values for a \(batch)x\(height)x\(width)x\(channels) tensor")
        self.batch = batch
        self.height = height
        self.width = width
        self.channels = channels
        self.values = values
    }

    /// A tensor whose values `fill` writes; every value must be written.
    init(batch: Int, height: Int, width: Int, channels: Int, fill: (UnsafeMutablePointer<Float>) -> Void) {
        let count = batch * height * width * channels
        self.init(
            batch: batch, height: height, width: width, channels: channels,
            values: [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                if let base = buffer.baseAddress { fill(base) }
                initialized = count
            })
    }

    /// The number of spatial positions per image.
    var positions: Int { height * width }
}

/// Calls `body` with uninitialized room for `count` floats that starts on a cache line.
func withAlignedFloats<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) -> R) -> R {
    withUnsafeTemporaryAllocation(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64) { raw in
        body(raw.baseAddress!.bindMemory(to: Float.self, capacity: max(count, 1)))
    }
}
