import Common
import Foundation
import ImageData
import VectorSearch

/// The files of one indexed collection, all named from its index file: the one place their
/// layout is written down, read and written.
///
/// For an index `outputs/faiss_index.index`:
///
///     outputs/faiss_index.index                       the FAISS index
///     outputs/faiss_index.index.json                  how its rows were made (`IndexDescription`)
///     outputs/faiss_index.index.labels.npy            one int64 label per row
///     outputs/labels.npy                              the notebook's labels file, read when the index has none of its own
///     outputs/faiss_index.index.files.json            the rows' files and their SHA-256 (image folders)
///     outputs/faiss_index.index.lock                  held while images are added or removed
///     outputs/faiss_index.index.rerank.json           saved re-ranking lists: header,
///     outputs/faiss_index.index.rerank-ids.npy          ids
///     outputs/faiss_index.index.rerank-similarities.npy and similarities
///     outputs/tsne-train.npy                          the map: one t-SNE point per row
///     outputs/kmeans-assignments.npy                  the map's colours: one k-means cluster per row
///
/// The map's files keep the names the experiments give them, in the index's folder.
public struct CollectionFiles: Sendable, Equatable {
    /// The FAISS index file.
    public let index: String

    public init(index: String) { self.index = index }

    /// The notebook's index file name: the collection the experiments build in their output folder.
    public static let notebookIndexName = "faiss_index.index"

    /// The notebook's collection in `folder` (`folder/faiss_index.index`).
    public static func notebook(in folder: String) -> CollectionFiles {
        CollectionFiles(index: folder + "/" + notebookIndexName)
    }

    /// The file name of the map's t-SNE layout, in the index's folder.
    public static let layoutName = "tsne-train.npy"

    /// The file name of the map's k-means clusters, in the index's folder.
    public static let clustersName = "kmeans-assignments.npy"

    /// The description, `<index>.json`.
    public var descriptionPath: String { index + ".json" }

    /// The index's own labels, `<index>.labels.npy`.
    public var labelsPath: String { index + ".labels.npy" }

    /// The notebook's `labels.npy` in the index's folder, read when the index has no labels of its own.
    public var notebookLabelsPath: String { inFolder("labels.npy") }

    /// The notebook's L2-normalized `embeddings.npy` in the index's folder (experiment 03 writes it).
    public var notebookEmbeddingsPath: String { inFolder("embeddings.npy") }

    /// The rows' files (`ImageFileList`): carried from `pic2vec embed` of an image folder, or
    /// written at the collection's first change (`CollectionEditor`).
    public var fileListPath: String { index + ImageFileList.suffix }

    /// The lock a change of the collection holds (`CollectionEditor`).
    public var lockPath: String { index + ".lock" }

    /// The marks a person made on the audit page of `pic2vec serve` (by file path, so that they
    /// outlive `add` and `remove`, which leave the file alone).
    public var auditMarksPath: String { index + ".audit.json" }

    /// The saved re-ranking lists' header, ids and similarities.
    public var rerankHeaderPath: String { index + ".rerank.json" }
    public var rerankIdsPath: String { index + ".rerank-ids.npy" }
    public var rerankSimilaritiesPath: String { index + ".rerank-similarities.npy" }

    /// The map's layout and clusters in the index's folder.
    public var layoutPath: String { inFolder(Self.layoutName) }
    public var clustersPath: String { inFolder(Self.clustersName) }

    /// Finishes a change of the collection that a killed process left half done
    /// (`AtomicFile.recover`); every reader calls it before opening any of the files.
    public func recover() throws {
        try AtomicFile.recover(index)
    }

    /// The rows' files (`fileListPath`), or nil when the collection keeps no list.
    public func readFileList(rows: Int) throws -> ImageFileList? { try ImageFileList.read(fileListPath, rows: rows) }

    /// The description, its values checked, or nil when the index has none (after `recover`).
    public func readDescription() throws -> IndexDescription? {
        try recover()
        guard FileManager.default.fileExists(atPath: descriptionPath) else { return nil }
        let bytes = try RegularFile.contents(descriptionPath, maxBytes: JSONFile.maximumBytes, kind: "index description")
        return try IndexDescription.decode(bytes, path: descriptionPath)
    }

    /// The labels file of the index: its own, else the notebook's in its folder; nil when neither exists.
    public var existingLabelsPath: String? {
        [labelsPath, notebookLabelsPath].first { FileManager.default.fileExists(atPath: $0) }
    }

    /// The labels of the index's `rows` rows (from `existingLabelsPath`), or nil when it has none
    /// (`labels(own:shared:rows:meaning:)`).
    public func readLabels(rows: Int) throws -> [Int]? {
        try Self.labels(own: labelsPath, shared: notebookLabelsPath, rows: rows, meaning: "one label per index row")
    }

    /// The labels of `rows` rows: the file's `own` labels, which must hold one per row (`meaning`
    /// says so in the message), else the `shared` `labels.npy` of its folder when there is one.
    /// A folder's labels may belong to other rows (experiment 11's cached set beside the run's
    /// labels): ones of another length are skipped with a note on standard error.
    static func labels(own: String, shared: String, rows: Int, meaning: String) throws -> [Int]? {
        if FileManager.default.fileExists(atPath: own) {
            return try NPY.read(own, expected: NPY.Expected(.int64, shape: [rows], meaning: meaning)).ints
        }
        guard FileManager.default.fileExists(atPath: shared) else { return nil }
        let labels = try NPY.read(shared, expected: NPY.Expected(.int64, shape: [nil], meaning: "one label per row")).ints
        guard labels.count == rows else {
            FileHandle.standardError.write(
                Data("note: \(shared) holds \(labels.count) labels for \(rows) rows: not these rows' labels, ignored\n".utf8))
            return nil
        }
        return labels
    }

    /// Writes `index`, its description, its labels and its rows' files as one unit (with whatever `extra` adds),
    /// as `AtomicFile.writeSet` does: a reader sees the old index or the new one (or, for a
    /// moment, none), never an index paired with another index's description or labels. A
    /// description or labels file the new index has no use for is removed, never left describing it.
    public func write(
        _ vectors: VectorIndex, description: IndexDescription?, labels: [Int]?, fileList: ImageFileList? = nil,
        extra: (inout AtomicFileSet) throws -> Void = { _ in }
    ) throws {
        try AtomicFile.writeSet(primary: index) { files in
            try files.add(index, vectors.write(to:))
            if let fileList { try files.add(try JSONFile.encode(fileList), to: fileListPath) } else { files.remove(fileListPath) }
            if let description {
                try files.add(try description.encoded(), to: descriptionPath)
            } else {
                files.remove(descriptionPath)
            }
            if let labels { try files.add(NPY.encode(labels), to: labelsPath) } else { files.remove(labelsPath) }
            try extra(&files)
        }
    }

    /// `name` in the index's folder, relative when the index path is ("outputs/x.index" ->
    /// "outputs/name", "x.index" -> "name").
    private func inFolder(_ name: String) -> String {
        guard let slash = index.lastIndex(of: "/") else { return name }
        return String(index[...slash]) + name
    }
}
