import Common
import Foundation
import VectorSearch

/// Measures index structures on one collection of L2-normalized rows: recall@10 against exact
/// search, queries/s batched and one at a time, build time and bytes per vector, for every
/// value of each structure's search parameter.
///
/// Queries are rows of the collection (each left out of its own results), drawn once by seed;
/// the exact neighbors come from `ExactNeighbors`, which scans the rows a batch at a time.
struct ScaleSweep {
    /// One structure with the search-parameter values to try.
    struct Plan {
        var kind: VectorIndex.Kind
        var values: [Int]
    }

    /// One structure at one search-parameter value.
    struct Point {
        var structure: String
        var parameter: String
        var recall: Double
        var batchedPerSecond: Double
        var singlePerSecond: Double
        var buildSeconds: Double
        var bytesPerVector: Double
    }

    let rows: Matrix
    let queryIDs: [Int]
    let queries: Matrix
    let truth: Neighbors
    /// The most queries searched one call each for the one-at-a-time rate (it stops after
    /// `singleSeconds` when fewer are enough to time it).
    let singles: Int
    let singleSeconds = 5.0
    /// Where index files are written briefly to measure their size.
    let scratch: String
    /// Recall is recall@k.
    static let k = 10

    init(rows: Matrix, queryCount: Int, singles: Int, seed: UInt64, scratch: String) throws {
        var generator = SeededGenerator(seed: seed)
        let ids = Array((0..<rows.rows).shuffled(using: &generator).prefix(queryCount))
        let queries = try rows.rows(at: ids)
        self.rows = rows
        queryIDs = ids
        self.queries = queries
        truth = try ExactNeighbors(metric: .l2).search(queries, ids: ids, in: rows, k: Self.k)
        self.singles = min(singles, ids.count)
        self.scratch = scratch
    }

    /// Builds `plan`'s structure once and measures it at each of its search-parameter values.
    func measure(_ plan: Plan) throws -> [Point] {
        let start = Date()
        let index = try IndexBuilder(kind: plan.kind, metric: .l2).build(rows)
        let buildSeconds = Date().timeIntervalSince(start)
        try index.save(to: scratch)
        let bytes = (try FileManager.default.attributesOfItem(atPath: scratch)[.size] as? NSNumber)?.intValue ?? 0
        try FileManager.default.removeItem(atPath: scratch)
        var points: [Point] = []
        let values: [Int?] = plan.values.isEmpty ? [nil] : plan.values.map { $0 }
        for value in values {
            let kind = value.map { plan.kind.searching(with: $0) } ?? plan.kind
            if let parameter = kind.searchParameter { try index.setSearchParameter(parameter.name, parameter.value) }
            let batchStart = Date()
            let found = try index.search(storedRows: queries, ids: queryIDs, k: Self.k)
            let batchSeconds = Date().timeIntervalSince(batchStart)
            let singleStart = Date()
            var searched = 0
            while searched < singles, Date().timeIntervalSince(singleStart) < singleSeconds {
                _ = try index.search(storedRows: queries.rows(searched..<searched + 1), ids: [queryIDs[searched]], k: Self.k)
                searched += 1
            }
            let elapsed = Date().timeIntervalSince(singleStart)
            let point = Point(
                structure: plan.kind.factoryString,
                parameter: kind.searchParameter.map { "\($0.name)=\($0.value)" } ?? "-",
                recall: found.recall(against: truth), batchedPerSecond: Double(queries.rows) / max(batchSeconds, 1e-9),
                singlePerSecond: Double(searched) / max(elapsed, 1e-9), buildSeconds: buildSeconds,
                bytesPerVector: Double(bytes) / Double(rows.rows))
            log(
                "   \(point.structure) \(point.parameter): recall@10 \(String(format: "%.3f", point.recall)), "
                    + "\(String(format: "%.0f", point.batchedPerSecond)) q/s batched, \(String(format: "%.0f", point.singlePerSecond)) q/s single"
            )
            points.append(point)
        }
        return points
    }
}
