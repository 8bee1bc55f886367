import Common
import Foundation
import ImageData
import LabReport
import Networks
import Plots

/// Experiment 05: leave-one-out Precision@k for k from 1 to 100, overall and per class, with mAP@R,
/// against two baselines on the same images: raw pixels and the same model with random weights.
struct PrecisionSweepExperiment: Experiment {
    let number = 5
    let title = "Precision@k sweep"
    let ks = Context.retrievalKs

    func run(_ context: Context) async throws -> ReportSection {
        var section = ReportSection(number: number, title: title)
        guard let labels = try context.trainLabels(measuring: "Precision@k", in: &section) else { return section }
        let train = try context.dataset(.train)
        let weights = try await context.weights()
        let main = try await context.normalizedRetrievalScores()
        var contenders: [(name: String, scores: RetrievalScores)] = [(weights.caption, main)]
        if !weights.isRandom {
            let random = try await Weights.load(.random(seed: context.seed), model: weights.model)
            let points = try await context.embeddings(.train, with: random).l2Normalized()
            contenders.append((random.caption, try RetrievalScores(points, labels: labels, ks: ks)))
        }
        if let pixels = try pixelMatrix(train) {
            contenders.append(("raw pixels (L2-normalized)", try RetrievalScores(pixels.l2Normalized(), labels: labels, ks: ks)))
        } else {
            section.paragraph("The raw-pixel baseline needs images of one size; this data mixes sizes.")
        }

        let rows = contenders.map { $0.scores.row($0.name, ks: ks) }
        let series = contenders.map { $0.scores.series($0.name, ks: ks) }
        section.paragraph(
            "Leave-one-out over the \(labels.count) train images, L2 distance on L2-normalized vectors (the query itself "
                + "is excluded, as in the notebook, which reported P@5 = 0.4596 and P@10 = 0.4373 with ImageNet weights "
                + "on the official CIFAR-10 train set). Chance level is 1/\(train.classNames.count).")
        section.table(Table(headers: ["representation"] + ks.map { "P@\($0)" } + ["mAP@R"], rows: rows))
        try context.figure(
            LineChart(
                title: "Precision@k, leave-one-out" + context.weightsTag, series: series, xLabel: "k",
                yLabel: "precision", logarithmicX: true, yRange: (0, 1)),
            name: "05-precision-at-k", caption: "Precision@k against two baselines" + context.weightsTag, in: &section)

        section.table(
            Table(
                headers: ["class"] + ks.map { "P@\($0)" },
                rows: train.classNames.indices.map { c in [train.classNames[c]] + ks.map { score(main.perClass[$0]?[c]) } }))
        try context.figure(
            LineChart(
                title: "Precision@k per class" + context.weightsTag,
                series: train.classNames.indices.map { c in
                    LineChart.Series(
                        name: train.classNames[c],
                        points: ks.compactMap { k in main.perClass[k]?[c].map { (x: Double(k), y: $0) } })
                }, xLabel: "k", yLabel: "precision", logarithmicX: true, yRange: (0, 1)),
            name: "05-precision-per-class", caption: "Precision@k of each class's queries" + context.weightsTag,
            in: &section)
        return section
    }

    /// Every image's pixels scaled to [0, 1] as one row, or nil when the images differ in size.
    func pixelMatrix(_ dataset: any ImageDataset) throws -> Matrix? {
        guard dataset.count > 0 else { return nil }
        let first = try dataset.image(at: 0)
        let columns = first.pixels.count
        var values = [Float]()
        values.reserveCapacity(dataset.count * columns)
        for i in 0..<dataset.count {
            let image = try dataset.image(at: i)
            guard image.width == first.width, image.height == first.height else { return nil }
            values.append(contentsOf: image.pixels.map { Float($0) / 255 })
        }
        return Matrix(rows: dataset.count, columns: columns, values: values)
    }
}
