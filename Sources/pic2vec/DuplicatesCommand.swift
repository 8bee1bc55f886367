import ArgumentParser
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

    @Option(help: "What to compare: network (the embeddings of --weights) or pixels (the preset's resized, normalized pixels).")
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
            \(DuplicateSearch.defaultRelativeThreshold(trainedFeatures: false)) with random weights or --features pixels).
            """)
    var relativeThreshold: Float?

    /// The fraction in use: --relative-threshold, else the default for these features.
    private var fraction: Float {
        relativeThreshold
            ?? DuplicateSearch.defaultRelativeThreshold(trainedFeatures: features == .network && weights != "random")
    }

    @Option(help: "Nearest neighbors examined per image.")
    var k: Int = 10

    @Option(help: "Use at most this many images of each split, spread evenly.")
    var limit: Int?

    @OptionGroup var threading: ThreadOptions

    @OptionGroup var format: JSONOption

    /// What the duplicate search compares.
    enum FeatureKind: String, ExpressibleByArgument, CaseIterable {
        case network, pixels
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
        switch features {
        case .network where weights == nil:
            throw ValidationError("--features network needs --weights (torchvision, random or a PATH); or use --features pixels")
        case .pixels where weights != nil:
            throw ValidationError("--weights is not used with --features pixels")
        default: break
        }
    }

    func run() async throws {
        let preprocessing = model.preprocessing(preset: preset)
        let source = try DataSource.open(data, root: cifarRoot)
        let datasets = try splits.map { split in
            var dataset = try source.dataset(split, of: data)
            if let limit { dataset = dataset.limited(to: limit) }
            return dataset
        }
        let embed = try await embedding(preprocessing)
        let sets = try datasets.map { dataset in
            DuplicateSet(points: try embed.features(dataset).l2Normalized(), keys: try dataset.contentKeys())
        }
        let calibrated = try DuplicateSearch.calibrated(
            on: sets[0], fraction: fraction, given: threshold, k: k, threads: threading.threads)
        let search = calibrated.search
        let groups =
            sets.count == 2
            ? try search.groups(of: sets[1], in: sets[0])
            : search.groups(in: sets[0], neighbors: calibrated.referenceNeighbors)
        let report = DuplicateReport(
            groups: groups, threshold: search.threshold, thresholdRule: calibrated.rule,
            medianNearestDistance: calibrated.medianNearestDistance, features: embed.description,
            names: splits.map(\.rawValue), ids: datasets.map(\.ids))
        if format.json {
            FileHandle.standardOutput.write(try report.json())
            print()
        } else {
            printTable(report)
        }
    }

    /// How images become feature rows, and its description.
    private struct Embedding {
        let description: String
        let features: (any ImageDataset) throws -> Matrix
    }

    private func embedding(_ preprocessing: Preprocessing) async throws -> Embedding {
        switch features {
        case .pixels:
            return Embedding(description: "raw pixels, preset \(preprocessing.name) (\(preprocessing.size) px)") {
                try $0.pixelFeatures(preprocessing)
            }
        case .network:
            let loaded = try await modelOptions.embedder(threads: threading.threads)
            return Embedding(description: loaded.description) { try loaded.embedder.embed($0, progress: !format.json) }
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
