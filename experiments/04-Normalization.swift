import Common
import Foundation
import LabReport
import Plots
import VectorSearch

/// Experiment 04: does L2 normalization matter? Leave-one-out Precision@k on raw and normalized
/// embeddings, ranked by L2 distance and by inner product.
struct NormalizationExperiment: Experiment {
    let number = 4
    let title = "Normalized vs unnormalized"

    func run(_ context: Context) async throws -> ReportSection {
        var section = ReportSection(number: number, title: title)
        guard let labels = try context.trainLabels(measuring: "Precision@k", in: &section) else { return section }
        let raw = try await context.embeddings(.train)
        let normalized = raw.l2Normalized()
        let ks = [1, 5, 10, 20, 50, 100]
        let variants: [(name: String, metric: Metric, scores: RetrievalScores)] = [
            ("raw, L2 distance", .l2, try RetrievalScores(raw, labels: labels, ks: ks, metric: .l2)),
            ("raw, inner product", .innerProduct, try RetrievalScores(raw, labels: labels, ks: ks, metric: .innerProduct)),
            ("L2-normalized, L2 distance", .l2, try await context.normalizedRetrievalScores()),
            (
                "L2-normalized, inner product (cosine)", .innerProduct,
                try RetrievalScores(normalized, labels: labels, ks: ks, metric: .innerProduct)
            ),
        ]
        let rows = variants.map { $0.scores.row($0.name, ks: ks) }
        let series = variants.map { $0.scores.series($0.name, ks: ks, dashed: $0.metric == .innerProduct) }
        section.table(Table(headers: ["embeddings, ranking"] + ks.map { "P@\($0)" } + ["mAP@R"], rows: rows))
        let norms = raw.rowNorms
        let spread = (norms.max() ?? 0) / max(norms.min() ?? 1, 1e-12)
        section.paragraph(
            "Leave-one-out over the \(raw.rows) train images (the query itself is never counted). On L2-normalized "
                + "vectors the squared L2 distance is 2 - 2 cos, so L2 and cosine rank neighbors identically: the last "
                + "two rows agree up to ties. On raw vectors the largest embedding norm here is "
                + String(format: "%.1f", spread) + "x the smallest; the inner product then favors images with large "
                + "norms whatever their direction, and L2 distance mixes length into the comparison. "
                + "What the table measures is the size of that effect on this data and these weights.")
        try context.figure(
            LineChart(
                title: "Precision@k: raw vs normalized" + context.weightsTag, series: series, xLabel: "k",
                yLabel: "leave-one-out precision", logarithmicX: true),
            name: "04-normalization",
            caption: "Leave-one-out Precision@k for raw and L2-normalized embeddings"
                + context.weightsTag, in: &section)
        return section
    }
}
