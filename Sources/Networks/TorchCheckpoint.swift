import Common
import Foundation
import PythonPickle
import ZIPFoundation

/// `torch.save` zip checkpoints: `<prefix>/data.pkl` (a pickled state dict) and one
/// `<prefix>/data/<key>` entry of raw little-endian bytes per tensor storage.
///
/// The pickle is read with the restricted reader; the only globals allowed are
/// `collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`,
/// `torch._utils._rebuild_parameter` and the storage types. Anything else is rejected.
enum TorchCheckpoint {
    /// A storage referenced by a persistent id: its key (zip entry or legacy storage key) and element type.
    struct Storage {
        let key: String
        let type: String
    }

    /// A tensor view on a storage, as `_rebuild_tensor_v2` describes it.
    struct View {
        let storage: Storage
        let offset: Int
        let shape: [Int]
        let strides: [Int]
    }

    static let storageTypes = [
        "torch.FloatStorage": "F32", "torch.DoubleStorage": "F64", "torch.HalfStorage": "F16", "torch.BFloat16Storage": "BF16",
        "torch.LongStorage": "I64",
    ]

    static let allowlist: [String: Pickle.Constructor] = {
        var allowed: [String: Pickle.Constructor] = [
            "collections.OrderedDict": { _ in .dict(PickleDict()) },
            "torch._utils._rebuild_tensor_v2": rebuildTensor,
            "torch._utils._rebuild_parameter": { arguments in
                guard let tensor = arguments.first else { throw PickleError("no tensor argument") }
                return tensor
            },
        ]
        for name in storageTypes.keys { allowed[name] = Pickle.record(name) }
        return allowed
    }()

    static func rebuildTensor(_ arguments: [PickleValue]) throws -> PickleValue {
        guard arguments.count >= 4, case .native(let native) = arguments[0], let storage = native as? Storage,
            let offset = arguments[1].int, let shape = arguments[2].elements?.compactMap(\.int),
            let strides = arguments[3].elements?.compactMap(\.int), shape.count == strides.count
        else { throw PickleError("unexpected arguments") }
        return .native(View(storage: storage, offset: offset, shape: shape, strides: strides))
    }

    /// Reads every tensor of the checkpoint at `path`.
    static func read(_ path: String, data: Data) throws -> [String: NamedTensor] {
        guard endsWithCentralDirectory(data) else {
            throw FileError(
                path, "torch checkpoint is not a complete zip archive (no end-of-central-directory record: truncated?)",
                kind: .truncated)
        }
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw FileError(path, "torch checkpoint is not a complete zip archive (truncated?): \(error)", kind: .truncated)
        }
        guard
            let pickleEntry = archive.first(where: { $0.path.hasSuffix("data.pkl") && $0.path.split(separator: "/").count == 2 })
        else { throw FileError(path, "torch checkpoint has no <name>/data.pkl") }
        let prefix = String(pickleEntry.path.dropLast("data.pkl".count))
        let root = try Pickle.load(
            try contents(of: pickleEntry, in: archive, path: path, fileSize: data.count), path: path + ":" + pickleEntry.path,
            allowlist: allowlist
        ) { id in
            guard let fields = id.elements, fields.count >= 3, fields[0].text == "storage",
                case .global(let typeName) = fields[1], let type = storageTypes[typeName], let key = fields[2].text
            else { throw FileError(path, "unexpected persistent id \(id.kind) in data.pkl") }
            return .native(Storage(key: key, type: type))
        }
        guard case .dict(let dict) = root else { throw FileError(path, "data.pkl holds a \(root.kind), not a state dict") }
        var storages: [String: Data] = [:]
        var tensors: [String: NamedTensor] = [:]
        for (key, value) in dict.entries {
            guard let name = key.text else { throw FileError(path, "state dict key is a \(key.kind), not a string") }
            guard case .native(let native) = value, let view = native as? View else {
                throw FileError(path, "state dict entry \(name) is a \(value.kind), not a tensor")
            }
            if storages[view.storage.key] == nil {
                guard let entry = archive[prefix + "data/" + view.storage.key] else {
                    throw FileError(path, "storage data/\(view.storage.key) of tensor \(name) is missing")
                }
                storages[view.storage.key] = try contents(of: entry, in: archive, path: path, fileSize: data.count)
            }
            tensors[name] = try (storages[view.storage.key] ?? Data()).withUnsafeBytes {
                try gather(view, from: $0, path: path, name: name)
            }
        }
        return tensors
    }

    /// The tensor's elements in row-major order, following its strides through the storage.
    ///
    /// Every size is checked against the storage before anything is allocated, with
    /// overflow-checked arithmetic: a view may not reach past its storage, nor hold more
    /// elements than the storage (a broadcast view is no weight tensor).
    static func gather(_ view: View, from storage: UnsafeRawBufferPointer, path: String, name: String) throws -> NamedTensor {
        guard let size = WeightFile.elementSize(view.storage.type) else {
            throw FileError(path, "tensor \(name): bad storage type")
        }
        let available = storage.count / size
        guard view.shape.allSatisfy({ $0 >= 0 }), view.strides.allSatisfy({ $0 >= 0 }), view.offset >= 0 else {
            throw FileError(
                path, "tensor \(name) has a negative size, stride or offset (shape \(view.shape), strides \(view.strides))")
        }
        let count = try checkedProduct(view.shape, path: path, name: name)
        guard count > 0 else { return NamedTensor(shape: view.shape, values: []) }
        guard count <= available else {
            throw FileError(
                path,
                "tensor \(name) of shape \(view.shape) needs \(count) elements but its storage holds \(available) (truncated?)")
        }
        var last = view.offset
        for (extent, stride) in zip(view.shape, view.strides) {
            let (reach, overflow) = (extent - 1).multipliedReportingOverflow(by: stride)
            let (sum, overflow2) = last.addingReportingOverflow(reach)
            guard !overflow, !overflow2 else { throw FileError(path, "tensor \(name): strides \(view.strides) overflow") }
            last = sum
        }
        guard last < available else {
            throw FileError(
                path,
                "tensor \(name) of shape \(view.shape) reaches element \(last) past its storage of \(available) elements (truncated?)"
            )
        }
        let contiguous = zip(view.strides, view.shape.indices).allSatisfy { stride, axis in
            view.shape[(axis + 1)...].reduce(1, *) == stride || view.shape[axis] == 1
        }
        if contiguous {
            let bytes = UnsafeRawBufferPointer(rebasing: storage[view.offset * size..<(view.offset + count) * size])
            return NamedTensor(
                shape: view.shape, values: try WeightFile.floats(bytes, type: view.storage.type, path: path, name: name))
        }
        let elements = try WeightFile.floats(storage, type: view.storage.type, path: path, name: name)
        var values = [Float](repeating: 0, count: count)
        var index = [Int](repeating: 0, count: view.shape.count)
        for i in 0..<count {
            values[i] = elements[view.offset + zip(index, view.strides).reduce(0) { $0 + $1.0 * $1.1 }]
            var axis = view.shape.count - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < view.shape[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
        return NamedTensor(shape: view.shape, values: values)
    }

    /// The product of `shape`, or an error naming the tensor when it overflows.
    static func checkedProduct(_ shape: [Int], path: String, name: String) throws -> Int {
        try shape.reduce(1) { product, extent in
            let (result, overflow) = product.multipliedReportingOverflow(by: extent)
            guard !overflow else { throw FileError(path, "tensor \(name) of shape \(shape) has too many elements") }
            return result
        }
    }

    /// Whether the zip's end-of-central-directory record lies in its last 64 KiB + 22 bytes,
    /// found before handing the file to the zip reader (a truncated file fails at once).
    static func endsWithCentralDirectory(_ data: Data) -> Bool {
        let signature: [UInt8] = [0x50, 0x4B, 0x05, 0x06]
        let tail = data.suffix(65_557)
        guard tail.count >= 22 else { return false }
        var index = tail.endIndex - 22
        while index >= tail.startIndex {
            if tail[index..<index + 4].elementsEqual(signature) { return true }
            index -= 1
        }
        return false
    }

    /// The bytes of one entry; an entry claiming more bytes than `fileSize` (torch never
    /// compresses) is rejected before anything is allocated.
    static func contents(of entry: Entry, in archive: Archive, path: String, fileSize: Int) throws -> Data {
        guard entry.uncompressedSize <= UInt64(fileSize) else {
            throw FileError(
                path, "\(entry.path) claims \(entry.uncompressedSize) bytes, more than the whole file (\(fileSize) bytes)")
        }
        var data = Data()
        data.reserveCapacity(Int(entry.uncompressedSize))
        do {
            _ = try archive.extract(entry, skipCRC32: true) { data.append($0) }
        } catch {
            throw FileError(path, "cannot read \(entry.path) from the checkpoint (truncated?): \(error)")
        }
        guard data.count == Int(entry.uncompressedSize) else {
            throw FileError(path, "\(entry.path) holds \(data.count) of \(entry.uncompressedSize) bytes (truncated)")
        }
        return data
    }
}
