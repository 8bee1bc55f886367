import Foundation

/// Writes small PyTorch legacy-format checkpoints byte by byte (pickle protocol 2), so tests
/// can craft valid and broken files: a state dict of float32 tensors, each on its own storage.
struct LegacyCheckpointBuilder {
    /// One tensor: its name, shape, the storage's declared element count and its stored values.
    struct Entry {
        var name: String
        var shape: [Int]
        var declaredCount: Int
        var values: [Float]
        var storageType = "FloatStorage"
    }

    var entries: [Entry] = []
    /// The global the state dict is built from (a foreign one must be refused).
    var dictGlobal = ("collections", "OrderedDict")

    mutating func add(_ name: String, shape: [Int], values: [Float]) {
        entries.append(Entry(name: name, shape: shape, declaredCount: values.count, values: values))
    }

    /// The whole file.
    var bytes: [UInt8] {
        var out = TorchLegacyHeader.bytes
        out += [0x80, 0x02, 0x7D, 0x2E]  // system info: {}
        var dict: [UInt8] = [0x80, 0x02] + global(dictGlobal.0, dictGlobal.1) + [0x29, 0x52]
        for (i, entry) in entries.enumerated() {
            dict += string(entry.name)
            dict += global("torch._utils", "_rebuild_tensor_v2") + [0x28]
            dict +=
                [0x28] + string("storage") + global("torch", entry.storageType) + string("\(i)") + string("cpu")
                + int(entry.declaredCount) + [0x4E, 0x74, 0x51]
            dict +=
                int(0) + tuple(entry.shape) + tuple(strides(entry.shape)) + [0x89] + global("collections", "OrderedDict") + [
                    0x29, 0x52,
                ]
            dict += [0x74, 0x52, 0x73]
        }
        out += dict + [0x2E]
        out += [0x80, 0x02, 0x5D, 0x28] + entries.indices.flatMap { string("\($0)") } + [0x65, 0x2E]
        for entry in entries {
            out += withUnsafeBytes(of: Int64(entry.declaredCount).littleEndian, Array.init)
            out += entry.values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
        }
        return out
    }

    private func global(_ module: String, _ name: String) -> [UInt8] { [0x63] + Array("\(module)\n\(name)\n".utf8) }

    private func string(_ text: String) -> [UInt8] {
        [0x58] + withUnsafeBytes(of: UInt32(text.utf8.count).littleEndian, Array.init) + Array(text.utf8)
    }

    private func int(_ value: Int) -> [UInt8] { [0x4A] + withUnsafeBytes(of: Int32(value).littleEndian, Array.init) }

    private func tuple(_ values: [Int]) -> [UInt8] { [0x28] + values.flatMap(int) + [0x74] }

    private func strides(_ shape: [Int]) -> [Int] { shape.indices.map { shape[($0 + 1)...].reduce(1, *) } }
}

/// The two fixed pickles that open every legacy checkpoint (magic number, protocol 1001).
enum TorchLegacyHeader {
    static let bytes: [UInt8] = [
        0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E,
        0x80, 0x02, 0x4D, 0xE9, 0x03, 0x2E,
    ]
}
