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
            Embeds every image (the network, or raw pixels with --features pixels), L2-normalizes the \
            embeddings, and links two images when one is among the other's --k nearest neighbors at a \
            squared L2 distance of at most --threshold (one all-pairs search; distances lie in [0, 4]). \
            Images with identical decoded pixels are always linked, whatever the threshold. Groups are the \
            connected components, largest first; each member is shown with its distance to the group's \
            first member. Distances of different models (or raw pixels) differ in scale, so by default the \
            threshold is --relative-threshold times the median nearest-neighbor distance of the searched images \
            (with --across A,B: of split A within itself, so the queries never set their own scale) \
            (default \(DuplicateSearch.defaultRelativeThreshold(trainedFeatures: true)) for trained weights, \
            \(DuplicateSearch.defaultRelativeThreshold(trainedFeatures: false)) for random weights and raw pixels); \
            --threshold sets it directly. The default fractions were chosen by planting JPEG-recompressed, resized, cropped, brightened and flipped copies into \
            CIFAR-10 images and measuring recall and precision (benchmarks/plant_duplicates.py; table in the README).
            With --across A,B every image of split B is compared with split A only (e.g. --across \
            train,test: test images that leak from the training set).
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
            What to compare: network (the embeddings of --weights), pixels (the preset's resized, normalized pixels), \
            or thumbnails (8x8 mean-subtracted thumbnails, as is, mirrored and centrally cropped: near-duplicates \
            that were re-encoded, resized, cropped a little, brightened or mirrored).
            """)
    var features: FeatureKind = .network

    /// The network, weights (with --features network) and preset.
    @OptionGroup var modelOptions: ModelOptions
    private var model: Model { modelOptions.modelOrDefault }
    private var weights: String? { modelOptions.weights }
    private var seed: UInt64 { modelOptions.seedOrDefault }
    private var preset: Preset { modelOptions.presetOrDefault }

    @Option(
        help:
            "Largest squared L2 distance between L2-normalized embeddings counted as a duplicate (default: see --relative-threshold)."
    )
    var threshold: Float?

    @Option(
        help: """
            Without --threshold: the threshold as this fraction of the median nearest-neighbor distance \
            (within the searched split; with --across A,B within A) \
            (default: \(DuplicateSearch.defaultRelativeThreshold(trainedFeatures: true)) with trained weights, \
            \(DuplicateSearch.defaultRelativeThreshold(trainedFeatures: false)) with random weights or --features pixels, \
            \(DuplicateSearch.thumbnailRelativeThreshold) with --features thumbnails).
            """)
    var relativeThreshold: Float?

    /// The fraction in use: --relative-threshold, else the default for these features (network
    /// features are trained unless `weights` is random).
    private func fraction(weights: String?) -> Float {
        relativeThreshold
            ?? (features == .thumbnails
                ? DuplicateSearch.thumbnailRelativeThreshold
                : DuplicateSearch.defaultRelativeThreshold(trainedFeatures: features == .network && weights != "random"))
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
        if let threshold, !(threshold.isFinite && threshold >= 0) {
            throw ValidationError("--threshold must be a number of at least 0, got \(threshold)")
        }
        if let relativeThreshold, !(relativeThreshold.isFinite && relativeThreshold >= 0) {
            throw ValidationError("--relative-threshold must be a number of at least 0, got \(relativeThreshold)")
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
            return
        }
        switch features {
        case .network where weights == nil:
            throw ValidationError("--features network needs --weights (torchvision, random or a PATH); or use --features pixels")
        case .pixels where weights != nil, .thumbnails where weights != nil:
            throw ValidationError("--weights is not used with --features \(features.rawValue)")
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
        let embed = try await embedding(preprocessing)
        let sets = try datasets.map { dataset in
            try embed.set(dataset)
        }
        let calibrated = try DuplicateSearch.calibrated(
            on: sets[0], fraction: fraction(weights: weights), given: threshold, k: k, threads: threading.threads)
        let search = calibrated.search
        let groups =
            sets.count == 2
            ? try search.groups(of: sets[1], in: sets[0])
            : search.groups(in: sets[0], neighbors: calibrated.referenceNeighbors)
        let report = DuplicateReport(
            groups: groups, threshold: search.threshold, thresholdRule: calibrated.rule,
            medianNearestDistance: calibrated.medianNearestDistance, features: embed.description,
            names: against == nil ? splits.map(\.rawValue) : ["reference", "new"], ids: datasets.map(\.ids))
        try show(report)
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
            onIndex: index, fraction: fraction(weights: description.weights), given: threshold, k: k, threads: threading.threads)
        let neighbors = try index.search(points, k: min(k, index.count))
        let report = DuplicateReport(
            groups: calibrated.search.groups(of: queries, in: reference, neighbors: neighbors),
            threshold: calibrated.search.threshold, thresholdRule: calibrated.rule,
            medianNearestDistance: calibrated.medianNearestDistance,
            features: "\(weights.label), preset \(description.preprocessing.name)", names: ["reference", "new"],
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

    /// How images become the searched set, and its description.
    private struct Embedding {
        let description: String
        let set: (any ImageDataset) throws -> DuplicateSet
    }

    private func embedding(_ preprocessing: Preprocessing) async throws -> Embedding {
        switch features {
        case .pixels:
            return Embedding(description: "raw pixels, preset \(preprocessing.name) (\(preprocessing.size) px)") {
                DuplicateSet(points: try $0.pixelFeatures(preprocessing).l2Normalized(), keys: try $0.contentKeys())
            }
        case .thumbnails:
            return Embedding(description: "thumbnails, \(Thumbnail.side)x\(Thumbnail.side), as is, mirrored and cropped") {
                let views = try $0.thumbnailVariants()
                return DuplicateSet(points: views[0], variants: Array(views.dropFirst()), keys: try $0.contentKeys())
            }
        case .network:
            let loaded = try await modelOptions.embedder(threads: threading.threads)
            return Embedding(description: loaded.description) {
                DuplicateSet(
                    points: try loaded.embedder.embed($0, progress: !format.json).l2Normalized(), keys: try $0.contentKeys())
            }
        }
    }

    private func printTable(_ report: DuplicateReport) {
        let sets = report.sets.map { "\($0.images) \($0.name)" }.joined(separator: " + ")
        print("\(report.groups.count) groups, \(report.imagesInGroups) images, among \(sets) images")
        print("features: \(report.features)")
        print(
            "threshold \(report.threshold) (squared L2, L2-normalized; \(report.thresholdRule); median nearest-neighbor distance \(report.medianNearestDistance))"
        )
        for (number, group) in report.groups.enumerated() {
            print("")
            print("group \(number + 1): \(group.size) images\(group.exact ? ", identical pixels" : "")")
            for member in group.members {
                let where_ = report.sets.count > 1 ? "\(report.sets[member.set].name) " : ""
                print(String(format: "  %8.5f %@  %@%@", member.distance, member.exact ? "=" : " ", where_, member.path))
            }
        }
    }
}
