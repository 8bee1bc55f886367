import Common
import Evaluation
import VectorSearch

/// Leave-one-out retrieval scores of one embedding set: every row queries all the others.
struct RetrievalScores {
    /// Precision@k for each k asked.
    var precision: [Int: Double]
    /// Precision@k of each class's queries: `perClass[k][label]`.
    var perClass: [Int: [Int: Double]]
    /// mAP@R (R = the query's class size minus one).
    var mapAtR: Double

    /// Scores `points` against `labels` with exact all-pairs k-NN under `metric`.
    init(_ points: Matrix, labels: [Int], ks: [Int], metric: Metric = .l2) throws {
        let width = min(ks.max() ?? 1, points.rows - 1)
        let result = try AllPairsSearch(metric: metric).run(points, k: width, groups: labels)
        let ids = result.neighbors.ids
        var precision: [Int: Double] = [:]
        var perClass: [Int: [Int: Double]] = [:]
        for k in ks where k <= width {
            precision[k] = RetrievalMetrics.precision(at: k, neighbors: ids, width: width, labels: labels)
            perClass[k] = RetrievalMetrics.perClassPrecision(at: k, neighbors: ids, width: width, labels: labels)
        }
        self.precision = precision
        self.perClass = perClass
        let rankings = result.groupRankings
        mapAtR = rankings.map { r in RetrievalMetrics.meanAveragePrecisionAtR(queries: r.count) { r.relevance(of: $0) } } ?? 0
    }
}

/// Formats a score with four decimals, or "-" when absent.
func score(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "-" }
