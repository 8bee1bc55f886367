import Common
import Download
import Foundation

/// CIFAR-10 from the official archives, held in memory as UInt8 NHWC (60,000 32x32 images).
///
/// Reads the binary version (`cifar-10-batches-bin`: `data_batch_1.bin` ... `data_batch_5.bin`,
/// `test_batch.bin`, `batches.meta.txt`) and the python version (`cifar-10-batches-py`:
/// pickled dicts, read with the restricted reader). Both store each image as 1024 red,
/// 1024 green, then 1024 blue bytes; rows keep the batch order. Ids are "batch#row"
/// (`data_batch_1#0`) in both versions, so the same data has the same fingerprint.
public enum CIFAR10 {
    /// The side of every image.
    public static let side = 32
    /// The bytes of one image's pixels.
    public static let imageBytes = side * side * 3
    /// The training batches, in row order.
    public static let trainBatches = (1...5).map { "data_batch_\($0)" }
    /// The test batch.
    public static let testBatch = "test_batch"

    /// One of the two official archives: where it lives, its checksum and its folder.
    public struct Archive: Sendable {
        public let url: URL
        public let md5: String
        /// The archive's size in bytes, when published.
        public let bytes: Int?
        /// The folder the archive unpacks to.
        public let folder: String

        /// The file name of the archive.
        public var fileName: String { url.lastPathComponent }

        public init(url: URL, md5: String, bytes: Int?, folder: String) {
            self.url = url
            self.md5 = md5
            self.bytes = bytes
            self.folder = folder
        }

        /// The python version (pickled numpy arrays), as the notebook downloads it.
        public static let python = Archive(
            url: URL(string: "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz")!,
            md5: "c58f30108f718f92721af3b95e74349a", bytes: nil, folder: "cifar-10-batches-py")

        /// The binary version (3,073-byte records).
        public static let binary = Archive(
            url: URL(string: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz")!,
            md5: "c32a1d4ab5d03f1284b67883e8d87530", bytes: 170_052_171, folder: "cifar-10-batches-bin")
    }

    /// Opens CIFAR-10 under `root` (`root/cifar-10-batches-py` or `-bin`), downloading and
    /// unpacking `archive` into `root` first when neither is there and `download` is set.
    public static func open(root: String, download: Bool, archive: Archive = .python) throws -> DataSplits {
        for candidate in [Archive.python, .binary] {
            let folder = root + "/" + candidate.folder
            if FileManager.default.fileExists(atPath: folder) { return try load(folder: folder) }
        }
        guard download else {
            throw FileError(
                root,
                "no CIFAR-10 here (expected \(Archive.python.folder) or \(Archive.binary.folder)); allow the download or pass a data path"
            )
        }
        let archivePath = root + "/" + archive.fileName
        if (try? Downloader.md5(ofFile: archivePath)) != archive.md5 {
            try Downloader.fetch(archive.url, to: archivePath, checksum: .md5(archive.md5), bytes: archive.bytes)
        }
        try TarArchive.extractGzip(archivePath, into: root)
        let folder = root + "/" + archive.folder
        guard FileManager.default.fileExists(atPath: folder) else {
            throw FileError(archivePath, "unpacked, but holds no \(archive.folder) folder")
        }
        return try load(folder: folder)
    }

    /// Whether `folder` looks like an unpacked CIFAR-10 batch folder of either version.
    public static func isBatchFolder(_ folder: String) -> Bool {
        ["data_batch_1", "data_batch_1.bin"].contains { FileManager.default.fileExists(atPath: folder + "/" + $0) }
    }

    /// Loads an unpacked batch folder: the binary version when `data_batch_1.bin` is there,
    /// else the python version.
    public static func load(folder: String) throws -> DataSplits {
        let binary = FileManager.default.fileExists(atPath: folder + "/data_batch_1.bin")
        let classNames = try binary ? binaryClassNames(folder) : pythonClassNames(folder)
        func split(_ batches: [String], _ name: String) throws -> InMemoryDataset {
            var labels: [Int] = [], pixels: [UInt8] = [], ids: [String] = []
            for batch in batches {
                let part = try binary ? readBinaryBatch(folder + "/" + batch + ".bin") : readPythonBatch(folder + "/" + batch)
                if let bad = part.labels.first(where: { !classNames.indices.contains($0) }) {
                    throw FileError(folder + "/" + batch, "label \(bad) outside the \(classNames.count) classes")
                }
                ids += part.labels.indices.map { "\(batch)#\($0)" }
                labels += part.labels
                pixels += part.pixels
            }
            return InMemoryDataset(
                name: "cifar10/" + name, width: side, height: side, pixels: pixels, ids: ids, labels: labels,
                classNames: classNames)
        }
        return DataSplits(train: try split(trainBatches, "train"), test: try split([testBatch], "test"))
    }

    /// Labels and HWC pixels of one batch.
    typealias Batch = (labels: [Int], pixels: [UInt8])

    /// Reads a binary batch: records of one label byte and 3,072 planar pixel bytes.
    static func readBinaryBatch(_ path: String) throws -> Batch {
        let bytes = try FileBytes.load(path, maxBytes: FileBytes.maximumDataBytes)
        let record = 1 + imageBytes
        guard !bytes.isEmpty, bytes.count % record == 0 else {
            throw FileError(
                path,
                "holds \(bytes.count) bytes, not a whole number of \(record)-byte records (\(bytes.count / record) records and \(bytes.count % record) bytes): truncated?",
                kind: .truncated)
        }
        let count = bytes.count / record
        let labels = (0..<count).map { Int(bytes[$0 * record]) }
        return (labels, planarToInterleaved(bytes, count: count, stride: record, offset: 1))
    }

    /// Converts images stored as R, G and B planes (`stride` bytes apart, starting `offset`
    /// bytes in) to interleaved HWC RGB.
    static func planarToInterleaved(_ bytes: [UInt8], count: Int, stride: Int, offset: Int) -> [UInt8] {
        let plane = side * side
        return [UInt8](unsafeUninitializedCapacity: count * imageBytes) { output, initialized in
            for image in 0..<count {
                let source = image * stride + offset, target = image * imageBytes
                for pixel in 0..<plane {
                    for channel in 0..<3 {
                        output[target + 3 * pixel + channel] = bytes[source + channel * plane + pixel]
                    }
                }
            }
            initialized = count * imageBytes
        }
    }

    /// The class names of the binary version, one per line of `batches.meta.txt`.
    private static func binaryClassNames(_ folder: String) throws -> [String] {
        let path = folder + "/batches.meta.txt"
        let names = String(decoding: try FileBytes.load(path, maxBytes: FileBytes.maximumDataBytes), as: UTF8.self)
            .split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !names.isEmpty else { throw FileError(path, "lists no class names") }
        return names
    }
}
