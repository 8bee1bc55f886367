import Common
import Evaluation
import VectorSearch

/// Retrieval scores of queries against a separate labeled database (test queries, train database).
struct QueryScores {
    /// Precision@k for each k asked.
    var precision: [Int: Double]
    /// mAP@R, R = the number of database rows of the query's class.
    var mapAtR: Double

    /// Scores ranked lists (`lists.k` at least every k and every R) against the labels.
    init(_ lists: Neighbors, queryLabels: [Int], databaseLabels: [Int], ks: [Int]) {
        let sizes = databaseLabels.reduce(into: [Int: Int]()) { $0[$1, default: 0] += 1 }
        var precision: [Int: Double] = [:]
        for k in ks where k <= lists.k {
            var hits = 0
            for q in 0..<lists.queries {
                for id in lists.ids(of: q).prefix(k) where databaseLabels[id] == queryLabels[q] { hits += 1 }
            }
            precision[k] = Double(hits) / Double(max(lists.queries * k, 1))
        }
        self.precision = precision
        mapAtR = RetrievalMetrics.meanAveragePrecisionAtR(queries: lists.queries) { q in
            let r = min(sizes[queryLabels[q]] ?? 0, lists.k)
            return lists.ids(of: q).prefix(r).map { databaseLabels[$0] == queryLabels[q] }
        }
    }

    /// The list depth these scores need: the largest k and the largest class in the database.
    static func depth(ks: [Int], databaseLabels: [Int]) -> Int {
        let largest = databaseLabels.reduce(into: [Int: Int]()) { $0[$1, default: 0] += 1 }.values.max() ?? 1
        return min(max(ks.max() ?? 1, largest), databaseLabels.count)
    }
}
