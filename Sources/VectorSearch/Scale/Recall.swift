public import Common

extension Neighbors {
    /// Recall@k against `truth` (k = `truth.k`): the fraction of each query's true k nearest
    /// ids found among this result's first k ids, averaged over the queries.
    public func recall(against truth: Neighbors) -> Double {
        precondition(queries == truth.queries, "\(queries) results for \(truth.queries) true neighbor lists")
        precondition(k >= truth.k, "recall@\(truth.k) needs at least \(truth.k) results per query, got \(k)")
        guard queries > 0, truth.k > 0 else { return 1 }
        var found = 0
        for q in 0..<queries {
            let returned = Set(ids(of: q).prefix(truth.k))
            found += truth.ids(of: q).filter { $0 >= 0 && returned.contains($0) }.count
        }
        return Double(found) / Double(queries * truth.k)
    }
}

extension VectorIndex {
    /// The `k` nearest stored rows of each query, where query `i` is stored row `ids[i]` and is
    /// left out of its own result (`nearest(_:k:excluding:)`), as neighbor lists padded with
    /// id -1 at distance infinity when the index holds too few rows.
    public func search(storedRows queries: Matrix, ids: [Int], k: Int) throws(VectorSearchError) -> Neighbors {
        precondition(ids.count == queries.rows, "\(ids.count) ids for \(queries.rows) queries")
        var outIDs = [Int]()
        var outDistances = [Float]()
        for hits in try nearest(queries, k: k, excluding: ids) {
            outIDs += hits.map(\.id) + Array(repeating: -1, count: k - hits.count)
            outDistances += hits.map(\.distance) + Array(repeating: Float.infinity, count: k - hits.count)
        }
        return Neighbors(queries: queries.rows, k: k, ids: outIDs, distances: outDistances)
    }
}
