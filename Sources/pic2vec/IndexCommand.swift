import ArgumentParser
import CollectionStore
import Common
import Foundation
import ImageData
import VectorSearch

/// `pic2vec index`: builds a FAISS index over embedding files (or merges shard indexes) and saves it.
struct IndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Build a FAISS index (flat, IVF-Flat, IVF-PQ, HNSW, or auto-tuned) over N x d float32 embeddings.",
        discussion: """
            Writes the index in FAISS's own format (faiss.read_index opens it), atomically, with a description \
            (<output>.json). Several --embeddings files are read as one set in order, a batch at a time. Labels \
            (--labels, or each file's <stem>.labels.npy, or labels.npy beside a single file) go to \
            <output>.labels.npy. --type auto chooses the structure and its search parameter from --memory and \
            --recall by measuring recall@10 on the data's own rows. Shards: --train-only writes an empty trained \
            index, --trained T.index adds rows to a copy of it, --merge combines such IVF indexes in order.
            """)

    @Option(parsing: .upToNextOption, help: "Input .npy files of float32 embeddings, one per row, read in order.")
    var embeddings: [String] = []

    @Option(help: "Index structure: flat, ivf, ivfpq, hnsw or auto (default flat).")
    var type: IndexType?

    @Option(help: "Comparison: l2 or inner-product (cosine with --normalize).")
    var metric: MetricOption = .l2

    @OptionGroup var normalization: NormalizeOption

    @Option(help: "IVF, IVF-PQ: number of inverted lists (default 4 sqrt(N)).")
    var lists: Int?

    @Option(help: "IVF, IVF-PQ: lists visited per query.")
    var probes = 16

    @Option(help: "IVF-PQ: codes per vector (must divide the dimension).")
    var codes = 32

    @Option(help: "IVF-PQ: bits per code.")
    var bits = 8

    @Flag(help: "IVF-PQ: learn an OPQ rotation before quantizing.")
    var opq = false

    @Option(
        help:
            "IVF-PQ: this many more 8-bit codes of what the first codes leave over, to re-rank the best candidates (FAISS's IndexIVFPQR; 0: none)."
    )
    var refine = 0

    @Option(help: "HNSW: links per node.")
    var links = 32

    @Option(help: "HNSW: candidates kept while searching.")
    var efSearch = 64

    @Option(help: "auto: the most memory the index may take (1GB, 512MB, 800kB or bytes).")
    var memory: ByteSize?

    @Option(help: "auto: the recall@10 to reach, above 0 and at most 1.")
    var recall = 0.95

    @Option(help: "auto: seed that draws the query rows recall is measured on.")
    var seed: UInt64 = 0

    @Option(help: "Add the rows to a copy of this trained (empty) index instead of training a new one.")
    var trained: String?

    @Flag(help: "Only train: write the empty trained index (for shards to fill with --trained).")
    var trainOnly = false

    @Option(parsing: .upToNextOption, help: "Merge these IVF indexes (trained together), in order, instead of building.")
    var merge: [String] = []

    @Option(help: "Labels .npy (int64, one per row of all the files).")
    var labels: String?

    @Option(
        help: """
            Re-ranking that `pic2vec search` and `serve` apply, recorded in <output>.json: none, or +-joined steps \
            whiten-D, dba-N-ALPHA, qe-N-ALPHA, kr-K1-K2-LAMBDA (default: \(RerankingPipeline.recommended), chosen by \
            experiment 10, for a flat index of L2-normalized rows; none otherwise).
            """)
    var rerank: String?

    @OptionGroup var threading: ThreadOptions

    @Option(help: "Output index file.")
    var output: String

    func validate() throws {
        guard probes > 0, links > 0, efSearch > 0, codes > 0, bits > 0 else {
            throw ValidationError("--probes, --codes, --bits, --links and --ef-search must be positive")
        }
        if let lists, lists <= 0 { throw ValidationError("--lists must be positive") }
        guard refine >= 0 else { throw ValidationError("--refine must be 0 or more") }
        if let rerank {
            do {
                _ = try RerankingPipeline(name: rerank)
            } catch {
                throw ValidationError("--rerank: \(error)")
            }
        }
        guard recall > 0, recall <= 1 else { throw ValidationError("--recall must be above 0 and at most 1, got \(recall)") }
        if !merge.isEmpty {
            guard embeddings.isEmpty, type == nil, trained == nil, !trainOnly else {
                throw ValidationError("--merge takes index files only (no --embeddings, --type, --trained or --train-only)")
            }
            guard merge.count >= 2 else { throw ValidationError("--merge needs at least two index files") }
            return
        }
        guard !embeddings.isEmpty else { throw ValidationError("give --embeddings FILE... (or --merge INDEX...)") }
        if memory != nil, type != .auto { throw ValidationError("--memory applies to --type auto") }
        if trained != nil, type != nil || trainOnly {
            throw ValidationError("--trained takes its structure from the trained index: no --type or --train-only")
        }
        if trainOnly, type == .auto { throw ValidationError("--type auto measures recall on a full index: no --train-only") }
    }

    func run() throws {
        if !merge.isEmpty { return try IndexMerge(paths: merge, threads: threading.threads).run(output: output) }
        let source = try EmbeddingFiles(paths: embeddings, normalize: normalization.normalize)
        let labelValues = try EmbeddingFile.labels(explicit: labels, forFiles: embeddings, counts: source.files.map(\.rows))
        var description = try IndexDescription.combining(
            embeddings.map { try EmbeddingOutput(path: $0).origin() }, paths: embeddings)
        description?.normalized = normalization.normalize
        let index: VectorIndex
        var kind: VectorIndex.Kind?
        var tuning: TuningRecord?
        if let trained {
            index = try filledCopy(of: trained, with: source, description: &description)
        } else if type == .auto {
            let tuner = try IndexTuner(
                targetRecall: recall, memoryBudget: memory?.bytes, metric: metric.metric, seed: seed, threads: threading.threads)
            let outcome = try tuner.build(source)
            index = outcome.index
            kind = outcome.kind
            tuning = outcome.record
        } else {
            let chosen = explicitKind(rows: source.count)
            let builder = IndexBuilder(kind: chosen, metric: metric.metric, threads: threading.threads)
            index = trainOnly ? try builder.trained(on: source) : try builder.build(source)
            kind = chosen
        }
        if let kind {
            description?.structure = kind.factoryString
            description?.searchParameters = kind.searchParameter.map { [$0.name: $0.value] }
            description?.tuning = tuning
        }
        var exact = false
        if case .flat? = kind { exact = true }
        description?.rerank = try reranking(exact: exact).description
        let fileList =
            trainOnly
            ? nil
            : ImageFileList.joined(
                try zip(embeddings, source.files).map { try EmbeddingOutput(path: $0).readFileList(rows: $1.rows) })
        try CollectionFiles(index: output).write(
            index, description: description, labels: trainOnly ? nil : labelValues, fileList: fileList)
        print(
            "Indexed \(index.count) vectors of dimension \(index.dimension) (\(description?.structure ?? kind?.factoryString ?? "trained index"), \(metric.rawValue)) into \(output)"
        )
        if let tuning {
            print(
                "auto: recall@\(tuning.k) \(String(format: "%.4f", tuning.validationRecall)) on \(tuning.validationQueries) held-out queries (target \(tuning.targetRecall)); about \(formattedBytes(tuning.estimatedBytes))"
            )
        }
    }

    /// The structure `--type` and its parameters name, for `rows` rows.
    private func explicitKind(rows: Int) -> VectorIndex.Kind {
        let lists = self.lists ?? max(1, Int(4 * Double(rows).squareRoot()))
        switch type ?? .flat {
        case .flat, .auto: return .flat
        case .ivf: return .ivfFlat(lists: lists, probes: probes)
        case .ivfpq: return .ivfPQ(lists: lists, probes: probes, codes: codes, bits: bits, rotated: opq, refinement: refine)
        case .hnsw: return .hnsw(links: links, efSearch: efSearch)
        }
    }

    /// A copy of the trained, empty index at `path` holding every row of `source`; the
    /// description takes the trained index's structure, and must describe the same model.
    private func filledCopy(of path: String, with source: EmbeddingFiles, description: inout IndexDescription?) throws
        -> VectorIndex
    {
        let index = try VectorIndex(contentsOf: path, threads: threading.threads)
        guard index.isTrained, index.count == 0 else {
            throw FileError(path, "is not an empty trained index (it holds \(index.count) vectors; make one with --train-only)")
        }
        guard index.dimension == source.dimension else {
            throw FileError(
                path, "is an index of dimension \(index.dimension), the embeddings have \(source.dimension)", kind: .wrongShape)
        }
        let trainedDescription = try CollectionFiles(index: path).readDescription()
        if let trainedDescription {
            _ = try IndexDescription.combining([trainedDescription, description], paths: [path, embeddings[0]])
            description?.structure = trainedDescription.structure
            description?.searchParameters = trainedDescription.searchParameters
        }
        try IndexBuilder.add(source, to: index)
        return index
    }
}

extension IndexCommand {
    /// The re-ranking to record: `--rerank` (checked by `validate`), else the recommended pipeline for an
    /// exact (flat) index of L2-normalized rows (`--normalize`; it reads the rows back exactly), else none.
    func reranking(exact: Bool) throws -> RerankingPipeline {
        if let rerank { return try RerankingPipeline(name: rerank) }
        return exact && normalization.normalize ? .recommended : .baseline
    }
}

/// Index structures offered on the command line.
enum IndexType: String, ExpressibleByArgument, CaseIterable {
    case flat, ivf, ivfpq, hnsw, auto
}

/// Comparisons offered on the command line.
enum MetricOption: String, ExpressibleByArgument, CaseIterable {
    case l2
    case innerProduct = "inner-product"

    var metric: Metric { self == .l2 ? .l2 : .innerProduct }
}
