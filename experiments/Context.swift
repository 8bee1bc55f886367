import CollectionStore
import Common
import Foundation
import ImageData
import LabReport
import Networks
import Plots
import VectorSearch

/// What every experiment shares: options, data, output folders, the artifact cache.
///
/// Expensive inputs (data sets, embeddings) are loaded once per run and cached on disk
/// under the output folder, keyed by what they were made from. Unchecked: the runner runs the
/// experiments one after another on one task, and an experiment fills the caches from that
/// task, so they are never touched by two threads at once.
final class Context: @unchecked Sendable {
    let options: RunOptions
    let cache: ArtifactCache
    private var splits: DataSplits?
    private var loadedWeights: LoadedWeights?
    private var embeddingsBySplit: [String: Matrix] = [:]
    private var clustering: KMeans.Result?
    private var normalizedScores: RetrievalScores?

    /// The k of every Precision@k the experiments report.
    static let retrievalKs = [1, 2, 5, 10, 20, 50, 100]

    init(options: RunOptions) {
        self.options = options
        cache = ArtifactCache(folder: options.out)
    }

    var seed: UInt64 { options.seed }

    /// The data set's train and (when present) test splits, loaded on first use.
    func data() throws -> DataSplits {
        if let splits { return splits }
        var loaded = try DataSource.open(options.data, skipBad: options.skipBad)
        if let limit = options.limit {
            loaded = DataSplits(train: loaded.train.limited(to: limit), test: loaded.test?.limited(to: limit))
        }
        splits = loaded
        return loaded
    }

    /// The network's weights, loaded (or downloaded) on first use.
    func weights() async throws -> LoadedWeights {
        if let loadedWeights { return loadedWeights }
        let loaded = try await Weights.load(
            WeightsSource(options.weights, seed: options.seed), model: try model(), precision: options.precision)
        loadedWeights = loaded
        return loaded
    }

    /// The network chosen by `--model`.
    func model() throws -> Model { options.model }

    /// How the run's model and weights are described in the report header.
    var weightsDescription: String {
        guard let loadedWeights else { return "not used by these experiments" }
        return "\(loadedWeights.model.displayName), \(loadedWeights.label), \(loadedWeights.precision) arithmetic"
    }

    /// " (MODEL, WEIGHTS)" once weights are loaded, e.g. " (EfficientNet-Lite0, efficientnet-lite0-57934424.pth)"
    /// or " (ResNet18, random weights (seed 0))": appended to every title and caption.
    var weightsTag: String { loadedWeights.map { " (\($0.caption))" } ?? "" }

    /// The preprocessing preset chosen by `--preset`, for the run's model.
    func preprocessing() throws -> Preprocessing {
        try model().preprocessing(preset: options.preset)
    }

    /// The dataset of `split`; throws when the data has no such split.
    func dataset(_ split: DataSplit) throws -> any ImageDataset {
        try data().dataset(split, of: options.data)
    }

    /// Raw (unnormalized) embeddings of `split` made with the run's weights (or `other` weights),
    /// from the cache when their inputs are unchanged.
    func embeddings(_ split: DataSplit, with other: LoadedWeights? = nil) async throws -> Matrix {
        let weights: LoadedWeights
        if let other { weights = other } else { weights = try await self.weights() }
        let key = "\(split.rawValue)-\(weights.model.rawValue)-\(weights.hash)"
        if let cached = embeddingsBySplit[key] { return cached }
        let dataset = try dataset(split)
        let preprocessing = try preprocessing()
        let inputs = try embeddingInputs(split, weights: weights)
        let name =
            "embeddings-raw-\(split.rawValue)" + (other == nil ? "" : "-\(weights.model.rawValue)-\(weights.hash)") + ".npy"
        let matrix: Matrix
        if let path = cache.lookup(name, inputs: inputs) {
            matrix = try Matrix.read(npy: path)
        } else {
            let embedder = Embedder(
                network: weights.network, preprocessing: preprocessing, batchSize: options.batch, threads: options.threads)
            let start = Date()
            matrix = try embedder.embed(dataset)
            if other == nil { embeddingSeconds[split] = Date().timeIntervalSince(start) }
            try cache.store(name, inputs: inputs) { try matrix.write(npy: $0) }
        }
        embeddingsBySplit[key] = matrix
        return matrix
    }

    /// What the embeddings of `split` are made from: the key of every artifact derived from them.
    func embeddingInputs(_ split: DataSplit) async throws -> [String: String] {
        try embeddingInputs(split, weights: try await weights())
    }

    private func embeddingInputs(_ split: DataSplit, weights: LoadedWeights) throws -> [String: String] {
        let preprocessing = try preprocessing()
        return [
            "data": try dataset(split).fingerprint, "model": weights.model.rawValue, "weights": weights.hash,
            "preset": preprocessing.name, "precision": weights.precision.rawValue,
            "size": String(preprocessing.size),
            // Rows differ in the last bits with how images are split over batches and threads.
            "batch": String(options.batch), "threads": String(options.threads),
        ]
    }

    /// Leave-one-out scores of the L2-normalized train embeddings under L2 distance at `retrievalKs`:
    /// computed once per run, shared by experiments 04 and 05.
    func normalizedRetrievalScores() async throws -> RetrievalScores {
        if let normalizedScores { return normalizedScores }
        guard let labels = try dataset(.train).labels else { throw FileError(options.data, "has no labels") }
        let scores = try RetrievalScores(
            try await embeddings(.train).l2Normalized(), labels: labels, ks: Self.retrievalKs)
        normalizedScores = scores
        return scores
    }

    /// The clustering settings: 10 clusters (the notebook's choice), library defaults, `--seed`.
    var kmeans: KMeans { KMeans(clusters: 10, seed: Int(truncatingIfNeeded: seed)) }

    /// The files of the collection the experiments build in `--out` (experiment 03's index, the map
    /// of experiments 06 and 07), named as `pic2vec serve` finds them.
    var collection: CollectionFiles { CollectionFiles.notebook(in: options.out) }

    /// k-means with 10 clusters (the notebook's choice) on the L2-normalized train embeddings,
    /// seeded by `--seed`; the assignments are also saved as the collection's map clusters.
    func clusters() async throws -> KMeans.Result {
        if let clustering { return clustering }
        let points = try await embeddings(.train).l2Normalized()
        let result = try kmeans.fit(points)
        try NPY.write(result.assignments, to: collection.clustersPath)
        clustering = result
        return result
    }

    /// Seconds spent embedding each split in this run (absent when read from the cache).
    private(set) var embeddingSeconds: [DataSplit: Double] = [:]

    /// Writes a figure as PNG and PDF into the figures folder and links it from `section`.
    func figure(_ figure: some Figure, name: String, caption: String, in section: inout ReportSection) throws {
        let (png, pdf) = try FigureFile.write(figure, name: name, folder: options.figures)
        section.figure(png: relativeToReport(png), pdf: relativeToReport(pdf), caption: caption)
    }

    /// `path` relative to the folder that holds the report.
    func relativeToReport(_ path: String) -> String {
        let from = URL(fileURLWithPath: options.out).standardizedFileURL.pathComponents
        let to = URL(fileURLWithPath: path).standardizedFileURL.pathComponents
        let shared = zip(from, to).prefix { $0 == $1 }.count
        return (Array(repeating: "..", count: from.count - shared) + to[shared...]).joined(separator: "/")
    }
}

extension DataSplits {
    /// "NAME (N train + M test images)".
    var description: String {
        let test = self.test.map { " + \($0.count) test" } ?? ""
        return "\(train.name) (\(train.count) train\(test) images)"
    }
}
