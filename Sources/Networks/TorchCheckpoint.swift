import Common
import Foundation
import ZIPFoundation

/// `torch.save` zip checkpoints: `<prefix>/data.pkl` (a pickled state dict) and one
/// `<prefix>/data/<key>` entry of raw little-endian bytes per tensor storage.
///
/// The pickle is read with the restricted reader; the only globals allowed are
/// `collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`,
/// `torch._utils._rebuild_parameter` and the storage types. Anything else is rejected.
enum TorchCheckpoint {
    /// A storage referenced by a persistent id: its zip entry key and element type.
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

    static let storageTypes = ["torch.FloatStorage": "F32", "torch.DoubleStorage": "F64", "torch.HalfStorage": "F16", "torch.BFloat16Storage": "BF16",
                               "torch.LongStorage": "I64"]

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
    static func read(_ path: String) throws -> [String: NamedTensor] {
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw FileError(path, "torch checkpoint is not a complete zip archive (truncated?): \(error)")
        }
        guard let pickleEntry = archive.first(where: { $0.path.hasSuffix("data.pkl") && $0.path.split(separator: "/").count == 2 })
        else { throw FileError(path, "torch checkpoint has no <name>/data.pkl") }
        let prefix = String(pickleEntry.path.dropLast("data.pkl".count))
        let root = try Pickle.load(try contents(of: pickleEntry, in: archive, path: path), path: path + ":" + pickleEntry.path,
                                   allowlist: allowlist) { id in
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
                storages[view.storage.key] = try contents(of: entry, in: archive, path: path)
            }
            tensors[name] = try gather(view, from: storages[view.storage.key] ?? Data(), path: path, name: name)
        }
        return tensors
    }

    /// The tensor's elements in row-major order, following its strides through the storage.
    static func gather(_ view: View, from storage: Data, path: String, name: String) throws -> NamedTensor {
        guard let size = WeightFile.elementSize(view.storage.type) else { throw FileError(path, "tensor \(name): bad storage type") }
        let elements = try storage.withUnsafeBytes { try WeightFile.floats($0, type: view.storage.type, path: path, name: name) }
        let count = view.shape.reduce(1, *)
        guard count > 0 else { return NamedTensor(shape: view.shape, values: []) }
        let last = view.offset + zip(view.shape, view.strides).reduce(0) { $0 + ($1.0 - 1) * $1.1 }
        guard view.offset >= 0, view.strides.allSatisfy({ $0 >= 0 }), last < elements.count else {
            throw FileError(path, "tensor \(name) of shape \(view.shape) reaches past its storage of \(storage.count / size) elements (truncated?)")
        }
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

    static func contents(of entry: Entry, in archive: Archive, path: String) throws -> Data {
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
