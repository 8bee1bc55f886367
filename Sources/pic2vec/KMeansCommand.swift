import ArgumentParser
import Common
import Foundation
import VectorSearch

/// `pic2vec kmeans`: k-means clustering of an embedding file (k-means++ seeding, then Lloyd iterations).
struct KMeansCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kmeans",
        abstract: "Cluster N x d float32 embeddings: k-means++ seeding, then Lloyd iterations.")

    @Option(help: "Input .npy of float32 embeddings, one per row.")
    var embeddings: String

    @Option(name: .customLong("k"), help: "Number of clusters.")
    var clusters = 10

    @Option(help: "Seed for the initial centroids.")
    var seed = 0

    @Option(help: "Most Lloyd iterations per restart (they stop earlier once the centroids settle).")
    var iterations = 300

    @Option(help: "Restarts (each seeded by k-means++); the lowest-inertia run is kept.")
    var restarts = KMeans.defaultRestarts

    @OptionGroup var normalization: NormalizeOption

    @Option(help: "Output .npy of int64 cluster assignments.")
    var output: String?

    @OptionGroup var format: JSONOption

    @OptionGroup var threading: ThreadOptions

    func validate() throws {
        guard clusters > 0, iterations > 0, restarts > 0 else {
            throw ValidationError("--k, --iterations and --restarts must be positive")
        }
    }

    func run() throws {
        let points = try EmbeddingFile.read(embeddings, normalize: normalization.normalize)
        let started = Date()
        let result = try KMeans(
            clusters: clusters, iterations: iterations, restarts: restarts, seed: seed, threads: threading.threads
        ).fit(
            points)
        let seconds = Date().timeIntervalSince(started)
        if let output { try NPY.write(result.assignments, to: output) }
        if format.json {
            try printJSON(KMeansOutput(n: points.rows, k: clusters, inertia: result.inertia, seconds: seconds))
        } else {
            print(
                "k-means: \(clusters) clusters over \(points.rows) rows, inertia \(result.inertia) (\(String(format: "%.2f", seconds)) s)"
            )
        }
    }
}
