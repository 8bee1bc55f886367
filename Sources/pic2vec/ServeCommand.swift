import ArgumentParser
import CollectionStore
import Common
import Foundation
import ImageData
import Networks
import SearchService
import VectorSearch

/// How an index's rows were made, from the command line: fills in or checks `<index>.json`.
struct IndexOriginOptions: ParsableArguments {
    @Option(help: "The image folder (or cifar10) the index was built from; default: from <index>.json.")
    var data: String?

    @Option(help: "The split the index was built from: train or test.")
    var split: DataSplit?

    @Option(help: "The --limit the index was built with.")
    var limit: Int?

    /// The network, weights and preset the index was built with; default: from <index>.json.
    @OptionGroup var modelOptions: ModelOptions
    private var model: Model? { modelOptions.model }
    private var weights: String? { modelOptions.weights }
    private var seed: UInt64? { modelOptions.seed }
    private var preset: Preset? { modelOptions.preset }

    @Option(help: "The input side the index was built with, when it differs from the preset's.")
    var size: Int?

    @Option(
        help:
            "Re-ranking: none, or +-joined steps whiten-D, dba-N-ALPHA, qe-N-ALPHA, kr-K1-K2-LAMBDA (default: from <index>.json, else none)."
    )
    var rerank: String?

    @Flag(help: "The index holds raw embeddings (default: L2-normalized, as Experiments 3 and `index --normalize` write).")
    var rawEmbeddings = false

    func validate() throws {
        if let limit, limit <= 0 { throw ValidationError("--limit must be positive, got \(limit)") }
        if let size, !Preprocessing.sizes.contains(size) {
            throw ValidationError("--size must be from \(Preprocessing.sizes.lowerBound) to \(Preprocessing.sizes.upperBound)")
        }
    }

    /// The description of the index at `indexPath`: its sidecar, overridden by any option given.
    ///
    /// Throws a `FileError` naming the sidecar and the options to pass when there is no
    /// sidecar and `--weights` (or, when `needsData`, `--data`) is missing.
    func description(forIndex indexPath: String, needsData: Bool) throws -> IndexDescription {
        let files = CollectionFiles(index: indexPath)
        if var stored = try files.readDescription() {
            if let data { stored.data = data }
            if let split { stored.split = split }
            if let limit { stored.limit = limit }
            if let model { stored.model = model }
            if let weights { stored.weights = weights }
            if let seed { stored.seed = seed }
            if let preset { stored.preset = preset }
            if let size { stored.inputSize = size }
            if rawEmbeddings { stored.normalized = false }
            if let rerank { stored.rerank = rerank }
            if let precision = modelOptions.precision { stored.precision = precision }
            return stored
        }
        guard let weights, data != nil || !needsData else {
            throw FileError(
                files.descriptionPath,
                "missing, so how the index was made is unknown: pass the options it was built with, e.g. "
                    + (needsData ? "--data ../shared/data/cifar10-jpeg " : "") + "--weights random --seed 0 --preset cifar",
                kind: .missing)
        }
        return IndexDescription(
            data: data, split: split ?? .train, limit: limit, model: model, weights: weights, seed: seed ?? 0,
            preset: preset ?? ModelOptions.defaultPreset,
            inputSize: size, normalized: !rawEmbeddings, rerank: rerank, precision: modelOptions.precision)
    }

    /// Where the re-ranking comes from, for messages: `--rerank X` or the description's `"rerank"`.
    var rerankOrigin: String? { rerank.map { "--rerank \($0)" } }

    /// The re-ranking asked for: `--rerank`, else the one recorded in `<index>.json`, else none.
    func reranking(forIndex indexPath: String) throws -> RerankingPipeline {
        try RerankingPipeline(name: rerank ?? CollectionFiles(index: indexPath).readDescription()?.rerank ?? "none")
    }
}

/// `pic2vec serve`: the image search page and its JSON API over a saved index.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the image search page and JSON API (Hummingbird) over a saved FAISS index.",
        discussion: """
            Opens <outputs>/faiss_index.index (from `Experiments 3` or `pic2vec index`), the data set \
            behind it and the network that made it, as <index>.json records or the options below say. \
            Routes: GET / (the page), GET /api/search?index=N&k=K, POST /api/search?k=K (a JPEG or PNG \
            as the body or the multipart field `image`), GET /api/image/N (PNG), GET /api/info, \
            GET /api/map (binary map points), GET /audit (the audit page: duplicate pairs by tier and probable \
            label errors, each image marked keep, duplicate or wrong label; the marks are saved in \
            <index>.audit.json and exported by GET /api/audit/marks).
            The page's map of the collection is the t-SNE layout beside the index, tsne-train.npy \
            (N x 2 float32, from `Experiments 7` or `pic2vec tsne --output`), coloured by class or by \
            the k-means clusters in kmeans-assignments.npy (from `Experiments 6` or `pic2vec kmeans \
            --output`) when present; --map and --clusters name other files.
            The server follows the collection: when `pic2vec add` or `remove` commits a new generation, it opens \
            the new one while the old answers, then swaps between requests.
            """)

    @Option(help: "Address to listen on (loopback by default).")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0: any free port).")
    var port = 8080

    @Option(help: "Folder holding faiss_index.index (and its labels, checked against the data set).")
    var outputs = "outputs"

    @Option(help: "Index file; default: <outputs>/faiss_index.index.")
    var index: String?

    @OptionGroup var origin: IndexOriginOptions

    @Option(help: "The map's N x 2 float32 t-SNE layout .npy; default: tsne-train.npy beside the index, if present.")
    var map: String?

    @Option(help: "The map's N int64 k-means assignments .npy; default: kmeans-assignments.npy beside the index, if present.")
    var clusters: String?

    @Option(help: "Largest upload accepted, in MiB.")
    var maxUploadMiB = 10

    @Flag(help: "Do not load the network: searches by row only, no uploads.")
    var noModel = false

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be from 0 to 65535, got \(port)") }
        guard (1...256).contains(maxUploadMiB) else { throw ValidationError("--max-upload-mib must be from 1 to 256") }
    }

    func run() async throws {
        let indexPath = index ?? CollectionFiles.notebook(in: outputs).index
        try CollectionFiles(index: indexPath).recover()
        guard FileManager.default.fileExists(atPath: indexPath) else {
            throw FileError(indexPath, "no index here; \(SearchSetup.buildHint)")
        }
        let open = opener(indexPath: indexPath)
        let first = try await open()
        let mapLine =
            first.map.map {
                "map: \($0.count) points from \($0.source)" + ($0.clusters == nil ? "" : ", \($0.clusterCount) clusters")
            }
            ?? SearchSetup.mapHint
        FileHandle.standardError.write(Data((mapLine + "\n").utf8))
        let collection = LiveCollection(first)
        let audit = try AuditDesk(
            files: CollectionFiles(index: indexPath),
            trainedWeights: try origin.description(forIndex: indexPath, needsData: true).weights != "random")
        let host = self.host
        let follower = Task {
            await collection.follow(index: indexPath, open: open) { line in
                FileHandle.standardError.write(Data("\(indexPath): \(line)\n".utf8))
            }
        }
        defer { follower.cancel() }
        try await SearchAPI.serve(collection, audit: audit, host: host, port: port) { bound in
            let line = "Serving \(first.engine.count) images on http://\(host):\(bound)/ (\(first.engine.provenance))\n"
            FileHandle.standardOutput.write(Data(line.utf8))
        }
    }

    /// Opens the collection at `indexPath` as the options say: its engine, its map and the
    /// generation they are of (how `serve` starts and how it follows a changed collection).
    private func opener(indexPath: String) -> @Sendable () async throws -> LiveCollection.State {
        let origin = self.origin, noModel = self.noModel, maxUploadMiB = self.maxUploadMiB
        let map = self.map, clusters = self.clusters
        return {
            let description = try origin.description(forIndex: indexPath, needsData: true)
            let engine = try await SearchSetup.open(
                index: indexPath, description: description, withModel: !noModel,
                limits: SearchLimits(maxUploadBytes: maxUploadMiB << 20), rerankOrigin: origin.rerankOrigin)
            let collectionMap = try SearchSetup.map(forIndex: indexPath, rows: engine.count, layout: map, clusters: clusters)
            return LiveCollection.State(engine: engine, map: collectionMap, generation: description.generationNumber)
        }
    }
}
