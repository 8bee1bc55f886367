import Common
import Evaluation
import LabReport
import Plots
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

extension RetrievalScores {
    /// Its table row: `name`, Precision@k at each of `ks` ("-" where not measured), then mAP@R.
    func row(_ name: String, ks: [Int]) -> [String] {
        [name] + ks.map { score(precision[$0]) } + [score(mapAtR)]
    }

    /// Its Precision@k curve over `ks`.
    func series(_ name: String, ks: [Int], dashed: Bool = false) -> LineChart.Series {
        LineChart.Series(name: name, points: ks.compactMap { k in precision[k].map { (x: Double(k), y: $0) } }, dashed: dashed)
    }
}

extension Context {
    /// The train split's labels; without labels, says in `section` that `measure` cannot be measured and returns nil.
    func trainLabels(measuring measure: String, in section: inout ReportSection) throws -> [Int]? {
        guard let labels = try dataset(.train).labels else {
            section.paragraph("The data has no labels, so \(measure) cannot be measured.")
            return nil
        }
        return labels
    }
}

/// Formats a score with four decimals, or "-" when absent.
func score(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "-" }
