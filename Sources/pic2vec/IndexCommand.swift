import ArgumentParser
import Common
import Foundation
import SearchService
import VectorSearch

/// `pic2vec index`: builds a FAISS index over an embedding file and saves it.
struct IndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Build a FAISS index (flat, IVF-Flat or HNSW) over N x d float32 embeddings.",
        discussion: """
            Writes the index in FAISS's own format (faiss.read_index opens it), atomically. Labels \
            (--labels, or <embeddings stem>.labels.npy or labels.npy beside them) are copied to <output>.labels.npy so \
            that `pic2vec search` can show them.
            """)

    @Option(help: "Input .npy of float32 embeddings, one per row.")
    var embeddings: String

    @Option(help: "Index structure: flat, ivf or hnsw.")
    var type: IndexType = .flat

    @Option(help: "Comparison: l2 or inner-product (cosine with --normalize).")
    var metric: MetricOption = .l2

    @Flag(help: "L2-normalize each row before indexing.")
    var normalize = false

    @Option(help: "IVF: number of inverted lists (default 4 sqrt(N)).")
    var lists: Int?

    @Option(help: "IVF: lists visited per query.")
    var probes = 16

    @Option(help: "HNSW: links per node.")
    var links = 32

    @Option(help: "HNSW: candidates kept while searching.")
    var efSearch = 64

    @Option(
        help: "Labels .npy (int64, one per row); default: <embeddings stem>.labels.npy, else labels.npy beside them, if present.")
    var labels: String?

    @Option(
        help: """
            Re-ranking that `pic2vec search` and `serve` apply, recorded in <output>.json: none, or +-joined steps \
            whiten-D, dba-N-ALPHA, qe-N-ALPHA, kr-K1-K2-LAMBDA (default: \(RerankingPipeline.recommended), chosen by \
            experiment 10, for a flat index of L2-normalized rows; none otherwise).
            """)
    var rerank: String?

    @Option(help: "Threads FAISS may use.")
    var threads = ThreadPools.cores

    @Option(help: "Output index file.")
    var output: String

    func validate() throws {
        guard probes > 0, links > 0, efSearch > 0, threads > 0 else {
            throw ValidationError("--probes, --links, --ef-search and --threads must be positive")
        }
        if let lists, lists <= 0 { throw ValidationError("--lists must be positive") }
        if let rerank {
            do {
                _ = try RerankingPipeline(name: rerank)
            } catch {
                throw ValidationError("--rerank: \(error)")
            }
        }
    }

    func run() throws {
        let points = try EmbeddingFile.read(embeddings, normalize: normalize)
        let kind: VectorIndex.Kind
        switch type {
        case .flat: kind = .flat
        case .ivf: kind = .ivfFlat(lists: lists ?? max(1, Int(4 * Double(points.rows).squareRoot())), probes: probes)
        case .hnsw: kind = .hnsw(links: links, efSearch: efSearch)
        }
        // Everything that can fail on the inputs is checked before anything is written.
        let labelValues = try EmbeddingFile.labelsPath(explicit: labels, besideFile: embeddings).map {
            try EmbeddingFile.readLabels($0, count: points.rows)
        }
        var origin = try EmbeddingFile.origin(of: embeddings)
        origin?.normalized = normalize
        origin?.rerank = try reranking(rowsNormalized: normalize || points.rowNorms.allSatisfy { abs($0 - 1) < 1e-3 }).description
        let index = try VectorIndex(dimension: points.columns, kind: kind, metric: metric.metric, threads: threads)
        try index.train(points)
        try index.add(points)
        // The index, its description and its labels replace the old ones together; a
        // sidecar the new index has no use for is removed, never left describing it.
        try AtomicFile.writeSet(primary: output) { files in
            try files.add(output, index.write(to:))
            let description = IndexDescription.path(forIndex: output)
            if let origin { try files.add(try origin.encoded(), to: description) } else { files.remove(description) }
            let labelsSidecar = EmbeddingFile.sidecar(ofIndex: output)
            if let labelValues { try files.add(NPY.encode(labelValues), to: labelsSidecar) } else { files.remove(labelsSidecar) }
        }
        print(
            "Indexed \(index.count) vectors of dimension \(index.dimension) (\(type.rawValue), \(metric.rawValue)) into \(output)"
        )
    }
}

extension IndexCommand {
    /// The re-ranking to record: `--rerank` (checked by `validate`), else the recommended pipeline for a flat
    /// index of normalized rows (it reads the rows back exactly), else none.
    func reranking(rowsNormalized: Bool) throws -> RerankingPipeline {
        if let rerank { return try RerankingPipeline(name: rerank) }
        return type == .flat && rowsNormalized ? .recommended : .baseline
    }
}

/// Index structures offered on the command line.
enum IndexType: String, ExpressibleByArgument, CaseIterable {
    case flat, ivf, hnsw
}

/// Comparisons offered on the command line.
enum MetricOption: String, ExpressibleByArgument, CaseIterable {
    case l2
    case innerProduct = "inner-product"

    var metric: Metric { self == .l2 ? .l2 : .innerProduct }
}

/// Reading the embedding and label files the search commands share.
enum EmbeddingFile {
    /// How the rows of an embedding file were made, from the `origin` that `pic2vec embed` puts in
    /// its `<file>.json` sidecar; nil when there is no sidecar.
    static func origin(of path: String) throws -> IndexDescription? {
        let sidecar = path + ".json"
        guard let data = FileManager.default.contents(atPath: sidecar) else { return nil }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let origin = object["origin"],
            let description = try? JSONDecoder().decode(
                IndexDescription.self, from: JSONSerialization.data(withJSONObject: origin))
        else { throw FileError(sidecar, "has no readable \"origin\" (write it again with pic2vec embed)") }
        return description
    }

    /// Reads a 2-D float32 `.npy`, optionally L2-normalizing its rows; rejects empty or
    /// non-finite data and rows whose squared distances would overflow float32.
    static func read(_ path: String, normalize: Bool) throws -> Matrix {
        let matrix = try Matrix.read(npy: path)
        guard matrix.rows > 0, matrix.columns > 0 else {
            throw FileError(path, "holds no embeddings (shape \(matrix.rows)x\(matrix.columns))")
        }
        if let bad = matrix.values.firstIndex(where: { !$0.isFinite }) {
            throw FileError(path, "row \(bad / matrix.columns) holds NaN or an infinite value")
        }
        if let row = matrix.firstRowWithUnboundedDistances {
            throw FileError(path, "row \(row) is so large that its distances (and norm) overflow float32")
        }
        return normalize ? matrix.l2Normalized() : matrix
    }

    /// Reads an int64 label vector and checks it has one label per row.
    static func readLabels(_ path: String, count: Int) throws -> [Int] {
        let array = try NPY.read(path)
        guard array.dtype == .int64, array.shape.count == 1 else {
            throw FileError(path, "expected a 1-D int64 array, found \(array.dtype.rawValue) with shape \(array.shape)")
        }
        guard array.shape[0] == count else { throw FileError(path, "holds \(array.shape[0]) labels for \(count) rows") }
        return array.ints
    }

    /// The labels file to use: the explicit one, else the one `pic2vec embed` wrote for
    /// `file` (`<file stem>.labels.npy`), else `labels.npy` in `file`'s folder (as the
    /// experiments write it), if it exists.
    static func labelsPath(explicit: String?, besideFile file: String) throws -> String? {
        if let explicit { return explicit }
        let beside = URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent("labels.npy").path
        return [defaultLabels(ofEmbeddings: file), beside].first { FileManager.default.fileExists(atPath: $0) }
    }

    /// Where `pic2vec embed` writes the labels of `file` by default: `emb.npy` -> `emb.labels.npy`,
    /// so that two embedding files in one folder never share (and overwrite) one labels file.
    static func defaultLabels(ofEmbeddings file: String) -> String {
        (file.hasSuffix(".npy") ? String(file.dropLast(4)) : file) + ".labels.npy"
    }

    /// Where `pic2vec index` stores the labels of an index file.
    static func sidecar(ofIndex path: String) -> String { path + ".labels.npy" }
}
