import CollectionStore
import Common
import Foundation
import ImageData
import Networks
import VectorSearch

/// Opens a saved index, the data set behind it and the network that made it, as a `SearchEngine`.
public enum SearchSetup {
    /// What to run when the index is missing.
    public static let buildHint = """
        build one with `swift run -c release Experiments 3 --data PATH --weights W` (writes \
        outputs/faiss_index.index, embeddings.npy, labels.npy) or with `pic2vec embed` then `pic2vec index`
        """

    /// What to run when the index has no map beside it.
    public static let mapHint = """
        no map of the collection beside the index: run `Experiments 7` (it writes outputs/\(CollectionFiles.layoutName); \
        `Experiments 6` writes the clusters, outputs/\(CollectionFiles.clustersName)) or `pic2vec tsne --embeddings \
        outputs/embeddings.npy --normalize --output outputs/\(CollectionFiles.layoutName)` (and `pic2vec kmeans \
        --embeddings outputs/embeddings.npy --normalize --output outputs/\(CollectionFiles.clustersName)`), then restart \
        `pic2vec serve`
        """

    /// The map of the index at `indexPath` (`rows` rows), or nil when there is none.
    ///
    /// `layout` and `clusters` name the files; by default they are the collection's
    /// (`CollectionFiles.layoutPath`, `clustersPath`), each used when present. A file named
    /// explicitly must exist; any file found must hold one entry per index row.
    public static func map(forIndex indexPath: String, rows: Int, layout: String? = nil, clusters: String? = nil) throws
        -> CollectionMap?
    {
        let files = CollectionFiles(index: indexPath)
        func existing(_ given: String?, default path: String) throws -> String? {
            if let given {
                guard FileManager.default.fileExists(atPath: given) else {
                    throw FileError(given, "no such file", kind: .missing)
                }
                return given
            }
            return FileManager.default.fileExists(atPath: path) ? path : nil
        }
        // Both explicit names are checked, whether or not there is a layout to colour.
        let clustersPath = try existing(clusters, default: files.clustersPath)
        guard let layoutPath = try existing(layout, default: files.layoutPath) else { return nil }
        return try CollectionMap.read(layout: layoutPath, clusters: clustersPath, rows: rows)
    }

    /// Opens the index at `indexPath` as `description` says it was made.
    ///
    /// Checks that the files exist, that the data set has as many images as the index has
    /// rows (and the recorded fingerprint), that the weights match the recorded hash, and,
    /// when the collection has labels (`CollectionFiles.readLabels`), that they are the data set's.
    ///
    /// - Parameters:
    ///   - withModel: load the network for image queries (false: row queries only).
    ///   - rerankOrigin: where the description's re-ranking came from, for messages (default:
    ///     the description file's `"rerank"`).
    public static func open(
        index indexPath: String, description: IndexDescription, withModel: Bool = true,
        limits: SearchLimits = SearchLimits(), rerankOrigin: String? = nil
    ) async throws -> SearchEngine {
        let files = CollectionFiles(index: indexPath)
        try files.recover()
        guard FileManager.default.fileExists(atPath: indexPath) else {
            throw FileError(indexPath, "no index here; \(buildHint)", kind: .missing)
        }
        try description.check(path: files.descriptionPath)
        // An IVF index's lists stay in the file, mapped, so a large index is never copied twice.
        let index = try VectorIndex(contentsOf: indexPath, mapped: true)
        let dataset = try openDataset(description, indexPath: indexPath)
        guard dataset.count == index.count else {
            throw FileError(
                indexPath,
                "holds \(index.count) rows but \(description.data ?? "the data") (\(description.split)) has \(dataset.count) images; "
                    + "pass the --data, --split and --limit the index was built with", kind: .mismatch)
        }
        if let expected = description.dataFingerprint, expected != dataset.fingerprint {
            throw FileError(
                dataset.name, "its fingerprint differs from the one recorded for \(indexPath): the data changed", kind: .mismatch)
        }
        if let labels = try files.readLabels(rows: dataset.count), labels != dataset.labels {
            throw FileError(
                files.existingLabelsPath ?? files.labelsPath, "these labels are not those of \(dataset.name)", kind: .mismatch)
        }
        // Checked without the weights too, so that the provenance never names the wrong network.
        let network = try network(description, index: index, indexPath: indexPath)
        let model = withModel ? try await queryModel(description, index: index, indexPath: indexPath) : nil
        let preprocessing = description.preprocessing
        // The provenance goes to web clients: files are named without the server's folders.
        let weightsLabel = model.map { publicName($0.label) } ?? "weights \(publicName(description.weights)) (not loaded)"
        let provenance =
            "\(network.displayName), \(weightsLabel), \(description.arithmetic), preset \(preprocessing.name) \(preprocessing.size)x\(preprocessing.size), "
            + (description.normalized ? "L2-normalized" : "raw") + " embeddings of \(dataset.name)"
        let pipeline = try description.reranking()
        let reranked =
            pipeline == .baseline
            ? nil : try RerankedIndex(pipeline: pipeline, index: index, path: indexPath, origin: rerankOrigin)
        return try SearchEngine(
            index: index, dataset: dataset, model: model?.model,
            provenance: provenance + (reranked == nil ? "" : ", re-ranking \(pipeline)"), limits: limits, reranked: reranked)
    }

    /// The query model `description` names, checked against the index at `indexPath`.
    ///
    /// Loads the weights (checking the recorded hash) and pairs them with the recorded
    /// preset and normalization; returns it with the weights' human-readable label.
    public static func queryModel(_ description: IndexDescription, index: VectorIndex, indexPath: String) async throws
        -> (model: QueryModel, label: String)
    {
        let preprocessing = description.preprocessing
        _ = try network(description, index: index, indexPath: indexPath)
        let weights = try await description.loadWeights(for: indexPath)
        // One upload at a time per lane: its matrix products share every core (`Embedder`, `RowSplit`).
        let embedder = Embedder(network: weights.network, preprocessing: preprocessing, batchSize: 1, threads: ThreadPools.cores)
        return (QueryModel(embedder: embedder, normalize: description.normalized), weights.label)
    }

    /// The query vector of the JPEG or PNG at `path` (any size; gray, RGBA and palette too).
    public static func queryVector(imageFile path: String, model: QueryModel) throws -> [Float] {
        model.vector(try ImageDecoder.decode(file: path))
    }

    /// A file path cut to the file's name (other names unchanged), for web clients, which are
    /// never shown the server's folders ("/srv/models/lite0.pth" -> "lite0.pth").
    public static func publicName(_ name: String) -> String {
        name.contains("/") ? URL(fileURLWithPath: name).lastPathComponent : name
    }

    /// The network `description` names, checked (before any weights are loaded: its topology
    /// fixes the embedding length) to give rows of `index`'s dimension.
    static func network(_ description: IndexDescription, index: VectorIndex, indexPath: String) throws -> Model {
        let network = description.network
        guard network.outputDimension == index.dimension else {
            throw FileError(
                indexPath,
                "has \(index.dimension)-d rows but \(network.displayName), the model its description names, gives \(network.outputDimension)-d",
                kind: .mismatch)
        }
        return network
    }

    /// The data set (split, limited, augmented) that `description` (of the index at `indexPath`) names.
    static func openDataset(_ description: IndexDescription, indexPath: String) throws -> any ImageDataset {
        guard let data = description.data else {
            throw SearchError.unavailable(
                "the index description names no data set: pass the --data the index was built from")
        }
        guard data.lowercased() == "cifar10" || FileManager.default.fileExists(atPath: data) else {
            let relative =
                data.hasPrefix("/") ? "" : ", resolved from the current folder \(FileManager.default.currentDirectoryPath)"
            throw FileError(
                data,
                "no such folder: it is the data of \(indexPath) (--data, else \"data\" in \(CollectionFiles(index: indexPath).descriptionPath))"
                    + relative + "; run from the folder the index was built in or pass --data", kind: .missing)
        }
        let dataset = try DataSource.open(data, download: false).dataset(description.split, of: data)
        let limited = description.limit.map { dataset.limited(to: $0) } ?? dataset
        guard let augmentations = description.augmentations else { return limited }
        guard augmentations.copies > 0, !limited.count.multipliedReportingOverflow(by: augmentations.copies).overflow
        else {
            throw FileError(data, "the index description asks for \(augmentations.copies) augmentations per image")
        }
        return AugmentedDataset(base: limited, copies: augmentations.copies, seed: augmentations.seed)
    }
}
