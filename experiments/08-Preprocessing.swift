import Common
import Foundation
import ImageData
import LabReport
import Networks
import Plots

/// Experiment 08: what the input does to retrieval. Input size, normalization, averaging with
/// the mirrored image, and the model, on a fixed class-balanced subset of train; raw pixels as
/// the floor. Leave-one-out P@1, P@10, mAP@R and embedding throughput for every setting.
struct PreprocessingExperiment: Experiment {
    let number = 8
    let title = "Preprocessing and model"
    /// Train images per class in the subset (the first ones of each class, in row order).
    let perClass = 200
    let sizes = [32, 64, 128, 224]
    let ks = [1, 10]

    /// One embedding setting.
    struct Setting {
        var weights: LoadedWeights
        var preprocessing: Preprocessing
        var normalization: String
        var mirrored: Bool
    }

    /// A measured setting.
    struct Measured {
        var setting: Setting
        var scores: RetrievalScores
        var imagesPerSecond: Double
        var series: String {
            "\(setting.weights.model.displayName), \(setting.normalization)" + (setting.mirrored ? ", + mirror" : "")
        }
    }

    func run(_ context: Context) async throws -> ReportSection {
        var section = ReportSection(number: number, title: title)
        guard let labels = try context.trainLabels(measuring: "retrieval", in: &section) else { return section }
        let train = try context.dataset(.train)
        let rows = balancedRows(labels)
        let subset = train.subset(rows)
        let subsetLabels = rows.map { labels[$0] }
        let weights = try await context.weights()
        var measured: [Measured] = []
        for setting in try await settings(weights, seed: context.seed) {
            let (points, rate) = try embed(subset, setting: setting, context: context)
            measured.append(
                Measured(
                    setting: setting,
                    scores: try RetrievalScores(points.l2Normalized(), labels: subsetLabels, ks: ks), imagesPerSecond: rate))
        }
        let pixels = try PrecisionSweepExperiment().pixelMatrix(subset).map {
            try RetrievalScores($0.l2Normalized(), labels: subsetLabels, ks: ks)
        }
        report(measured, pixels: pixels, subset: rows.count, of: train.count, weights: weights, in: &section)
        try drawFigures(measured, context: context, in: &section)
        return section
    }

    /// The rows of the first `perClass` images of each class, in row order.
    private func balancedRows(_ labels: [Int]) -> [Int] {
        var taken: [Int: Int] = [:]
        return labels.indices.filter { i in
            let seen = taken[labels[i], default: 0] + 1
            taken[labels[i]] = seen
            return seen <= perClass
        }
    }

    /// Every setting measured: each size with the notebook's and the model's own normalization
    /// (the latter also averaged with the mirror); with another model than ResNet18, a random
    /// ResNet18 at the smaller sizes for comparison.
    private func settings(_ weights: LoadedWeights, seed: UInt64) async throws -> [Setting] {
        var settings: [Setting] = []
        for size in sizes {
            for (name, preset) in [("mean/std 0.5", Preset.cifar), ("native", .imagenet)] {
                let base = weights.model.preprocessing(preset: preset)
                settings.append(
                    Setting(weights: weights, preprocessing: base.resized(to: size), normalization: name, mirrored: false))
                if preset == .imagenet {
                    settings.append(
                        Setting(weights: weights, preprocessing: base.resized(to: size), normalization: name, mirrored: true))
                }
            }
        }
        if weights.model != .resnet18 {
            let other = try await Weights.load(.random(seed: seed), model: .resnet18)
            for size in sizes where size <= 128 {
                let native = other.model.preprocessing(preset: .imagenet)
                settings.append(
                    Setting(weights: other, preprocessing: native.resized(to: size), normalization: "native", mirrored: false))
            }
        }
        return settings
    }

    /// The section's text and table: the subset, every setting's scores and speed, the Python
    /// reference where the weights are the pretrained Lite0, and the conclusion.
    private func report(
        _ measured: [Measured], pixels: RetrievalScores?, subset: Int, of trainCount: Int, weights: LoadedWeights,
        in section: inout ReportSection
    ) {
        section.paragraph(
            "A fixed class-balanced subset of train: the first \(perClass) images of each class in row order (all of a class "
                + "when it has fewer): \(subset) of the \(trainCount) train images. Leave-one-out, L2 distance on L2-normalized embeddings. `native` is the model's own "
                + "normalization (ImageNet mean/std for ResNets, `(x * 255 - 127) / 128` for EfficientNet-Lite), `mean/std 0.5` "
                + "the notebook's; `+ mirror` averages the embeddings of the image and its left-right mirror. Images are resized "
                + "with antialiased bilinear interpolation. images/s is embedding throughput on \(ProcessInfo.processInfo.activeProcessorCount) "
                + "cores (decoding and resizing included), measured when the setting was first embedded.")
        var tableRows = measured.map { m in
            [
                m.setting.weights.caption, String(m.setting.preprocessing.size), m.setting.normalization,
                m.setting.mirrored ? "yes" : "no",
            ]
                + ks.map { score(m.scores.precision[$0]) } + [score(m.scores.mapAtR), String(format: "%.0f", m.imagesPerSecond)]
        }
        if let pixels {
            tableRows.append(
                ["raw pixels", "32", "-", "no"] + ks.map { score(pixels.precision[$0]) } + [score(pixels.mapAtR), "-"])
        }
        section.table(
            Table(
                headers: ["model, weights", "size", "normalization", "mirror"] + ks.map { "P@\($0)" } + ["mAP@R", "images/s"],
                rows: tableRows))
        if weights.model == .efficientnetLite0 && !weights.isRandom {
            section.paragraph(
                "Python reference on the same 2,000 images (pretrained EfficientNet-Lite0, `../shared/weights/README.md`): "
                    + "P@10 0.258 at 32 px with mean/std 0.5, 0.571 at 224 px with the native normalization (P@1 0.652); "
                    + "raw pixels P@10 0.22.")
        }
        section.paragraph(conclusion(measured, pixels: pixels))
    }

    /// P@10 against input size and against embedding speed, one line per model and normalization.
    private func drawFigures(_ measured: [Measured], context: Context, in section: inout ReportSection) throws {
        let groups = Dictionary(grouping: measured, by: \.series)
        let names = measured.map(\.series).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        try context.figure(
            LineChart(
                title: "P@10 against input size" + context.weightsTag,
                series: names.map { name in
                    LineChart.Series(
                        name: name,
                        points: (groups[name] ?? []).compactMap { m in
                            m.scores.precision[10].map { (x: Double(m.setting.preprocessing.size), y: $0) }
                        }, dashed: name.hasSuffix("mirror"))
                }, xLabel: "input side (px)", yLabel: "leave-one-out P@10", logarithmicX: true),
            name: "08-precision-by-size",
            caption: "P@10 against input size, one line per model and normalization" + context.weightsTag,
            in: &section)
        try context.figure(
            LineChart(
                title: "P@10 against embedding speed" + context.weightsTag,
                series: names.map { name in
                    LineChart.Series(
                        name: name,
                        points: (groups[name] ?? []).sorted { $0.imagesPerSecond < $1.imagesPerSecond }.compactMap { m in
                            m.scores.precision[10].map { (x: m.imagesPerSecond, y: $0) }
                        }, dashed: name.hasSuffix("mirror"))
                }, xLabel: "images/s (each line: 224, 128, 64, 32 px from left to right)", yLabel: "leave-one-out P@10",
                logarithmicX: true),
            name: "08-precision-by-speed", caption: "P@10 against images/s: what each setting costs" + context.weightsTag,
            in: &section)
    }

    /// The embeddings of `dataset` under `setting` (averaged with the mirror's when asked) and the
    /// images per second it took, both from the cache when made before.
    private func embed(_ dataset: any ImageDataset, setting: Setting, context: Context) throws -> (Matrix, Double) {
        let p = setting.preprocessing
        let inputs = [
            "data": dataset.fingerprint, "model": setting.weights.model.rawValue, "weights": setting.weights.hash,
            "size": String(p.size), "mean": "\(p.mean)", "std": "\(p.std)", "mirror": String(setting.mirrored),
        ]
        let name =
            "08-embeddings-\(setting.weights.model.rawValue)-\(setting.weights.hash.prefix(8))-\(p.size)-"
            + "\(setting.normalization == "native" ? "native" : "half")\(setting.mirrored ? "-mirror" : "")"
        if let path = context.cache.lookup(name + ".npy", inputs: inputs),
            let rate = context.cache.lookup(name + ".rate", inputs: inputs),
            let text = try? String(contentsOfFile: rate, encoding: .utf8), let value = Double(text)
        {
            return (try Matrix.read(npy: path), value)
        }
        log(
            "   embedding \(dataset.count) images: \(setting.weights.model.displayName) \(p.size) px, \(setting.normalization)"
                + (setting.mirrored ? ", + mirror" : ""))
        let embedder = Embedder(network: setting.weights.network, preprocessing: p)
        let start = Date()
        var points = try embedder.embed(dataset, progress: false)
        if setting.mirrored {
            let mirrored = try embedder.embed(MirroredDataset(base: dataset), progress: false)
            points = Matrix(
                rows: points.rows, columns: points.columns,
                values: zip(points.l2Normalized().values, mirrored.l2Normalized().values).map { ($0 + $1) / 2 })
        }
        let rate = Double(dataset.count) / max(Date().timeIntervalSince(start), 1e-9)
        try context.cache.store(name + ".npy", inputs: inputs) { try points.write(npy: $0) }
        try context.cache.store(name + ".rate", inputs: inputs) {
            try String(rate).write(toFile: $0, atomically: false, encoding: .utf8)
        }
        return (points, rate)
    }

    /// The conclusion drawn from the measurements: the best setting, its gain over the notebook's
    /// setting (32 px, mean/std 0.5, no mirror, same model and weights) and what it costs.
    private func conclusion(_ measured: [Measured], pixels: RetrievalScores?) -> String {
        guard let best = measured.max(by: { ($0.scores.precision[10] ?? 0) < ($1.scores.precision[10] ?? 0) }),
            let bestP = best.scores.precision[10]
        else { return "No setting could be measured." }
        let p = best.setting.preprocessing
        var text =
            "Best P@10: \(score(bestP)) with \(best.setting.weights.caption) at \(p.size) px, \(best.setting.normalization)"
            + (best.setting.mirrored ? ", averaged with the mirror" : "")
            + String(format: " (%.0f images/s)", best.imagesPerSecond) + "."
        if let notebook = measured.first(where: {
            $0.setting.weights.hash == best.setting.weights.hash && $0.setting.preprocessing.size == 32
                && $0.setting.normalization == "mean/std 0.5" && !$0.setting.mirrored
        }), let notebookP = notebook.scores.precision[10] {
            text +=
                " The notebook's setting (32 px, mean/std 0.5) with the same model and weights reaches \(score(notebookP)): "
                + String(
                    format: "%+.4f (%.2fx) for the best setting, which embeds %.1fx slower.", bestP - notebookP,
                    bestP / max(notebookP, 1e-9), notebook.imagesPerSecond / max(best.imagesPerSecond, 1e-9))
        }
        if let single = measured.first(where: {
            $0.setting.weights.hash == best.setting.weights.hash && $0.setting.preprocessing.size == p.size
                && $0.setting.normalization == best.setting.normalization && !$0.setting.mirrored
        }), best.setting.mirrored, let singleP = single.scores.precision[10] {
            text += String(format: " The mirror adds %+.4f over the same setting without it, at half the speed.", bestP - singleP)
        }
        if let pixels, let pixelP = pixels.precision[10] {
            text += " Raw pixels: \(score(pixelP))."
        }
        return text
    }
}
