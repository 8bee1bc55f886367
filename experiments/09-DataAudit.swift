import Common
import Evaluation
import Foundation
import ImageData
import LabReport
import Plots
import VectorSearch

/// Experiment 09: a data audit of the embeddings: identical, near-duplicate and similar pairs within
/// train, within test and from test to train (leakage), label issues from neighbour votes and confident
/// learning, and outliers.
///
/// Near-duplicates follow Barz and Denzler, "Do We Train on Test Data? Purging CIFAR of
/// Near-Duplicates" (J. Imaging 2020): candidates are nearest neighbors in a CNN's feature space.
struct DataAuditExperiment: Experiment {
    let number = 9
    let title = "Data audit"
    /// Neighbors per image, for duplicates.
    let k = 10
    /// Neighbors that vote for an image's class (the default of `pic2vec label-issues`).
    let labelK = 20
    /// Share of train labels flipped at random to measure the label-issue search.
    let plantedShare = 0.02
    /// ciFAIR's share of CIFAR-10 test images with a duplicate in train or test (after manual review).
    let ciFAIRShare = 0.0325

    /// One searched relation: its name, each query's nearest neighbor in the network's embeddings, the tiered pairs.
    private struct Scope {
        let name: String
        /// The split of the queries and of their neighbors.
        let splits: (query: String, neighbor: String)
        let neighbors: Neighbors
        /// Identical, near-duplicate (thumbnails) and similar (network) pairs.
        let pairs: [DuplicatePair]
        /// The set whose images are counted (1: the test queries of test to train; else 0).
        let countedSet: Int

        var queries: Int { neighbors.queries }

        /// Each query's nearest neighbor and its distance.
        var nearest: [(id: Int, distance: Float)] {
            (0..<neighbors.queries).map { (neighbors.ids(of: $0).first ?? -1, neighbors.distances(of: $0).first ?? .infinity) }
        }
    }

    func run(_ context: Context) async throws -> ReportSection {
        var section = ReportSection(number: number, title: title)
        let train = try context.dataset(.train)
        let test = try context.data().test
        // One decoding of every image gives its thumbnails and its content key.
        let trainPictures = try train.thumbnails()
        let testPictures = try test.map { try $0.thumbnails() }
        let trainThumbnails = DuplicateSet(views: trainPictures.views, keys: trainPictures.keys)
        let testThumbnails = testPictures.map { DuplicateSet(views: $0.views, keys: $0.keys) }
        let trainSet = DuplicateSet(points: try await context.embeddings(.train).l2Normalized(), keys: trainPictures.keys)
        let testSet = try await testPictures.asyncMap {
            DuplicateSet(points: try await context.embeddings(.test).l2Normalized(), keys: $0.keys)
        }

        let start = Date()
        let fraction = DuplicateSearch.defaultRelativeThreshold(trainedFeatures: context.options.weights != "random")
        let calibrated = try DuplicateSearch.calibrated(on: trainSet, fraction: fraction, k: k)
        let search = calibrated.search
        let trainNeighbors = calibrated.referenceNeighbors
        let threshold = search.threshold
        let pixelCalibrated = try DuplicateSearch.calibrated(
            on: trainThumbnails, fraction: DuplicateSearch.thumbnailRelativeThreshold, k: k, progress: "thumbnail search")
        let pixelSearch = pixelCalibrated.search
        var scopes = [
            Scope(
                name: "within train", splits: ("train", "train"), neighbors: trainNeighbors,
                pairs: DuplicatePair.tiers(
                    pixels: try pixelCalibrated.evidence(of: [trainThumbnails]), network: try calibrated.evidence(of: [trainSet])),
                countedSet: 0)
        ]
        if let testSet, let testThumbnails {
            let within = try search.neighbors(within: testSet)
            let cross = try search.neighbors(of: testSet, in: trainSet)
            scopes.append(
                Scope(
                    name: "within test", splits: ("test", "test"), neighbors: within,
                    pairs: DuplicatePair.tiers(
                        pixels: try pixelSearch.evidence(of: [testThumbnails]),
                        network: try search.evidence(of: [testSet], neighbors: within)),
                    countedSet: 0))
            scopes.append(
                Scope(
                    name: "test to train", splits: ("test", "train"), neighbors: cross,
                    pairs: DuplicatePair.tiers(
                        pixels: try pixelSearch.evidence(of: [trainThumbnails, testThumbnails]),
                        network: try search.evidence(of: [trainSet, testSet], neighbors: cross)),
                    countedSet: 1))
        }
        let labelAudit = try train.labels.map {
            try LabelAudit(points: trainSet.points, labels: $0, k: labelK, plantedShare: plantedShare)
        }
        let auditSeconds = Date().timeIntervalSince(start)

        section.paragraph(
            "Duplicate tiers, as `pic2vec duplicates` reports them: identical (the same decoded pixels), near-duplicate "
                + "(edits of one photo: \(Thumbnail.side)x\(Thumbnail.side) mean-subtracted thumbnails, as is, mirrored "
                + "and centrally cropped, within " + String(format: "%.4g", pixelSearch.threshold)
                + ", \(DuplicateSearch.thumbnailRelativeThreshold) times their median nearest-neighbor distance within train) "
                + "and similar (linked by the network alone: L2-normalized embeddings within " + String(format: "%.4g", threshold)
                + ", \(fraction) times their median nearest-neighbor distance within train, "
                + String(format: "%.4g", calibrated.medianNearestDistance)
                + "). Each image's \(k) nearest neighbors (squared L2 distance, in [0, 4]): within train and within test "
                + "from one symmetric pass each, test to train from one exact flat search. An image counts in the "
                + "strictest tier of its pairs" + context.weightsTag + ".")
        section.table(tiersTable(scopes, testCount: testSet?.count))
        section.paragraph(
            "Barz and Denzler (ciFAIR, J. Imaging 2020) found that 3.25% of the CIFAR-10 test images have an exact "
                + "duplicate, near-duplicate or very similar image in the training set or in the test set itself. The "
                + "two counts can differ: they searched the original PNG-equivalent pixels while this copy is JPEG "
                + "(re-encoding makes exact copies only near); their candidates were reviewed by hand, with a looser "
                + "notion (\"very similar\": same object, slightly different pose or crop) than a single distance "
                + "threshold; and this threshold was tuned on planted copies, not on their labeled pairs.")

        try context.figure(
            distanceChart(scopes, threshold: threshold, tag: context.weightsTag),
            name: "09-nearest-distances",
            caption: "Nearest-neighbor distance of every image in the network's embeddings (up to the 99th percentile), "
                + "with the similar tier's threshold"
                + context.weightsTag, in: &section)
        try nearDuplicateGrid(scopes, train: train, test: test, context: context, in: &section)
        try pairGrids(scopes, train: train, test: test, threshold: threshold, context: context, in: &section)
        if let labelAudit {
            try labelIssues(labelAudit, train: train, context: context, in: &section)
        }
        try outliers(
            Uniqueness(distances: trainNeighbors.distances, width: trainNeighbors.k), train: train, context: context, in: &section
        )

        let looStart = Date()
        _ = try AllPairsSearch(metric: .l2).run(trainSet.points, k: min(100, trainSet.count - 1), groups: train.labels)
        let looSeconds = Date().timeIntervalSince(looStart)
        section.paragraph(
            String(
                format:
                    "Cost, given the embeddings and thumbnails: the whole audit (the neighbor searches of both kinds of evidence "
                    + "in the three scopes, the tiers, and the label-issue search with its planted-flip rerun) took %.2f s; one leave-one-out search of the train embeddings as in experiment 05 (k = 100 "
                    + "with the mAP@R rankings), timed in the same run, took %.2f s: a ratio of %.2f.",
                auditSeconds, looSeconds, auditSeconds / max(looSeconds, 1e-9)))
        section.paragraph(plantedTable(context))
        return section
    }

    /// Images per strictest tier in each scope, plus test images with a pair anywhere.
    private func tiersTable(_ scopes: [Scope], testCount: Int?) -> Table {
        var rows: [[String]] = []
        var test: [Int: DuplicateTier] = [:]
        for scope in scopes {
            let tiers = strictestTiers(scope)
            rows.append([scope.name, String(scope.queries)] + shares(tiers, of: scope.queries))
            if scope.name != "within train" { test.merge(tiers) { min($0, $1) } }
        }
        if let testCount {
            rows.append(["test, in train or test", String(testCount)] + shares(test, of: testCount))
            rows.append(["ciFAIR (CIFAR-10 test, reviewed)", "10000", "-", "-", "-", "-", "-", "-", "325", "3.25%"])
        }
        return Table(
            headers: ["scope", "images", "identical", "share", "near-duplicate", "share", "similar", "share", "any", "share"],
            rows: rows, rightAligned: [false] + Array(repeating: true, count: 9))
    }

    /// Counts per tier and in all, each with its share of `total`.
    private func shares(_ tiers: [Int: DuplicateTier], of total: Int) -> [String] {
        let counts = DuplicateTier.allCases.map { tier in tiers.values.filter { $0 == tier }.count } + [tiers.count]
        return counts.flatMap { [String($0), String(format: "%.2f%%", 100 * Double($0) / Double(max(total, 1)))] }
    }

    /// The strictest tier of each counted image of a scope that has a pair.
    private func strictestTiers(_ scope: Scope) -> [Int: DuplicateTier] {
        var tiers: [Int: DuplicateTier] = [:]
        for pair in scope.pairs {
            for item in [pair.link.a, pair.link.b] where item.set == scope.countedSet {
                tiers[item.row] = min(tiers[item.row] ?? pair.tier, pair.tier)
            }
        }
        return tiers
    }

    /// The share of images per distance bin up to the 99th percentile (or twice the threshold), one
    /// curve per scope, and the threshold as a dashed line.
    private func distanceChart(_ scopes: [Scope], threshold: Float, tag: String) -> LineChart {
        let all = scopes.flatMap { $0.nearest.map(\.distance) }.filter(\.isFinite).sorted()
        let top = Double(all.isEmpty ? 1 : all[min(all.count - 1, all.count * 99 / 100)])
        let bins = 60
        let width = max(top, Double(threshold) * 2) / Double(bins)
        var series = scopes.map { scope in
            var counts = [Int](repeating: 0, count: bins)
            for (_, d) in scope.nearest where d.isFinite && Int(Double(d) / width) < bins { counts[Int(Double(d) / width)] += 1 }
            return LineChart.Series(
                name: scope.name,
                points: counts.enumerated().map {
                    (x: (Double($0.offset) + 0.5) * width, y: Double($0.element) / Double(max(scope.queries, 1)))
                })
        }
        let peak = series.flatMap { $0.points.map(\.y) }.max() ?? 1
        series.append(
            LineChart.Series(
                name: "similar threshold \(String(format: "%.4g", threshold))",
                points: [(x: Double(threshold), y: 0), (x: Double(threshold), y: peak)], dashed: true))
        return LineChart(
            title: "Distance to the nearest neighbor" + tag, series: series,
            xLabel: "squared L2 distance (L2-normalized embeddings)", yLabel: "share of images per bin")
    }

    /// The near-duplicate pairs of every scope with the largest pixel distances: the least alike that the
    /// pixel evidence still links.
    private func nearDuplicateGrid(
        _ scopes: [Scope], train: any ImageDataset, test: (any ImageDataset)?, context: Context,
        in section: inout ReportSection
    ) throws {
        let near = scopes.flatMap { scope in
            scope.pairs.filter { $0.tier == .nearDuplicate }.map { (scope: scope, pair: $0) }
        }
        let chosen = near.sorted { ($0.pair.pixelDistance ?? 0) > ($1.pair.pixelDistance ?? 0) }.prefix(16)
        let title = "The \(chosen.count) near-duplicate pairs farthest apart in pixels"
        guard !chosen.isEmpty else {
            section.paragraph(title + ": none" + context.weightsTag + ".")
            return
        }
        var tiles: [ImageGrid.Tile] = []
        for (scope, pair) in chosen {
            for (side, item) in [pair.link.a, pair.link.b].enumerated() {
                let split = scope.countedSet == 1 && item.set == 0 ? "train" : scope.splits.query
                let dataset = split == "train" ? train : (test ?? train)
                let image = try dataset.image(at: item.row)
                let label = dataset.labels.map { dataset.classNames[$0[item.row]] } ?? ""
                let distances = String(format: "px %.3f net %.3f", pair.pixelDistance ?? .nan, pair.networkDistance ?? .nan)
                tiles.append(
                    ImageGrid.Tile(
                        pixels: image.pixels, width: image.width, height: image.height,
                        caption: "\(split) #\(item.row) \(label)\n" + (side == 0 ? distances : "")))
            }
        }
        try context.figure(
            ImageGrid(title: title + context.weightsTag, tiles: tiles, columns: 8, tileSide: 104, captionLines: 2),
            name: "09-near-duplicates",
            caption: title + " (pairs side by side, left to right; thumbnail and network distances)" + context.weightsTag,
            in: &section)
    }

    /// A pair of images to show.
    private struct Pair {
        let a: (split: String, row: Int)
        let b: (split: String, row: Int)
        let distance: Float
    }

    /// Grids of pairs just under and just over the threshold, and of the closest test-train pairs.
    private func pairGrids(
        _ scopes: [Scope], train: any ImageDataset, test: (any ImageDataset)?, threshold: Float,
        context: Context, in section: inout ReportSection
    ) throws {
        var pairs: [Pair] = []
        for scope in scopes {
            let mutual = scope.splits.query == scope.splits.neighbor
            let nearest = scope.nearest
            for (q, (id, d)) in nearest.enumerated() where id >= 0 && d.isFinite {
                if mutual, nearest[id].id == q, id < q { continue }
                pairs.append(Pair(a: (scope.splits.query, q), b: (scope.splits.neighbor, id), distance: d))
            }
        }
        let distinct = pairs.filter { $0.distance > 0 }
        let under = Array(distinct.filter { $0.distance <= threshold }.sorted { $0.distance > $1.distance }.prefix(8))
        let over = Array(distinct.filter { $0.distance > threshold }.sorted { $0.distance < $1.distance }.prefix(8))
        let closest = Array(
            pairs.filter { $0.a.split == "test" && $0.b.split == "train" }.sorted { $0.distance < $1.distance }.prefix(16))
        let limit = String(format: "%.4g", threshold)
        for (name, title, chosen) in [
            ("09-pairs-under-threshold", "The \(under.count) non-identical pairs just under the threshold (\(limit))", under),
            ("09-pairs-over-threshold", "The \(over.count) pairs just over the threshold (\(limit))", over),
            ("09-closest-test-train", "The \(closest.count) closest test-train pairs", closest),
        ] {
            guard !chosen.isEmpty else {
                section.paragraph(title + ": none" + context.weightsTag + ".")
                continue
            }
            var tiles: [ImageGrid.Tile] = []
            for pair in chosen {
                for (side, (split, row)) in [pair.a, pair.b].enumerated() {
                    let dataset = split == "train" ? train : (test ?? train)
                    let image = try dataset.image(at: row)
                    let label = dataset.labels.map { dataset.classNames[$0[row]] } ?? ""
                    tiles.append(
                        ImageGrid.Tile(
                            pixels: image.pixels, width: image.width, height: image.height,
                            caption: "\(split) #\(row) \(label)\n" + (side == 0 ? String(format: "d = %.4f", pair.distance) : ""),
                            frame: pair.distance <= threshold ? Color.red : nil))
                }
            }
            try context.figure(
                ImageGrid(title: title + context.weightsTag, tiles: tiles, columns: 8, tileSide: 104, captionLines: 2),
                name: name,
                caption: title + " in the network's embeddings (pairs side by side, left to right; red frames: linked "
                    + "by the network, the similar tier unless the pixels link them too)"
                    + context.weightsTag, in: &section)
        }
    }

    /// Label issues of the given labels and of labels with planted flips: each image's `labelK`
    /// nearest train images vote for its class (`NeighborVotes`), confident learning estimates how
    /// many labels are wrong (`LabelIssues`).
    private struct LabelAudit {
        let labels: [Int]
        let issues: LabelIssues
        /// Planted flips: how many, and the precision and recall of the flagged set.
        let planted: (flips: Int, flagged: Int, precision: Double, recall: Double)
        let seconds: Double

        init(points: Matrix, labels: [Int], k: Int, plantedShare: Double = 0.02, seed: UInt64 = 25) throws {
            let start = Date()
            let neighbors = try LabelIssueSearch.neighbors(of: points, k: min(k, points.rows - 1))
            let classes = (labels.max() ?? 0) + 1
            let find = { (labels: [Int]) in LabelIssueSearch(neighbors: neighbors, labels: labels).issues }
            self.labels = labels
            issues = find(labels)
            seconds = Date().timeIntervalSince(start)
            var generator = SeededGenerator(seed: seed)
            var noisy = labels
            let flips = classes > 1 ? Int((plantedShare * Double(labels.count)).rounded()) : 0
            let flipped = Set(Array(labels.indices).shuffled(using: &generator).prefix(flips))
            for row in flipped { noisy[row] = (labels[row] + Int.random(in: 1..<classes, using: &generator)) % classes }
            let found = find(noisy)
            let flagged = Set(found.ranked.prefix(found.flagged).map(\.row))
            let hits = Double(flagged.intersection(flipped).count)
            planted = (flips, flagged.count, hits / Double(max(flagged.count, 1)), hits / Double(max(flips, 1)))
        }
    }

    /// The label-issue paragraphs, per-class table and grid.
    private func labelIssues(
        _ audit: LabelAudit, train: any ImageDataset, context: Context, in section: inout ReportSection
    ) throws {
        let names = train.classNames
        let flagged = audit.issues.ranked.prefix(audit.issues.flagged)
        var perClass = [Int](repeating: 0, count: names.count)
        var classSize = [Int](repeating: 0, count: names.count)
        for label in audit.labels { classSize[label] += 1 }
        for issue in flagged { perClass[issue.label] += 1 }
        section.paragraph(
            "Label issues (`pic2vec label-issues`): each train image's \(labelK) nearest train images vote for its class, "
                + "weighted by cosine similarity; the score is 1 - p(given label); confident learning (cleanlab's "
                + "confident joint) estimates from the same probabilities how many labels are wrong: "
                + "\(flagged.count) of \(audit.labels.count) ("
                + String(format: "%.2f%%", 100 * Double(flagged.count) / Double(max(audit.labels.count, 1)))
                + String(format: ", %.2f s)", audit.seconds) + context.weightsTag + ".")
        section.paragraph(
            "Planted flips: \(audit.planted.flips) labels (\(String(format: "%g", 100 * plantedShare))%, seed 25) moved at "
                + "random to another class and the search run again: \(audit.planted.flagged) flagged, precision "
                + String(format: "%.3f, recall %.3f", audit.planted.precision, audit.planted.recall)
                + " (flags of labels wrong in the original data count against precision)" + context.weightsTag
                + ". `benchmarks/bench_label_issues.py` measures cleanlab on the same kind of set beside it.")
        section.table(
            Table(
                headers: ["class", "flagged", "share of class"],
                rows: names.indices.map {
                    [
                        names[$0], String(perClass[$0]),
                        String(format: "%.2f%%", 100 * Double(perClass[$0]) / Double(max(classSize[$0], 1))),
                    ]
                },
                rightAligned: [false, true, true]))
        let tiles = try flagged.prefix(32).map { issue in
            let image = try train.image(at: issue.row)
            return ImageGrid.Tile(
                pixels: image.pixels, width: image.width, height: image.height,
                caption: "#\(issue.row) \(names[issue.label])\n-> \(names[issue.suggested]) "
                    + String(format: "p %.1e", 1 - issue.score))
        }
        guard !tiles.isEmpty else { return }
        try context.figure(
            ImageGrid(
                title: "The \(tiles.count) most suspicious labels" + context.weightsTag, tiles: tiles,
                columns: 8, tileSide: 104, captionLines: 2),
            name: "09-label-issues",
            caption: "Flagged train images, most suspicious first: the given label, then the suggested one and "
                + "p(given label) (the score is 1 - p)" + context.weightsTag,
            in: &section)
    }

    /// The grid of the most unusual train images: the farthest from their `k`-th nearest neighbour.
    private func outliers(
        _ uniqueness: Uniqueness, train: any ImageDataset, context: Context, in section: inout ReportSection
    ) throws {
        let finite = uniqueness.scores.filter(\.isFinite).sorted()
        guard !finite.isEmpty else { return }
        let median = finite[finite.count / 2]
        section.paragraph(
            "Outliers: an image's uniqueness is the squared L2 distance to its \(k)th nearest train image (the "
                + "k-th, so that a pair of near-duplicates does not hide each other); the median is "
                + String(format: "%.4g", median) + context.weightsTag + ".")
        let tiles = try uniqueness.ranked.prefix(16).map { row in
            let image = try train.image(at: row)
            let label = train.labels.map { train.classNames[$0[row]] } ?? ""
            return ImageGrid.Tile(
                pixels: image.pixels, width: image.width, height: image.height,
                caption: "#\(row) \(label)\n"
                    + String(format: "%.3f (%.1fx median)", uniqueness.scores[row], uniqueness.scores[row] / max(median, 1e-12)))
        }
        try context.figure(
            ImageGrid(
                title: "The \(tiles.count) most unusual train images" + context.weightsTag, tiles: tiles, columns: 8,
                tileSide: 104, captionLines: 2),
            name: "09-outliers",
            caption: "Train images farthest from their \(k)th nearest train image, most unusual first: the label, then "
                + "the distance and its ratio to the median" + context.weightsTag,
            in: &section)
    }

    /// The planted-duplicates measurement, when `benchmarks/plant_duplicates.py` has written it.
    private func plantedTable(_ context: Context) -> String {
        let path = context.options.out + "/plant-duplicates.md"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            return "Recall and precision on planted duplicates: run `benchmarks/plant_duplicates.py` (it writes `\(path)`, "
                + "which this section then includes)."
        }
        return "Recall and precision of `pic2vec duplicates` on planted duplicates (from `\(path)`, written by "
            + "`benchmarks/plant_duplicates.py`):\n\n" + text
    }
}

extension Optional {
    /// `transform` of the wrapped value, awaited, or nil.
    fileprivate func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
