import Common
import Foundation

/// A named tensor from a weight file: its shape and float32 values in row-major order.
public struct NamedTensor: Sendable {
    public let shape: [Int]
    public let values: [Float]

    public init(shape: [Int], values: [Float]) {
        precondition(values.count == shape.reduce(1, *), "\(values.count) values for shape \(shape)")
        self.shape = shape
        self.values = values
    }
}

/// Reading weight files, with the format detected from the content (never the name).
///
/// Accepted: `torch.save` zip checkpoints and PyTorch's legacy (pre-1.6) serialization
/// (a state dict of tensors, read with the restricted pickle reader), and safetensors. Element types float32, float64, float16,
/// bfloat16 and int64 (`num_batches_tracked`) are converted to float32.
public enum WeightFile {
    /// Reads every tensor of the file at `path`, keyed by its name in the file.
    public static func read(_ path: String) throws -> [String: NamedTensor] {
        try RegularFile.check(path)
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw FileError(path, "cannot read weights (\(error.localizedDescription))")
        }
        if data.starts(with: [0x50, 0x4B, 0x03, 0x04]) || data.starts(with: [0x50, 0x4B, 0x05, 0x06]) {
            return try TorchCheckpoint.read(path, data: data)
        }
        if data.starts(with: [0x80]) {
            guard TorchLegacyCheckpoint.matches(data) else {
                throw FileError(path, "a pickle but not a torch checkpoint (no legacy torch.save magic number)")
            }
            return try TorchLegacyCheckpoint.read(path, data: data)
        }
        return try SafeTensors.decode(data, path: path)
    }

    /// Decodes little-endian elements of a named type ("F32", "F64", "F16", "BF16") to float32.
    static func floats(_ bytes: UnsafeRawBufferPointer, type: String, path: String, name: String) throws -> [Float] {
        switch type {
        case "F32":
            return (0..<bytes.count / 4).map { bytes.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) }
        case "F64":
            return (0..<bytes.count / 8).map { Float(bytes.loadUnaligned(fromByteOffset: 8 * $0, as: Double.self)) }
        case "F16":
            return (0..<bytes.count / 2).map {
                Float(Float16(bitPattern: bytes.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)))
            }
        case "BF16":
            return (0..<bytes.count / 2).map {
                Float(bitPattern: UInt32(bytes.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)) << 16)
            }
        case "I64":
            return (0..<bytes.count / 8).map { Float(bytes.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) }
        default:
            throw FileError(path, "tensor \(name) has element type \(type); only F32, F64, F16 and BF16 are supported")
        }
    }

    /// Bytes per element of a type accepted by `floats`, or nil.
    static func elementSize(_ type: String) -> Int? {
        ["F32": 4, "F64": 8, "F16": 2, "BF16": 2, "I64": 8][type]
    }
}
