import ArgumentParser
import CollectionStore
import Common
import Foundation
import ImageData
import Networks
import VectorSearch

/// `pic2vec duplicates`: groups of near-identical images in a folder, or between two splits.
struct DuplicatesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "duplicates",
        abstract: "Find exact and near-duplicate images in a folder, or test images that leak from train.",
        discussion: """
            Reports pairs of images in three tiers, each pair with the distances of its evidence: identical (the \
            same decoded pixels), near-duplicate (edits of one photo: re-encoded, resized, cropped a little, \
            brightened or mirrored; linked by pixel evidence, 16x16 mean-subtracted thumbnails as is, mirrored \
            and centrally cropped) and similar (another photo of the same scene or object; linked by the \
            network's embeddings alone). Groups are the connected components of the identical and near-duplicate \
            links, largest first; each member is shown with its distance to the group's first member. \
            Two images are linked by one kind of evidence when one is among the other's --k nearest neighbors \
            (squared L2 between L2-normalized features, in [0, 4]) within its threshold. Distances differ in \
            scale between kinds of features, so each threshold is a fraction of the median nearest-neighbor \
            distance of the searched images (with --across A,B or --against: of the reference, so that the \
            queries never set their own scale): --relative-threshold for the grouping evidence (default \
            \(DuplicateSearch.thumbnailRelativeThreshold) for thumbnails, \
            \(DuplicateSearch.defaultRelativeThreshold(trainedFeatures: false)) for raw pixels), \
            --similar-relative-threshold for the network (default \(DuplicateSearch.defaultRelativeThreshold(trainedFeatures: true)) \
            for trained weights, \(DuplicateSearch.defaultRelativeThreshold(trainedFeatures: false)) for random ones); \
            --threshold and --similar-threshold set them directly. The defaults were chosen by planting \
            JPEG-recompressed, resized, cropped, brightened and mirrored copies among CIFAR-10 images and \
            measuring recall and precision (benchmarks/plant_duplicates.py; table in the README). \
            --features pixels or thumbnails uses that pixel evidence alone (no network, no similar tier). \
            With --across A,B every image of split B is compared with split A only (e.g. --across \
            train,test: test images that leak from the training set). --against an index searches the index \
            as it is: it holds no pixels, so its pairs are identical (same file bytes) or similar (network).
            JSON output (--json) follows the schema `\(DuplicateReport.schemaName)` documented in the README.
            """)

    @Option(help: "An image folder (flat, <class>/ folders, or train/ and test/), a CIFAR-10 batch folder, or cifar10.")
    var data: String

    @Option(help: "Where --data cifar10 looks for (and downloads) the archives.")
    var cifarRoot: String = "cifar"

    @Option(help: "Which split to search, when the data has train and test.")
    var split: DataSplit = .train

    @Option(help: "Two splits A,B: find images of B that duplicate images of A (e.g. train,test).")
    var across: String?

    @Option(
        help: """
            A reference: an image folder, or an index (X.index with its X.index.json, built with --normalize) searched \
            as it is, with its own model, weights and preset. Only images of --data that duplicate a reference image \
            are reported, never pairs inside the reference.
            """)
    var against: String?

    /// Whether --against names an index rather than an image folder.
    private var againstIndex: Bool {
        var folder: ObjCBool = false
        return against.map { !(FileManager.default.fileExists(atPath: $0, isDirectory: &folder) && folder.boolValue) } ?? false
    }

    @Option(
        help: """
            What to compare: network (tiers: thumbnails for near-duplicates and the embeddings of --weights for \
            similar images), thumbnails alone (16x16 mean-subtracted, as is, mirrored and centrally cropped), \
            or pixels alone (the preset's resized, normalized pixels).
            """)
    var features: FeatureKind = .network

    /// The network, weights (with --features network) and preset.
    @OptionGroup var modelOptions: ModelOptions
    private var model: Model { modelOptions.modelOrDefault }
    private var weights: String? { modelOptions.weights }
    private var seed: UInt64 { modelOptions.seedOrDefault }
    private var preset: Preset { modelOptions.presetOrDefault }

    @Option(
        help: "Largest squared L2 distance of the pixel evidence counted as a near-duplicate (default: see --relative-threshold)."
    )
    var threshold: Float?

    @Option(
        help: """
            Without --threshold: the pixel evidence's threshold as this fraction of its median nearest-neighbor \
            distance (within the searched split; with --across A,B within A) \
            (default: \(DuplicateSearch.thumbnailRelativeThreshold) for thumbnails, \
            \(DuplicateSearch.defaultRelativeThreshold(trainedFeatures: false)) with --features pixels).
            """)
    var relativeThreshold: Float?

    @Option(
        help:
            "Largest squared L2 distance between the network's embeddings counted as similar (default: see --similar-relative-threshold)."
    )
    var similarThreshold: Float?

    @Option(
        help: """
            Without --similar-threshold: the network's threshold as this fraction of its median nearest-neighbor \
            distance (default: \(DuplicateSearch.defaultRelativeThreshold(trainedFeatures: true)) with trained weights, \
            \(DuplicateSearch.defaultRelativeThreshold(trainedFeatures: false)) with random weights).
            """)
    var similarRelativeThreshold: Float?

    /// The pixel evidence's fraction: --relative-threshold, else the default for the pixel features.
    private var pixelFraction: Float {
        relativeThreshold
            ?? (features == .pixels
                ? DuplicateSearch.defaultRelativeThreshold(trainedFeatures: false) : DuplicateSearch.thumbnailRelativeThreshold)
    }

    /// The network's fraction: --similar-relative-threshold, else the default for `weights` (trained unless random).
    private func networkFraction(weights: String?) -> Float {
        similarRelativeThreshold ?? DuplicateSearch.defaultRelativeThreshold(trainedFeatures: weights != "random")
    }

    @Option(help: "Nearest neighbors examined per image.")
    var k: Int = 10

    @Option(help: "Use at most this many images of each split, spread evenly.")
    var limit: Int?

    @OptionGroup var threading: ThreadOptions

    @OptionGroup var format: JSONOption

    /// What the duplicate search compares.
    enum FeatureKind: String, ExpressibleByArgument, CaseIterable {
        case network, pixels, thumbnails
    }

    /// The names --across gives, trimmed.
    private var acrossNames: [String]? {
        across.map { $0.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) } }
    }

    /// The splits to compare: one, or (reference, queries) with --across.
    private var splits: [DataSplit] { acrossNames.map { $0.compactMap(DataSplit.init(rawValue:)) } ?? [split] }

    func validate() throws {
        for (name, value) in [
            ("--threshold", threshold), ("--relative-threshold", relativeThreshold), ("--similar-threshold", similarThreshold),
            ("--similar-relative-threshold", similarRelativeThreshold),
        ] {
            if let value, !(value.isFinite && value >= 0) {
                throw ValidationError("\(name) must be a number of at least 0, got \(value)")
            }
        }
        guard k > 0 else { throw ValidationError("--k must be positive, got \(k)") }
        if let limit, limit <= 0 { throw ValidationError("--limit must be positive") }
        for name in acrossNames ?? [] where DataSplit(rawValue: name) == nil {
            throw ValidationError("unknown split '\(name)': the splits are train and test")
        }
        if across != nil {
            guard splits.count == 2, splits[0] != splits[1] else {
                throw ValidationError("--across takes two different splits, e.g. train,test; got '\(across ?? "")'")
            }
        }
        if against != nil, across != nil { throw ValidationError("--against and --across cannot be combined") }
        if againstIndex {
            guard weights == nil, modelOptions.model == nil, modelOptions.preset == nil, features == .network else {
                throw ValidationError(
                    "--against an index uses the index's model, weights and preset: leave out --model, --weights, --preset and --features"
                )
            }
            guard threshold == nil, relativeThreshold == nil else {
                throw ValidationError(
                    "--against an index has no pixel evidence: set the network's threshold with --similar-threshold or --similar-relative-threshold"
                )
            }
            return
        }
        switch features {
        case .network where weights == nil:
            throw ValidationError("--features network needs --weights (torchvision, random or a PATH); or use --features pixels")
        case .pixels where weights != nil, .thumbnails where weights != nil:
            throw ValidationError("--weights is not used with --features \(features.rawValue)")
        case .pixels where similarThreshold != nil || similarRelativeThreshold != nil,
            .thumbnails where similarThreshold != nil || similarRelativeThreshold != nil:
            throw ValidationError(
                "--features \(features.rawValue) has no similar tier: leave out --similar-threshold and --similar-relative-threshold"
            )
        default: break
        }
    }

    /// The split of `path`, limited to --limit images.
    private func open(_ path: String, split: DataSplit) throws -> any ImageDataset {
        let dataset = try DataSource.open(path, root: cifarRoot).dataset(split, of: path)
        return limit.map { dataset.limited(to: $0) } ?? dataset
    }

    func run() async throws {
        if let against, againstIndex { return try await run(againstIndex: against) }
        let preprocessing = model.preprocessing(preset: preset)
        let datasets =
            try against.map { [try open($0, split: split), try open(data, split: split)] }
            ?? splits.map { try open(data, split: $0) }
        let pixelFeatures = embedding(features == .pixels ? .pixels : .thumbnails, preprocessing)
        let pixels = try searched(
            try datasets.map { try pixelFeatures.set($0) }, features: pixelFeatures.description, fraction: pixelFraction,
            given: threshold, progress: "pixel search")
        var network: Searched?
        if features == .network {
            let loaded = try await modelOptions.embedder(threads: threading.threads)
            let sets = try zip(datasets, pixels.evidence.sets).map { dataset, pixelSet in
                DuplicateSet(
                    points: try loaded.embedder.embed(dataset, progress: !format.json).l2Normalized(), keys: pixelSet.keys)
            }
            network = try searched(
                sets, features: loaded.description, fraction: networkFraction(weights: weights), given: similarThreshold,
                progress: "network search")
        }
        let report = DuplicateReport(
            groups: DuplicateSearch.groups(of: pixels.evidence.links, sets: pixels.evidence.sets), groupTier: .nearDuplicate,
            pairs: DuplicatePair.tiers(pixels: pixels.evidence, network: network?.evidence), grouping: pixels.summary,
            similar: network?.summary, names: against == nil ? splits.map(\.rawValue) : ["reference", "new"],
            ids: datasets.map(\.ids))
        try show(report)
    }

    /// One kind of evidence, searched: its links and how its threshold was set.
    private struct Searched {
        let evidence: DuplicateEvidence
        let summary: DuplicateReport.Evidence
    }

    /// The links within `sets[0]`, or of `sets[1]` against `sets[0]`, at `given` or `fraction` times
    /// the median nearest-neighbor distance within `sets[0]`.
    private func searched(_ sets: [DuplicateSet], features: String, fraction: Float, given: Float?, progress: String)
        throws -> Searched
    {
        let calibrated = try DuplicateSearch.calibrated(
            on: sets[0], fraction: fraction, given: given, k: k, threads: threading.threads,
            progress: format.json ? nil : progress)
        return Searched(
            evidence: try calibrated.evidence(of: sets),
            summary: DuplicateReport.Evidence(
                features: features, threshold: calibrated.search.threshold, thresholdRule: calibrated.rule,
                medianNearestDistance: calibrated.medianNearestDistance))
    }

    /// Finds which images of --data duplicate rows of the index at `path`, searched as it is.
    private func run(againstIndex path: String) async throws {
        let files = CollectionFiles(index: path)
        guard let description = try files.readDescription() else {
            throw FileError(
                files.descriptionPath, "is missing: --against needs the index's description (pic2vec index writes it)",
                kind: .missing)
        }
        guard description.normalized else {
            throw FileError(
                path, "holds rows that are not L2-normalized (built without --normalize): duplicate distances need them",
                kind: .mismatch)
        }
        let index = try VectorIndex(contentsOf: path, threads: threading.threads)
        guard index.metric == .l2 else {
            throw FileError(path, "compares by inner product: duplicates need squared L2", kind: .mismatch)
        }
        let dataset = try open(data, split: split)
        let weights = try await description.loadWeights(for: path)
        let embedder = Embedder(network: weights.network, preprocessing: description.preprocessing, threads: threading.threads)
        let points = try embedder.embed(dataset, progress: !format.json).l2Normalized()
        guard points.columns == index.dimension else {
            throw FileError(path, "has \(index.dimension)-d rows; \(weights.label) gives \(points.columns)-d", kind: .mismatch)
        }
        // Identical means the same file bytes here: the index keeps its files' SHA-256, not their pixels.
        let referenceList = try files.readFileList(rows: index.count)
        let queryFiles = try ImageFileList.of(dataset)
        let reference = DuplicateSet(
            points: try index.vectors(), keys: referenceList?.files.map(\.sha256) ?? (0..<index.count).map { "row \($0)" })
        let queries = DuplicateSet(
            points: points, keys: queryFiles?.files.map(\.sha256) ?? (0..<points.rows).map { "new row \($0)" })
        let calibrated = try DuplicateSearch.calibrated(
            onIndex: index, fraction: networkFraction(weights: description.weights), given: similarThreshold, k: k,
            threads: threading.threads)
        let neighbors = try index.search(points, k: min(k, index.count))
        let network = DuplicateEvidence(
            sets: [reference, queries], links: calibrated.search.links(of: queries, in: reference, neighbors: neighbors))
        let report = DuplicateReport(
            groups: DuplicateSearch.groups(of: network.links, sets: network.sets), groupTier: .similar,
            pairs: DuplicatePair.tiers(pixels: nil, network: network),
            grouping: DuplicateReport.Evidence(
                features: "\(weights.label), preset \(description.preprocessing.name)", threshold: calibrated.search.threshold,
                thresholdRule: calibrated.rule, medianNearestDistance: calibrated.medianNearestDistance),
            similar: nil, names: ["reference", "new"],
            ids: [referenceList?.files.map(\.path) ?? (0..<index.count).map { "\(path) row \($0)" }, dataset.ids])
        try show(report)
    }

    private func show(_ report: DuplicateReport) throws {
        if format.json {
            FileHandle.standardOutput.write(try report.json())
            print()
        } else {
            printTable(report)
        }
    }

    /// How images become a searched set of pixel evidence, and its description.
    private struct PixelFeatures {
        let description: String
        let set: (any ImageDataset) throws -> DuplicateSet
    }

    private func embedding(_ kind: FeatureKind, _ preprocessing: Preprocessing) -> PixelFeatures {
        guard kind == .thumbnails else {
            return PixelFeatures(description: "raw pixels, preset \(preprocessing.name) (\(preprocessing.size) px)") {
                DuplicateSet(points: try $0.pixelFeatures(preprocessing).l2Normalized(), keys: try $0.contentKeys())
            }
        }
        return PixelFeatures(description: "thumbnails, \(Thumbnail.side)x\(Thumbnail.side), as is, mirrored and cropped") {
            let thumbnails = try $0.thumbnails()
            return DuplicateSet(views: thumbnails.views, keys: thumbnails.keys)
        }
    }

    private func printTable(_ report: DuplicateReport) {
        let sets = report.sets.map { "\($0.images) \($0.name)" }.joined(separator: " + ")
        let count = { (tier: DuplicateTier) in report.pairs.filter { $0.tier == tier }.count }
        print("\(report.groups.count) groups, \(report.imagesInGroups) images, among \(sets) images")
        print(DuplicateTier.allCases.map { "\(count($0)) \($0.rawValue) pairs" }.joined(separator: ", "))
        for (name, evidence) in [("groups", report.grouping), ("similar tier", report.similar)] {
            guard let evidence else { continue }
            print(
                "\(name): \(evidence.features); threshold \(evidence.threshold) (squared L2, L2-normalized; \(evidence.thresholdRule); median nearest-neighbor distance \(evidence.medianNearestDistance))"
            )
        }
        let place = { (set: Int) in report.sets.count > 1 ? "\(report.sets[set].name) " : "" }
        for (number, group) in report.groups.enumerated() {
            print("")
            print("group \(number + 1): \(group.size) images, \(group.tier.rawValue)")
            for member in group.members {
                print(
                    String(format: "  %8.5f %@  %@%@", member.distance, member.exact ? "=" : " ", place(member.set), member.path))
            }
        }
        let similar = report.pairs.filter { $0.tier == .similar }
        guard !similar.isEmpty else { return }
        print("")
        print("similar pairs (network distance, pixel distance):")
        for pair in similar.prefix(Self.similarPairsShown) {
            let distances = [pair.networkDistance, pair.pixelDistance].map {
                $0.map { String(format: "%8.5f", $0) } ?? "       -"
            }
            print("  \(distances.joined(separator: " "))  \(place(pair.a.set))\(pair.a.path)  \(place(pair.b.set))\(pair.b.path)")
        }
        if similar.count > Self.similarPairsShown {
            print("  ... \(similar.count - Self.similarPairsShown) more (--json lists every pair)")
        }
    }

    /// How many similar pairs the table shows.
    private static let similarPairsShown = 50
}
