import Common
import Foundation
import PythonPickle

/// PyTorch's legacy serialization (`torch.save` before 1.6, or with
/// `_use_new_zipfile_serialization=False`): five things back to back.
///
/// 1. a pickle of the magic number `0x1950a86a20f9469cfc6c`, 2. a pickle of the protocol
/// version 1001, 3. a pickle of a system-info dict, 4. the pickled state dict, whose tensors
/// name storages by persistent id `('storage', <type>, key, location, numel, view)`,
/// 5. a pickle of the list of storage keys, then per key in that order: a little-endian
/// int64 element count and the raw little-endian elements.
///
/// Pickles are read with the restricted reader and `TorchCheckpoint`'s allowlist; nothing is
/// executed. Every count is checked against the bytes left before anything is allocated.
enum TorchLegacyCheckpoint {
    /// The first two pickles, byte for byte: the magic number (a 10-byte LONG1) and 1001.
    static let header: [UInt8] = [
        0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E,
        0x80, 0x02, 0x4D, 0xE9, 0x03, 0x2E,
    ]

    /// Whether `data` starts like a legacy checkpoint.
    static func matches(_ data: Data) -> Bool { data.starts(with: header) }

    /// A storage named by the state dict, with the element count its persistent id declares.
    struct DeclaredStorage {
        let storage: TorchCheckpoint.Storage
        let count: Int
    }

    /// Reads every tensor of the legacy checkpoint `data` (the file at `path`).
    static func read(_ path: String, data: Data) throws -> [String: NamedTensor] {
        guard matches(data) else { throw FileError(path, "not a legacy torch checkpoint (magic number or protocol differs)") }
        let bytes = [UInt8](data)
        let info = try Pickle.load(bytes, at: header.count, path: path, allowlist: [:])
        guard case .dict = info.value else {
            throw FileError(path, "legacy checkpoint: system info is a \(info.value.kind), not a dict")
        }
        var declared: [String: DeclaredStorage] = [:]
        let root = try Pickle.load(bytes, at: info.end, path: path, allowlist: TorchCheckpoint.allowlist) { id in
            guard let fields = id.elements, fields.count == 6, fields[0].text == "storage",
                case .global(let typeName) = fields[1], let type = TorchCheckpoint.storageTypes[typeName],
                let key = fields[2].text, let count = fields[4].int, count >= 0
            else { throw FileError(path, "unexpected persistent id \(id.kind) in the legacy state dict") }
            guard case .none = fields[5] else {
                throw FileError(path, "storage \(key) is a view of another storage (not supported)")
            }
            let storage = TorchCheckpoint.Storage(key: key, type: type)
            declared[key] = DeclaredStorage(storage: storage, count: count)
            return .native(storage)
        }
        guard case .dict(let dict) = root.value else {
            throw FileError(path, "legacy checkpoint holds a \(root.value.kind), not a state dict")
        }
        let keyList = try Pickle.load(bytes, at: root.end, path: path, allowlist: [:])
        guard let keys = keyList.value.elements?.compactMap(\.text), keys.count == keyList.value.elements?.count else {
            throw FileError(path, "legacy checkpoint: the storage key list is a \(keyList.value.kind), not a list of strings")
        }
        let ranges = try storageRanges(keys: keys, declared: declared, bytes: bytes, start: keyList.end, path: path)
        var tensors: [String: NamedTensor] = [:]
        try bytes.withUnsafeBytes { raw in
            for (key, value) in dict.entries {
                guard let name = key.text else { throw FileError(path, "state dict key is a \(key.kind), not a string") }
                guard case .native(let native) = value, let view = native as? TorchCheckpoint.View else {
                    throw FileError(path, "state dict entry \(name) is a \(value.kind), not a tensor")
                }
                guard let range = ranges[view.storage.key] else {
                    throw FileError(path, "storage \(view.storage.key) of tensor \(name) is missing from the file")
                }
                tensors[name] = try TorchCheckpoint.gather(
                    view, from: UnsafeRawBufferPointer(rebasing: raw[range]), path: path, name: name)
            }
        }
        return tensors
    }

    /// The byte range of each storage's elements, walking the storages after the key list.
    static func storageRanges(
        keys: [String], declared: [String: DeclaredStorage], bytes: [UInt8], start: Int, path: String
    ) throws -> [String: Range<Int>] {
        var ranges: [String: Range<Int>] = [:]
        var offset = start
        for key in keys {
            guard let storage = declared[key], let size = WeightFile.elementSize(storage.storage.type) else {
                throw FileError(path, "storage \(key) is listed but no tensor declares it")
            }
            guard bytes.count - offset >= 8 else {
                throw FileError(
                    path, "truncated: storage \(key) has no element count at byte \(offset) (file ends at \(bytes.count))",
                    kind: .truncated)
            }
            let count = bytes[offset..<offset + 8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            guard count == UInt64(storage.count) else {
                throw FileError(path, "storage \(key) holds \(count) elements but its tensor declares \(storage.count)")
            }
            let (length, overflow) = storage.count.multipliedReportingOverflow(by: size)
            guard !overflow, length <= bytes.count - offset - 8 else {
                throw FileError(
                    path,
                    "truncated: storage \(key) needs \(storage.count) elements at byte \(offset + 8) but the file ends at \(bytes.count)",
                    kind: .truncated)
            }
            ranges[key] = offset + 8..<offset + 8 + length
            offset += 8 + length
        }
        return ranges
    }
}
