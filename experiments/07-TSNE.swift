import CollectionStore
import Common
import Evaluation
import Foundation
import LabReport
import Plots
import TSNE
import VectorSearch

/// Experiment 07: t-SNE of all train embeddings to 2-D, colored by k-means cluster and by class.
struct TSNEExperiment: Experiment {
    let number = 7
    let title = "t-SNE"

    func run(_ context: Context) async throws -> ReportSection {
        var section = ReportSection(number: number, title: title)
        let train = try context.dataset(.train)
        let points = try await context.embeddings(.train).l2Normalized()
        let tsne = TSNE(perplexity: 30, seed: context.seed)
        var inputs = try await context.embeddingInputs(.train)
        inputs["tsne"] = "perplexity=30 iterations=\(tsne.iterations) init=pca seed=\(context.seed)"
        let start = Date()
        let xy: Matrix
        var kl: Double?
        if let path = context.cache.lookup(CollectionFiles.layoutName, inputs: inputs) {
            xy = try Matrix.read(npy: path)
        } else {
            let result = try tsne.embed(points, progress: true)
            xy = result.embedding
            kl = result.klDivergence
            try context.cache.store(CollectionFiles.layoutName, inputs: inputs) { try xy.write(npy: $0) }
        }
        let seconds = Date().timeIntervalSince(start)
        section.paragraph(
            "t-SNE (perplexity 30, \(tsne.iterations) iterations with early exaggeration, PCA initialization, "
                + "FFT-accelerated repulsion, seed \(context.seed)) of the \(points.rows) L2-normalized train embeddings: "
                + (kl == nil ? "read from the cache (`\(CollectionFiles.layoutName)`)" : "\(String(format: "%.1f", seconds)) s")
                + ". The 2-D points are in `\(context.collection.layoutPath)`.")

        let neighbors = try AllPairsSearch(metric: .l2).run(points, k: min(10, points.rows - 1)).neighbors
        var rows = [
            [
                "k-NN preservation (10 nearest in \(points.columns)-d kept among 10 nearest in 2-D)",
                String(
                    format: "%.4f",
                    ProjectionQuality.neighborPreservation(
                        original: neighbors.ids, originalK: neighbors.k, projection: xy, k: neighbors.k)),
            ]
        ]
        if let kl { rows.insert(["KL divergence", String(format: "%.4f", kl)], at: 0) }
        if let labels = train.labels {
            rows.append([
                "2-D 10-NN class agreement",
                String(format: "%.4f", ProjectionQuality.classAgreement(projection: xy, labels: labels, k: 10)),
            ])
        }
        section.table(Table(headers: ["measure", "value"], rows: rows))

        let xyPoints = (0..<xy.rows).map { (x: Double(xy.values[2 * $0]), y: Double(xy.values[2 * $0 + 1])) }
        let clusters = try await context.clusters()
        try context.figure(
            ScatterPlot(
                title: "t-SNE colored by k-means cluster" + context.weightsTag, points: xyPoints,
                groups: clusters.assignments, groupNames: (0..<clusters.centroids.rows).map { "cluster \($0)" }),
            name: "07-tsne-clusters",
            caption: "t-SNE of the train embeddings, colored by k-means cluster (as the notebook)"
                + context.weightsTag, in: &section)
        if let labels = train.labels {
            try context.figure(
                ScatterPlot(
                    title: "t-SNE colored by true class" + context.weightsTag, points: xyPoints, groups: labels,
                    groupNames: train.classNames),
                name: "07-tsne-classes", caption: "t-SNE of the train embeddings, colored by true class" + context.weightsTag,
                in: &section)
        }
        return section
    }
}
