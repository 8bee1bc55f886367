import Common
import Foundation
import Synchronization

/// Image folders: `root/<class>/*.{jpg,jpeg,png}`, a flat folder of images, or a root
/// holding `train/` and `test/` folders of that kind (one data set with two splits).
///
/// Labels are indices into the sorted class-folder names; rows follow the sorted class
/// folders, then the sorted file names (sorted by code point, as Python's `sorted`), so row
/// `i` is a known file. Extensions match case-insensitively; hidden entries and other
/// files are ignored. Sets of same-size small images (at most `inMemoryPixels` each, like
/// CIFAR-10) that fit `memoryBudget` bytes are decoded once, in parallel, into an
/// `InMemoryDataset`; other sets (photos of any size) only have their headers checked here
/// and are decoded when their rows are read, no larger than the network input needs.
public enum ImageFolder {
    /// The file extensions read, lowercased.
    public static let extensions: Set<String> = ["jpg", "jpeg", "png"]

    /// The default limit for holding a decoded folder in memory: 1 GiB.
    public static let defaultMemoryBudget = 1 << 30

    /// The largest image (256x256 pixels) a folder is held decoded in memory for: larger
    /// photos are streamed, so that memory follows the batch and input size, not the photos.
    public static let inMemoryPixels = 1 << 16

    /// Opens the folder at `path` as one split, or as train and test when it holds `train/`.
    ///
    /// - Parameter skipBad: skip files that cannot be decoded, with a warning per file and a
    ///   count, instead of failing on the first one.
    public static func open(_ path: String, skipBad: Bool = false, memoryBudget: Int = defaultMemoryBudget) throws -> DataSplits {
        guard let entries = try listFolder(path) else { throw FileError(path, "no such folder", kind: .missing) }
        let name = URL(fileURLWithPath: path).standardizedFileURL.lastPathComponent
        guard entries.folders.contains("train") else {
            return DataSplits(
                train: try load(path, name: name, classNames: nil, skipBad: skipBad, memoryBudget: memoryBudget), test: nil)
        }
        let train = try load(
            path + "/train", name: name + "/train", classNames: nil, skipBad: skipBad, memoryBudget: memoryBudget)
        guard entries.folders.contains("test") else { return DataSplits(train: train, test: nil) }
        let test = try load(
            path + "/test", name: name + "/test", classNames: train.classNames, skipBad: skipBad, memoryBudget: memoryBudget)
        return DataSplits(train: train, test: test)
    }

    /// Loads one split: class folders (or images directly in `folder`), labeled by
    /// `classNames` when given (the training split's classes) or by its own sorted folders.
    static func load(_ folder: String, name: String, classNames: [String]?, skipBad: Bool, memoryBudget: Int) throws
        -> any ImageDataset
    {
        let listing = try list(folder, classNames: classNames)
        guard !listing.files.isEmpty else {
            throw FileError(folder, "no images (\(extensions.sorted().map { "." + $0 }.joined(separator: ", "))) found")
        }
        let paths = listing.files.map { folder + "/" + $0 }
        if let memory = try decodeInMemory(
            paths, listing: listing, folder: folder, name: name, skipBad: skipBad, memoryBudget: memoryBudget)
        {
            return memory
        }
        let headers = checkHeaders(paths, name: name, fullDecode: skipBad)
        let kept = try keepGood(headers, folder: folder, skipBad: skipBad)
        let sizes = headers.compactMap { try? $0.get() }
        return ImageFolderDataset(
            name: name, paths: kept.map { paths[$0] }, relativePaths: kept.map { listing.files[$0] },
            labels: listing.labels.map { labels in kept.map { labels[$0] } }, classNames: listing.classNames, headers: sizes)
    }

    /// The image files of a split, relative to it, with labels when it has class folders.
    struct Listing {
        var files: [String] = []
        var labels: [Int]?
        var classNames: [String] = []
    }

    /// Lists class folders and their images, or the images of a flat folder.
    static func list(_ folder: String, classNames expected: [String]?) throws -> Listing {
        guard let entries = try listFolder(folder) else { throw FileError(folder, "no such folder", kind: .missing) }
        guard !entries.folders.isEmpty else { return Listing(files: entries.images) }
        guard entries.images.isEmpty else {
            throw FileError(
                folder, "holds both images (\(entries.images[0]), ...) and class folders (\(entries.folders[0]), ...)")
        }
        let classNames = expected ?? entries.folders
        var listing = Listing(labels: [], classNames: classNames)
        for name in entries.folders {
            guard let label = classNames.firstIndex(of: name) else {
                throw FileError(
                    folder + "/" + name, "class folder not among the training classes (\(classNames.joined(separator: ", ")))")
            }
            guard let images = try listFolder(folder + "/" + name)?.images else { continue }
            listing.files += images.map { name + "/" + $0 }
            listing.labels? += Array(repeating: label, count: images.count)
        }
        return listing
    }

    /// The sorted visible subfolders and image files of `folder`, or nil if it does not exist.
    private static func listFolder(_ folder: String) throws -> (folders: [String], images: [String])? {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) else { return nil }
        guard isFolder.boolValue else { throw FileError(folder, "not a folder") }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder)
        } catch {
            throw FileError(folder, "cannot list folder (\(error.localizedDescription))")
        }
        var folders: [String] = [], images: [String] = []
        for name in names where !name.hasPrefix(".") {
            // A name that is not valid UTF-8 comes back altered and cannot be opened by it.
            guard !name.contains("\u{FFFD}") else {
                throw FileError(folder + "/" + name, "file name is not valid UTF-8 (shown altered here): rename the file")
            }
            var status = stat()
            guard stat(folder + "/" + name, &status) == 0 else {
                let problem =
                    switch errno {
                    case ELOOP: "is a symbolic link loop"
                    case ENOENT: "is a symbolic link to a missing file"
                    default: "cannot be read (\(String(cString: strerror(errno))))"
                    }
                throw FileError(folder + "/" + name, problem + ": remove it or point it at an image")
            }
            if extensions.contains(URL(fileURLWithPath: name).pathExtension.lowercased()) {
                images.append(name)
            } else if status.st_mode & S_IFMT == S_IFDIR {
                folders.append(name)
            }
        }
        let byCodePoint: (String, String) -> Bool = { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
        return (folders.sorted(by: byCodePoint), images.sorted(by: byCodePoint))
    }

    /// What decoding one row into the shared block came to.
    private enum RowOutcome {
        case decoded
        case failed(FileError)
        /// A size other than the first image's: the set cannot be one block.
        case otherSize
        /// Not attempted, because the pass stopped early.
        case notRead
    }

    /// Decodes every image into one NHWC block when all share the first image's size and
    /// fit `memoryBudget`; nil when they do not (the caller streams them instead).
    private static func decodeInMemory(
        _ paths: [String], listing: Listing, folder: String, name: String, skipBad: Bool, memoryBudget: Int
    ) throws -> InMemoryDataset? {
        guard let first = paths.lazy.compactMap({ try? ImageDecoder.header(ofFile: $0) }).first,
            first.width * first.height <= inMemoryPixels, paths.count * first.width * first.height * 3 <= memoryBudget
        else { return nil }
        let imageSize = first.width * first.height * 3
        let stop = Atomic<Bool>(false)
        let progress = paths.count >= 5000 ? Common.Progress("Decoding \(name)", total: paths.count, unit: "images") : nil
        var pixels = [UInt8](repeating: 0, count: paths.count * imageSize)
        let outcomes = pixels.withUnsafeMutableBufferPointer { block in
            parallelMap(paths.count) { row -> RowOutcome in
                guard !stop.load(ordering: .relaxed) else { return .notRead }
                defer { progress?.advance() }
                do {
                    let image = try ImageDecoder.decode(file: paths[row])
                    guard image.width == first.width, image.height == first.height else {
                        stop.store(true, ordering: .relaxed)
                        return .otherSize
                    }
                    _ = UnsafeMutableBufferPointer(rebasing: block[row * imageSize..<(row + 1) * imageSize]).update(
                        from: image.pixels)
                    return .decoded
                } catch {
                    if !skipBad { stop.store(true, ordering: .relaxed) }
                    return .failed(error as? FileError ?? FileError(paths[row], "\(error)"))
                }
            }
        }
        progress?.finish()
        if !skipBad, let failure = outcomes.lazy.compactMap({ if case .failed(let error) = $0 { error } else { nil } }).first {
            throw failure
        }
        if outcomes.contains(where: { if case .otherSize = $0 { true } else { false } }) { return nil }
        let results = outcomes.map { outcome -> Result<Void, FileError> in
            if case .failed(let error) = outcome { .failure(error) } else { .success(()) }
        }
        let kept = try keepGood(results, folder: folder, skipBad: skipBad)
        if kept.count < paths.count {
            pixels = kept.flatMap { pixels[$0 * imageSize..<($0 + 1) * imageSize] }
        }
        return InMemoryDataset(
            name: name, width: first.width, height: first.height, pixels: pixels, ids: kept.map { paths[$0] },
            labels: listing.labels.map { labels in kept.map { labels[$0] } }, classNames: listing.classNames,
            fingerprintIDs: kept.map { listing.files[$0] })
    }

    /// Reads every file's header in parallel: its image size and byte count, or the error.
    ///
    /// With `fullDecode` (for `--skip-bad`) every file is also decoded, at 1/8 scale for
    /// JPEGs (the entropy-coded data is still read whole), so that damage past the header
    /// is found now and skipped, not when the row is embedded.
    private static func checkHeaders(_ paths: [String], name: String, fullDecode: Bool) -> [Result<
        ImageDecoder.Header, FileError
    >] {
        let progress = paths.count >= 5000 ? Common.Progress("Checking \(name)", total: paths.count, unit: "images") : nil
        defer { progress?.finish() }
        return parallelMap(paths.count) { row in
            defer { progress?.advance() }
            return Result {
                let header = try ImageDecoder.header(ofFile: paths[row])
                if fullDecode { _ = try ImageDecoder.decode(file: paths[row], fitting: 1) }
                return header
            }.mapError { $0 as? FileError ?? FileError(paths[row], "\($0)") }
        }
    }

    /// The rows that succeeded; with `skipBad` the others are reported on standard error
    /// with a count, else the first failure is thrown.
    static func keepGood<T>(_ results: [Result<T, FileError>], folder: String, skipBad: Bool) throws -> [Int] {
        var kept: [Int] = []
        var skipped = 0
        for (row, result) in results.enumerated() {
            switch result {
            case .success: kept.append(row)
            case .failure(let error):
                guard skipBad else { throw error }
                skipped += 1
                FileHandle.standardError.write(Data("warning: skipping \(error)\n".utf8))
            }
        }
        if skipped > 0 {
            FileHandle.standardError.write(Data("warning: skipped \(skipped) of \(results.count) images under \(folder)\n".utf8))
        }
        guard !kept.isEmpty else { throw FileError(folder, "none of its \(results.count) images could be decoded") }
        return kept
    }
}

/// A folder of images of any size, decoded from its files when rows are read.
///
/// Headers were checked when the folder was opened; damage later in a file is reported
/// (naming the file) when that row is read.
public struct ImageFolderDataset: ImageDataset {
    public let name: String
    /// The image files, in row order.
    public let ids: [String]
    public let labels: [Int]?
    public let classNames: [String]
    /// The width and height of every image, from its header.
    public let sizes: [(width: Int, height: Int)]
    public let fingerprint: String

    init(
        name: String, paths: [String], relativePaths: [String], labels: [Int]?, classNames: [String],
        headers: [ImageDecoder.Header]
    ) {
        var print = Fingerprint()
        print.update("image files \(paths.count)\nclasses \(classNames.joined(separator: "\t"))\n")
        for (row, path) in relativePaths.enumerated() {
            let header = headers[row]
            print.update("\(path)\t\(labels?[row] ?? -1)\t\(header.width)x\(header.height)\t\(header.fileBytes)\n")
        }
        self.init(
            name: name, ids: paths, labels: labels, classNames: classNames, sizes: headers.map { ($0.width, $0.height) },
            fingerprint: print.finalize())
    }

    private init(
        name: String, ids: [String], labels: [Int]?, classNames: [String], sizes: [(width: Int, height: Int)], fingerprint: String
    ) {
        self.name = name
        self.ids = ids
        self.labels = labels
        self.classNames = classNames
        self.sizes = sizes
        self.fingerprint = fingerprint
    }

    public var count: Int { ids.count }

    public func image(at index: Int) throws -> RGBImage {
        try ImageDecoder.decode(file: ids[index])
    }

    /// Decodes image `index` no larger than needed for a `side` x `side` network input:
    /// JPEGs are DCT-scaled (see `ImageDecoder.decode(_:path:fitting:maxPixels:)`), so memory
    /// follows the input size rather than the photo's.
    public func image(at index: Int, fitting side: Int) throws -> RGBImage {
        try ImageDecoder.decode(file: ids[index], fitting: side)
    }

    public func subset(_ rows: [Int]) -> any ImageDataset {
        ImageFolderDataset(
            name: name, ids: rows.map { ids[$0] }, labels: labels(of: rows), classNames: classNames,
            sizes: rows.map { sizes[$0] },
            fingerprint: Self.subsetFingerprint(fingerprint, rows: rows))
    }
}
