import ArgumentParser
import CollectionStore
import Common
import Foundation
import ImageData
import Networks
import VectorSearch

/// `pic2vec embed`: raw embeddings of a data set by one model, with labels and a sidecar.
struct EmbedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Embed images with a pretrained network (classifier removed) into an N x D float32 .npy.",
        discussion: """
            Writes the raw (unnormalized) embeddings to --output (D = 512 for resnet18/34, 2048 for \
            resnet50, 1280 for efficientnet-lite0/1/2), int64 labels to --labels (default: \
            <output stem>.labels.npy), for image files their paths and SHA-256 (<output stem>.files.json, which \
            `pic2vec index` carries so that `pic2vec add` knows the collection's files), and a JSON sidecar \
            (<output>.json) with the model, weights hash, preprocessing and data fingerprint. Nothing is \
            written if anything fails.
            """)

    @Option(help: "cifar10 (official archives under --cifar-root), a CIFAR-10 batch folder, or an image folder.")
    var data: String

    @Option(help: "Where --data cifar10 looks for (and downloads) the archives.")
    var cifarRoot: String = "cifar"

    @Option(help: "Which split, when the data has train and test.")
    var split: DataSplit = .train

    @OptionGroup var modelOptions: ModelOptions
    private var model: Model { modelOptions.modelOrDefault }
    private var weights: String { modelOptions.weights ?? "" }
    private var seed: UInt64 { modelOptions.seedOrDefault }
    private var preset: Preset { modelOptions.presetOrDefault }

    @Option(help: "Input side in pixels, overriding the preset's.")
    var size: Int?

    @Option(help: "Embed at most this many images, spread evenly over the set.")
    var limit: Int?

    @Option(
        help: ArgumentHelp(
            "Embed this many seeded augmentations of every image instead of the images (after --limit).",
            discussion:
                "Row r is augmentation r % N of image r / N: a random crop keeping 60-100% of each side, a left-right flip half of the time, brightness, contrast and saturation jitter of 0.8-1.2, drawn from --augmentation-seed and r alone. An index of these rows can be served: the description records the augmentations."
        ))
    var augmentations: Int?

    @Option(help: "Seed of the augmentations.")
    var augmentationSeed: UInt64 = 0

    @Option(
        help: "Embed only part I of N equal, consecutive parts of the set (I/N, from 0), after --limit and --augmentations.",
        transform: { try Shard($0) })
    var shard: Shard?

    @Option(help: "Images per batch.")
    var batch: Int = 128

    @OptionGroup var threading: ThreadOptions

    @Option(help: "Output .npy of float32 embeddings.")
    var output: String

    @Option(help: "Output .npy of int64 labels (default: <output stem>.labels.npy, e.g. emb.labels.npy).")
    var labels: String?

    func validate() throws {
        guard modelOptions.weights != nil else {
            throw ValidationError("--weights is required: torchvision, random (with --seed) or a weight file PATH")
        }
        if let size, !Preprocessing.sizes.contains(size) {
            throw ValidationError(
                "--size must be from \(Preprocessing.sizes.lowerBound) to \(Preprocessing.sizes.upperBound), not \(size)")
        }
        if let limit, limit <= 0 { throw ValidationError("--limit must be positive") }
        if let augmentations, augmentations <= 0 { throw ValidationError("--augmentations must be positive") }
        guard batch > 0 else { throw ValidationError("--batch must be positive") }
        guard output.hasSuffix(".npy") else { throw ValidationError("--output must end in .npy") }
    }

    func run() async throws {
        let network = model
        var preprocessing = network.preprocessing(preset: preset)
        if let size { preprocessing = preprocessing.resized(to: size) }
        // The weights load (one core) while the images are listed and decoded.
        async let loading = Weights.load(
            WeightsSource(weights, seed: seed), model: network, precision: modelOptions.precisionOrDefault)
        let splits = try DataSource.open(data, root: cifarRoot)
        let loaded = try await loading
        var dataset = try splits.dataset(split, of: data)
        if let limit { dataset = dataset.limited(to: limit) }
        let augmented = augmentations.map { IndexDescription.Augmentations(copies: $0, seed: augmentationSeed) }
        if let augmented {
            guard !dataset.count.multipliedReportingOverflow(by: augmented.copies).overflow else {
                throw ValidationError("--augmentations \(augmented.copies) of \(dataset.count) images is too many rows")
            }
            dataset = AugmentedDataset(base: dataset, copies: augmented.copies, seed: augmented.seed)
        }
        let whole = dataset
        if let part = shard {
            let rows = part.rows(of: whole.count)
            guard !rows.isEmpty else { throw FileError(data, "has \(whole.count) images: shard \(part) would be empty") }
            try Embedder.checkMemory(rows: rows.count, dimension: network.outputDimension, name: whole.name)
            dataset = whole.subset(Array(rows))
        }
        if loaded.isRandom { FileHandle.standardError.write(Data("note: embedding with random weights (seed \(seed))\n".utf8)) }
        let start = Date()
        let embedder = Embedder(
            network: loaded.network, preprocessing: preprocessing, batchSize: batch, threads: threading.threads)
        let embeddings = try embedder.embed(dataset)
        let seconds = Date().timeIntervalSince(start)
        // The rows' files and hashes, so that the collection can later change (`pic2vec add`).
        let fileList = try ImageFileList.of(dataset)
        let origin = IndexDescription(
            data: data, split: split, limit: limit, augmentations: augmented, dataFingerprint: whole.fingerprint,
            model: network, weights: weights, seed: seed, weightsHash: loaded.hash, preset: preset, inputSize: size,
            normalized: false, shard: shard, precision: loaded.precision)
        let files = EmbeddingOutput(path: output)
        let labelsPath = labels ?? files.defaultLabelsPath
        try files.write(
            embeddings, labels: dataset.labels, labelsPath: labelsPath, fileList: fileList,
            sidecar: EmbeddingSidecar(
                weights: loaded, preprocessing: preprocessing, data: dataset.name, dataFingerprint: dataset.fingerprint,
                embeddings: embeddings, labels: dataset.labels == nil ? nil : labelsPath, seconds: seconds, origin: origin))
        print(
            "\(embeddings.rows) x \(embeddings.columns) \(network.displayName) embeddings -> \(output) (\(String(format: "%.1f", Double(embeddings.rows) / max(seconds, 1e-9))) images/s\(loaded.isRandom ? ", random weights" : ""))"
        )
    }
}
