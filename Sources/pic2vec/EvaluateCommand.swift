import ArgumentParser
import Common
import Evaluation
import Foundation
import VectorSearch

/// `pic2vec evaluate`: leave-one-out retrieval scores of an embedding set.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Leave-one-out Precision@k (and mAP@R with --map-at-r) of labeled embeddings (exact all-pairs search).",
        discussion: """
            Every row queries all the others (itself excluded, as in the Pic2Vec notebook); a \
            neighbor is relevant when it has the query's label. With --map-at-r, mAP@R ranks each \
            query's R nearest rows, R being the number of other rows with its label (a full ranking \
            per row, so it costs more). JSON output: {"n": N, "precision": {"1": p, ...}} plus \
            "map_at_r": m with --map-at-r.
            """)

    @Option(help: "Input .npy of float32 embeddings, one per row.")
    var embeddings: String

    @Option(help: "Input .npy of int64 labels, one per row.")
    var labels: String

    @Option(help: "Comma-separated k values for Precision@k.")
    var k: String = "1,5,10,100"

    @Flag(help: "Also compute mAP@R (ranks each row's R nearest others).")
    var mapAtR = false

    @OptionGroup var normalization: NormalizeOption

    @Option(help: "Comparison: l2 or inner-product (cosine with --normalize).")
    var metric: MetricOption = .l2

    @OptionGroup var format: JSONOption

    @OptionGroup var threading: ThreadOptions

    private var ks: [Int] { k.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    func validate() throws {
        let parts = k.split(separator: ",", omittingEmptySubsequences: false)
        guard !parts.isEmpty, ks.count == parts.count, ks.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--k must be a comma-separated list of positive integers, got '\(k)'")
        }
        guard Set(ks).count == ks.count else { throw ValidationError("--k lists a value twice: '\(k)'") }
    }

    func run() throws {
        let points = try EmbeddingFile.read(embeddings, normalize: normalization.normalize)
        let labelValues = try EmbeddingFile.readLabels(labels, count: points.rows)
        let ks = self.ks
        let widest = ks.max() ?? 1
        guard widest < points.rows else {
            throw ValidationError("k = \(widest) must be below the number of rows (\(points.rows)): the query itself is left out")
        }
        let started = Date()
        let result = try AllPairsSearch(metric: metric.metric, threads: threading.threads).run(
            points, k: widest, groups: mapAtR ? labelValues : nil)
        let ids = result.neighbors.ids
        let precision = ks.map { RetrievalMetrics.precision(at: $0, neighbors: ids, width: widest, labels: labelValues) }
        let mapAtR = result.groupRankings.map { rankings in
            RetrievalMetrics.meanAveragePrecisionAtR(queries: rankings.count, relevance: rankings.relevance(of:))
        }
        if format.json {
            try printJSON(
                EvaluateOutput(
                    n: points.rows, precision: Dictionary(uniqueKeysWithValues: zip(ks.map(String.init), precision)),
                    mapAtR: mapAtR))
        } else {
            print(
                "Leave-one-out retrieval over \(points.rows) rows (\(metric.rawValue)\(normalization.normalize ? ", normalized" : "")):"
            )
            for (k, p) in zip(ks, precision) { print("  Precision@\(k) = \(String(format: "%.4f", p))") }
            if let mapAtR { print("  mAP@R = \(String(format: "%.4f", mapAtR))") }
            print("  (\(String(format: "%.2f", Date().timeIntervalSince(started))) s)")
        }
    }
}
