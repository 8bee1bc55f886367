import Common
import PythonPickle

extension CIFAR10 {
    /// Reads a python batch: a pickled dict with `data` (N x 3072 uint8, planar) and `labels`.
    static func readPythonBatch(_ path: String) throws -> Batch {
        let batch = try pickledDict(path)
        let data = try PickledArray(batch["data"], path: path)
        guard data.dtype == "u1", data.shape.count == 2, data.shape[1] == imageBytes else {
            throw FileError(
                path, "data is a \(data.dtype) array of shape \(data.shape), expected uint8 N x \(imageBytes)", kind: .wrongShape)
        }
        guard let items = batch["labels"]?.elements, case let labels = items.compactMap(\.int), labels.count == items.count else {
            throw FileError(path, "no list of integer labels")
        }
        guard labels.count == data.shape[0] else {
            throw FileError(path, "\(labels.count) labels for \(data.shape[0]) images")
        }
        return (labels, planarToInterleaved(data.bytes, count: labels.count, stride: imageBytes, offset: 0))
    }

    /// The class names of the python version: `label_names` in `batches.meta`.
    static func pythonClassNames(_ folder: String) throws -> [String] {
        let path = folder + "/batches.meta"
        guard let items = try pickledDict(path)["label_names"]?.elements, case let names = items.compactMap(\.text),
            names.count == items.count, !names.isEmpty
        else { throw FileError(path, "no list of label_names") }
        return names
    }

    /// Loads a pickle that must be a dict, admitting only NumPy's array globals.
    private static func pickledDict(_ path: String) throws -> PickleDict {
        let value = try Pickle.load(
            FileBytes.load(path, maxBytes: FileBytes.maximumDataBytes), path: path, allowlist: Pickle.numpyGlobals)
        guard case .dict(let dict) = value else { throw FileError(path, "expected a pickled dict, found \(value.kind)") }
        return dict
    }
}
