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
    /// left out of its own result (searches `k + 1` and drops it, or the last when absent).
    public func search(storedRows queries: Matrix, ids: [Int], k: Int) throws(VectorSearchError) -> Neighbors {
        precondition(ids.count == queries.rows, "\(ids.count) ids for \(queries.rows) queries")
        let found = try search(queries, k: min(k + 1, count))
        var outIDs = [Int]()
        var outDistances = [Float]()
        for q in 0..<queries.rows {
            let kept = zip(found.ids(of: q), found.distances(of: q)).filter { $0.0 != ids[q] }.prefix(k)
            outIDs += kept.map { $0.0 } + Array(repeating: -1, count: k - kept.count)
            outDistances += kept.map { $0.1 } + Array(repeating: Float.infinity, count: k - kept.count)
        }
        return Neighbors(queries: queries.rows, k: k, ids: outIDs, distances: outDistances)
    }
}
