import Common
import Foundation
import ImageData
import Networks

/// The files of one `pic2vec embed` run, which `pic2vec index` reads: the float32 rows
/// `<name>.npy`, one int64 label per row (`<stem>.labels.npy` unless named otherwise), the rows'
/// image files with their SHA-256 (`<stem>.files.json`, for an image folder) and the sidecar
/// `<name>.npy.json` (`EmbeddingSidecar`), written as one unit.
public struct EmbeddingOutput: Sendable, Equatable {
    /// The `.npy` of embeddings.
    public let path: String

    public init(path: String) { self.path = path }

    /// The sidecar, `<name>.npy.json`.
    public var sidecarPath: String { path + ".json" }

    /// Where the labels go unless named otherwise: `emb.npy` -> `emb.labels.npy`, so that two
    /// embedding files in one folder never share (and overwrite) one labels file.
    public var defaultLabelsPath: String { (path.hasSuffix(".npy") ? String(path.dropLast(4)) : path) + ".labels.npy" }

    /// The rows' image files with their SHA-256, `<stem>.files.json` (for an image folder).
    public var fileListPath: String { (path.hasSuffix(".npy") ? String(path.dropLast(4)) : path) + ImageFileList.suffix }

    /// The rows' files, or nil when the rows are not of image files (or were written before lists were).
    public func readFileList(rows: Int) throws -> ImageFileList? { try ImageFileList.read(fileListPath, rows: rows) }

    /// The labels of the file's `rows` rows: its own (`defaultLabelsPath`), else the notebook's
    /// `labels.npy` in its folder when that holds one per row; nil when there are none.
    public func readLabels(rows: Int) throws -> [Int]? {
        try CollectionFiles.labels(
            own: defaultLabelsPath, shared: CollectionFiles(index: path).notebookLabelsPath, rows: rows,
            meaning: "one label per row")
    }

    /// How the rows were made (the sidecar's `origin`), or nil when there is no sidecar.
    public func origin() throws -> IndexDescription? {
        struct OriginOnly: Decodable { var origin: IndexDescription }
        guard
            let sidecar = try JSONFile.read(
                OriginOnly.self, from: sidecarPath, kind: "embedding sidecar (write it again with pic2vec embed)")
        else { return nil }
        try sidecar.origin.check(path: sidecarPath)
        return sidecar.origin
    }

    /// Writes the rows, their labels (at `labelsPath`, by default `defaultLabelsPath`; an old
    /// labels file there is removed when there are none), their files (`fileListPath`, likewise)
    /// and the sidecar, atomically together.
    public func write(
        _ embeddings: Matrix, labels: [Int]?, labelsPath: String? = nil, fileList: ImageFileList? = nil,
        sidecar: EmbeddingSidecar
    ) throws {
        let labelsPath = labelsPath ?? defaultLabelsPath
        let json = try JSONFile.encode(sidecar)
        try AtomicFile.writeSet(primary: path) { files in
            try files.add(NPY.encode(embeddings.values, shape: [embeddings.rows, embeddings.columns]), to: path)
            if let labels { try files.add(NPY.encode(labels), to: labelsPath) } else { files.remove(labelsPath) }
            if let fileList { try files.add(try JSONFile.encode(fileList), to: fileListPath) } else { files.remove(fileListPath) }
            try files.add(json, to: sidecarPath)
        }
    }
}

/// What `pic2vec embed` records beside its rows: the network and weights, the preprocessing, the
/// data, the throughput, and `origin`, the description an index of these rows inherits.
public struct EmbeddingSidecar: Codable, Sendable, Equatable {
    public var model: Model
    /// The weights in words ("torchvision", "random weights (seed 0)", a file name).
    public var weights: String
    public var weightsHash: String
    public var randomWeights: Bool
    /// The preprocessing's name ("cifar", "imagenet", "cifar@64" when resized).
    public var preset: String
    public var inputSize: Int
    public var mean: [Float]
    public var std: [Float]
    /// The data set's name and fingerprint (of the rows embedded: the shard when there is one).
    public var data: String
    public var dataFingerprint: String
    public var count: Int
    public var dimension: Int
    /// The labels file, when the data has labels.
    public var labels: String?
    public var seconds: Double
    public var imagesPerSecond: Double
    public var shard: Shard?
    public var precision: Precision
    public var origin: IndexDescription

    public init(
        weights: LoadedWeights, preprocessing: Preprocessing, data: String, dataFingerprint: String,
        embeddings: Matrix, labels: String?, seconds: Double, origin: IndexDescription
    ) {
        model = weights.model
        self.weights = weights.label
        weightsHash = weights.hash
        randomWeights = weights.isRandom
        preset = preprocessing.name
        inputSize = preprocessing.size
        mean = preprocessing.mean
        std = preprocessing.std
        self.data = data
        self.dataFingerprint = dataFingerprint
        count = embeddings.rows
        dimension = embeddings.columns
        self.labels = labels
        self.seconds = seconds
        imagesPerSecond = Double(embeddings.rows) / max(seconds, 1e-9)
        shard = origin.shard
        precision = weights.precision
        self.origin = origin
    }
}
