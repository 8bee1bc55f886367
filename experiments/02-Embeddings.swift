import Common
import Foundation
import ImageData
import LabReport
import Networks
import Plots

/// Experiment 02: every image through the chosen network (no classifier) into one embedding.
struct EmbeddingsExperiment: Experiment {
    let number = 2
    let title = "Embeddings"

    func run(_ context: Context) async throws -> ReportSection {
        var section = ReportSection(number: number, title: title)
        let weights = try await context.weights()
        let preprocessing = try context.preprocessing()
        section.paragraph(
            "Model: \(weights.model.displayName) (\(weights.model.outputDimension)-d). Weights: \(weights.label) (SHA-256 `\(weights.hash.prefix(16))`). Preprocessing: `\(preprocessing.name)` "
                + "(\(preprocessing.size)x\(preprocessing.size) input, mean \(preprocessing.mean), std \(preprocessing.std)). "
                + "Embeddings are the \(weights.model.outputDimension) averaged features before the classifier, stored raw (unnormalized) "
                + "in `\(context.options.out)/embeddings-raw-<split>.npy`.")
        let splits: [DataSplit] = try context.data().test == nil ? [.train] : [.train, .test]
        var rows: [[String]] = []
        var trainNorms: [Double] = []
        for split in splits {
            let matrix = try await context.embeddings(split)
            let norms = matrix.rowNorms.map(Double.init).sorted()
            if split == .train { trainNorms = norms }
            let speed =
                context.embeddingSeconds[split].map { seconds in
                    (String(format: "%.1f", seconds), String(format: "%.0f", Double(matrix.rows) / seconds))
                } ?? ("cached", "cached")
            rows.append([
                split.rawValue, String(matrix.rows), String(matrix.columns), speed.0, speed.1,
                format(norms.first), format(norms.reduce(0, +) / Double(max(norms.count, 1))),
                format(norms.isEmpty ? nil : norms[norms.count / 2]), format(norms.last),
            ])
        }
        section.table(
            Table(
                headers: ["split", "images", "dim", "seconds", "images/s", "min norm", "mean norm", "median norm", "max norm"],
                rows: rows))
        section.paragraph(
            "Raw embedding norms vary from image to image; this is why experiment 04 compares retrieval on raw and "
                + "L2-normalized embeddings.")
        try context.figure(
            Histogram(
                title: "Raw embedding norms, train" + context.weightsTag, values: trainNorms, bins: 50,
                xLabel: "L2 norm of the \(weights.model.outputDimension)-d embedding"),
            name: "02-embedding-norms", caption: "Distribution of raw embedding norms (train)" + context.weightsTag,
            in: &section)
        return section
    }

    private func format(_ value: Double?) -> String { value.map { String(format: "%.3f", $0) } ?? "-" }
}
