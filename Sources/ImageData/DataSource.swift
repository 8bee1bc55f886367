import Common
import Foundation

/// The one entry point for data: "cifar10" (the official archives under a root folder,
/// downloaded when missing) or a path (a CIFAR-10 batch folder or an image folder).
public enum DataSource {
    /// Opens the data named by `spec`.
    ///
    /// - Parameters:
    ///   - spec: "cifar10" for the official CIFAR-10 under `root`; otherwise a path to an
    ///     unpacked CIFAR-10 batch folder (binary or python), a folder holding one
    ///     (`cifar/` with `cifar-10-batches-py/`), an image folder (`<class>/*.jpg`,
    ///     flat, or `train/` + `test/`), or an `ImageFileList` (`*.files.json`, train only).
    ///   - root: where "cifar10" looks for, and downloads, the archives.
    ///   - download: whether "cifar10" may download the archive when it is missing.
    ///   - skipBad: skip undecodable images in folders (warning and count) instead of failing.
    ///
    /// Example:
    ///
    ///     let data = try DataSource.open("cifar10", root: "cifar", download: true)
    ///     let train = data.train.limited(to: 1000)
    public static func open(_ spec: String, root: String = "cifar", download: Bool = true, skipBad: Bool = false) throws
        -> DataSplits
    {
        if spec.lowercased() == "cifar10" { return try CIFAR10.open(root: root, download: download) }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: spec, isDirectory: &isFolder) else {
            throw FileError(spec, "no such file or folder (expected \"cifar10\" or a data folder)", kind: .missing)
        }
        if !isFolder.boolValue && spec.hasSuffix(ImageFileList.suffix) {
            return DataSplits(
                train: try ImageFileList.read(spec).dataset(name: URL(fileURLWithPath: spec).lastPathComponent), test: nil)
        }
        guard isFolder.boolValue else {
            throw FileError(spec, "not a folder (expected an image folder, CIFAR-10 batches or a \(ImageFileList.suffix) list)")
        }
        if CIFAR10.isBatchFolder(spec) { return try CIFAR10.load(folder: spec) }
        for archive in [CIFAR10.Archive.python, .binary] where CIFAR10.isBatchFolder(spec + "/" + archive.folder) {
            return try CIFAR10.load(folder: spec + "/" + archive.folder)
        }
        return try ImageFolder.open(spec, skipBad: skipBad)
    }
}
