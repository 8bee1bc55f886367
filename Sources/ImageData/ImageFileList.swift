import Common
import Foundation

/// A list of image files, each with the SHA-256 of its bytes and its label: the rows of a
/// collection that grows and shrinks (`pic2vec add`, `pic2vec remove`), saved as JSON
/// (`<index>.files.json`), which is itself a data spec (`DataSource.open`).
///
/// The hash recognises a file that is already in the list whatever its name or folder.
public struct ImageFileList: Codable, Sendable, Equatable {
    /// Class names in label order (empty when no file has a label).
    public var classNames: [String]
    /// The files in row order.
    public var files: [Entry]

    /// One row's file.
    public struct Entry: Codable, Sendable, Equatable {
        /// The file's absolute path.
        public var path: String
        /// The SHA-256 of its bytes, lowercase hex.
        public var sha256: String
        /// Its label (an index into `classNames`), or -1 when it has none.
        public var label: Int

        public init(path: String, sha256: String, label: Int) {
            self.path = path
            self.sha256 = sha256
            self.label = label
        }
    }

    public init(classNames: [String], files: [Entry]) {
        self.classNames = classNames
        self.files = files
    }

    /// The name every such list ends with.
    public static let suffix = ".files.json"

    /// The largest list read (about 6 million files).
    public static let maximumBytes = 1 << 30

    /// The list at `path`, its values checked (labels in range, hashes well-formed).
    public static func read(_ path: String) throws -> ImageFileList {
        let bytes = try RegularFile.contents(path, maxBytes: maximumBytes, kind: "image file list")
        let list = try JSONFile.decode(ImageFileList.self, from: bytes, path: path, kind: "image file list")
        for (row, entry) in list.files.enumerated() {
            guard (-1..<list.classNames.count).contains(entry.label) else {
                throw FileError(path, "file \(row) has label \(entry.label), outside -1..<\(list.classNames.count)")
            }
            guard entry.sha256.count == 64, entry.sha256.allSatisfy(\.isHexDigit), entry.path.hasPrefix("/") else {
                throw FileError(path, "file \(row) needs an absolute path and a 64-digit SHA-256")
            }
        }
        return list
    }

    /// The list at `path` when the file exists (nil otherwise), checked to name one file per row of `rows`.
    public static func read(_ path: String, rows: Int) throws -> ImageFileList? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let list = try read(path)
        guard list.files.count == rows else {
            throw FileError(path, "lists \(list.files.count) files for \(rows) rows", kind: .mismatch)
        }
        return list
    }

    /// The files of `dataset` with their SHA-256 (read in parallel), or nil when its rows are
    /// not files (CIFAR-10 batches, augmented copies).
    public static func of(_ dataset: any ImageDataset, progress: Bool = false) throws -> ImageFileList? {
        guard let first = dataset.ids.first, FileManager.default.fileExists(atPath: first),
            !(dataset is AugmentedDataset)
        else { return nil }
        let paths = dataset.ids.map(RegularFile.absolute)
        let hashes = try sha256(of: paths, progress: progress)
        let labels = dataset.labels
        return ImageFileList(
            classNames: dataset.classNames,
            files: paths.indices.map { Entry(path: paths[$0], sha256: hashes[$0], label: labels?[$0] ?? -1) })
    }

    /// The SHA-256 of each file's bytes, in parallel (a progress line from 1,000 files when asked).
    public static func sha256(of paths: [String], progress: Bool) throws -> [String] {
        let meter = progress && paths.count >= 1000 ? Common.Progress("hashing", total: paths.count, unit: "files") : nil
        let outcomes = parallelMap(paths.count) { i in
            defer { meter?.advance() }
            return Result { try Digest.hexDigest(ofFile: paths[i], .sha256) }
        }
        meter?.finish()
        return try outcomes.map { try $0.get() }
    }

    /// The lists of consecutive parts of one set as one list, or nil when any is missing or
    /// their classes differ.
    public static func joined(_ lists: [ImageFileList?]) -> ImageFileList? {
        guard let first = lists.first ?? nil else { return nil }
        var files: [Entry] = []
        for list in lists {
            guard let list, list.classNames == first.classNames else { return nil }
            files += list.files
        }
        return ImageFileList(classNames: first.classNames, files: files)
    }

    /// The labels, or nil when no file has one.
    public var labels: [Int]? { files.contains { $0.label >= 0 } ? files.map(\.label) : nil }

    /// The list as a data set named `name`.
    public func dataset(name: String) -> any ImageDataset {
        var print = Fingerprint()
        print.update("image file list \(files.count)\nclasses \(classNames.joined(separator: "\t"))\n")
        for entry in files { print.update("\(entry.path)\t\(entry.label)\t\(entry.sha256)\n") }
        return ImageFileListDataset(
            name: name, ids: files.map(\.path), labels: labels, classNames: classNames, fingerprint: print.finalize())
    }
}

/// The images of an `ImageFileList`, decoded from their files when rows are read.
struct ImageFileListDataset: ImageDataset {
    let name: String
    let ids: [String]
    let labels: [Int]?
    let classNames: [String]
    let fingerprint: String

    var count: Int { ids.count }

    func image(at index: Int) throws -> RGBImage {
        try ImageDecoder.decode(file: ids[index])
    }

    func image(at index: Int, fitting side: Int) throws -> RGBImage {
        try ImageDecoder.decode(file: ids[index], fitting: side)
    }

    func subset(_ rows: [Int]) -> any ImageDataset {
        ImageFileListDataset(
            name: name, ids: rows.map { ids[$0] }, labels: labels(of: rows), classNames: classNames,
            fingerprint: Self.subsetFingerprint(fingerprint, rows: rows))
    }
}
