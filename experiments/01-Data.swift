import Common
import Foundation
import ImageData
import LabReport
import Plots

/// Experiment 01: what the data set holds — images per class, exact duplicates, samples.
struct DataExperiment: Experiment {
    let number = 1
    let title = "Data"

    func run(_ context: Context) async throws -> ReportSection {
        var section = ReportSection(number: number, title: title)
        let start = Date()
        let splits = try context.data()
        let loadSeconds = Date().timeIntervalSince(start)
        let named = [("train", splits.train)] + (splits.test.map { [("test", $0)] } ?? [])
        section.paragraph(
            "Data: \(splits.description). Loaded in \(String(format: "%.1f", loadSeconds)) s; "
                + named.map { "\($0.0): \($0.1.count) images" }.joined(separator: ", ") + ".")

        let train = splits.train
        if let labels = train.labels {
            var counts = Array(repeating: 0, count: train.classNames.count)
            for label in labels { counts[label] += 1 }
            let testCounts = splits.test?.labels.map { labels in
                labels.reduce(into: Array(repeating: 0, count: train.classNames.count)) { $0[$1] += 1 }
            }
            section.table(
                Table(
                    headers: ["label", "class", "train images"] + (testCounts == nil ? [] : ["test images"]),
                    rows: train.classNames.indices.map { i in
                        [String(i), train.classNames[i], String(counts[i])] + (testCounts.map { [String($0[i])] } ?? [])
                    }, rightAligned: [true, false, true, true].prefix(testCounts == nil ? 3 : 4).map { $0 }))
            try context.figure(
                BarChart(
                    title: "Train images per class", categories: train.classNames, values: counts.map(Double.init),
                    yLabel: "images"),
                name: "01-class-counts", caption: "Train images per class", in: &section)
        } else {
            section.paragraph("The data set has no labels (a flat folder), so there are no per-class counts.")
        }

        section.paragraph(try duplicateSummary(named))

        let picks = sampleIndices(count: train.count, take: 16, seed: context.seed)
        let tiles = try picks.map { i -> ImageGrid.Tile in
            let image = try train.image(at: i)
            let caption = train.labels.map { "#\(i) \(train.classNames[$0[i]])" } ?? "#\(i)"
            return ImageGrid.Tile(pixels: image.pixels, width: image.width, height: image.height, caption: caption)
        }
        try context.figure(
            ImageGrid(title: "Sample train images (seed \(context.seed))", tiles: tiles, columns: 4),
            name: "01-samples", caption: "16 train images chosen with seed \(context.seed), with their labels", in: &section)
        return section
    }

    /// Counts images whose decoded pixels are byte-identical to an earlier image's.
    private func duplicateSummary(_ named: [(String, any ImageDataset)]) throws -> String {
        var firstSeen: [String: (split: String, index: Int)] = [:]
        var within: [String: Int] = [:]
        var across = 0
        let total = named.reduce(0) { $0 + $1.1.count }
        let progress = Progress("hashing pixels", total: total, unit: "images")
        for (split, dataset) in named {
            within[split] = 0
            for i in 0..<dataset.count {
                var print = Fingerprint()
                print.update(try dataset.image(at: i).pixels)
                let key = print.finalize()
                if let earlier = firstSeen[key] {
                    if earlier.split == split { within[split, default: 0] += 1 } else { across += 1 }
                } else {
                    firstSeen[key] = (split, i)
                }
                progress.advance()
            }
        }
        progress.finish()
        var text = "Exact duplicates (byte-identical decoded pixels, SHA-256 per image): "
        text += named.map { "\(within[$0.0] ?? 0) repeated images within \($0.0)" }.joined(separator: ", ")
        if named.count > 1 { text += ", \(across) test images identical to a train image" }
        return text
            + ". For comparison, the Python notebook's own exact-duplicate check reported 0 in the official train set (quoted, not re-measured here)."
    }
}

/// `take` distinct indices below `count`, chosen by a seeded generator and sorted.
func sampleIndices(count: Int, take: Int, seed: UInt64) -> [Int] {
    var generator = SeededGenerator(seed: seed)
    var indices = Array(0..<count)
    for i in 0..<min(take, count) {
        indices.swapAt(i, Int.random(in: i..<count, using: &generator))
    }
    return Array(indices.prefix(take)).sorted()
}
