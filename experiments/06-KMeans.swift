import Common
import Evaluation
import Foundation
import LabReport
import Plots
import VectorSearch

/// Experiment 06: k-means with 10 clusters on the normalized embeddings, against the true classes.
struct KMeansExperiment: Experiment {
    let number = 6
    let title = "k-means"

    func run(_ context: Context) async throws -> ReportSection {
        var section = ReportSection(number: number, title: title)
        let train = try context.dataset(.train)
        let points = try await context.embeddings(.train).l2Normalized()
        let start = Date()
        let result = try await context.clusters()
        let seconds = Date().timeIntervalSince(start)
        section.paragraph(
            "k-means (10 clusters; k-means++ seeding, then Lloyd iterations until converged by scikit-learn's rule, "
                + "at most \(context.kmeans.iterations); best of \(context.kmeans.restarts) restarts; seed \(context.seed)) on the "
                + "\(points.rows) L2-normalized train embeddings took \(String(format: "%.2f", seconds)) s; inertia "
                + "\(String(format: "%.2f", result.inertia)). Assignments: `\(context.collection.clustersPath)`.")

        if let labels = train.labels {
            let table = ContingencyTable(assignments: result.assignments, labels: labels)
            section.table(
                Table(
                    headers: ["purity", "NMI", "ARI"],
                    rows: [
                        [
                            ClusteringMetrics.purity(table), ClusteringMetrics.normalizedMutualInformation(table),
                            ClusteringMetrics.adjustedRandIndex(table),
                        ].map { String(format: "%.4f", $0) }
                    ],
                    rightAligned: [true, true, true]))
            section.paragraph(
                "Purity is the share of images in their cluster's majority class; NMI and ARI are 0 for a clustering "
                    + "unrelated to the classes and 1 for the classes themselves.")
            try context.figure(
                Heatmap(
                    title: "Clusters x classes" + context.weightsTag, rowLabels: table.clusters.map { "cluster \($0)" },
                    columnLabels: table.classes.map { train.classNames[$0] }, values: table.counts.map { $0.map(Double.init) },
                    xLabel: "true class", yLabel: "k-means cluster"),
                name: "06-contingency", caption: "Images per (cluster, class)" + context.weightsTag, in: &section)
        } else {
            section.paragraph("The data has no labels, so the clusters cannot be scored against classes.")
        }

        let perCluster = 8
        let index = try VectorIndex(dimension: points.columns)
        try index.add(points)
        let nearest = try index.search(result.centroids, k: min(perCluster, points.rows))
        var tiles: [ImageGrid.Tile] = []
        for cluster in 0..<result.centroids.rows {
            for id in nearest.ids(of: cluster) {
                let image = try train.image(at: id)
                let name = train.labels.map { train.classNames[$0[id]] } ?? "#\(id)"
                tiles.append(
                    ImageGrid.Tile(
                        pixels: image.pixels, width: image.width, height: image.height,
                        caption: "c\(cluster): \(name)"))
            }
        }
        try context.figure(
            ImageGrid(
                title: "The \(perCluster) images nearest each centroid (one row per cluster)" + context.weightsTag,
                tiles: tiles, columns: nearest.k, tileSide: 72),
            name: "06-centroid-neighbors", caption: "Images nearest each k-means centroid" + context.weightsTag,
            in: &section)
        return section
    }
}
