internal import CBLAS
public import Common

extension Neighbors {
    /// The exact `k` nearest other rows of every row of `points` (inner product, best first,
    /// ties to the smaller id), updated from these lists, which were exact for the rows before
    /// a change, instead of searched again.
    ///
    /// - Parameters:
    ///   - points: the rows after the change.
    ///   - kept: for each row before the change, its row after it, or nil when it was removed
    ///     (kept rows keep their order).
    ///   - changed: the rows (after the change) whose vector is new or differs from before.
    ///
    /// A row that did not change keeps the listed rows that did not change either (their
    /// similarity is the same) and meets every changed row; its old list's last similarity
    /// bounds every row it did not list, so when `k` candidates reach that bound the list is
    /// exact; otherwise (it lost listed rows to the change) the row is searched again, as the
    /// changed rows are.
    public func updated(points: Matrix, kept: [Int?], changed: [Int]) throws(VectorSearchError) -> Neighbors {
        guard kept.count == queries, k < points.rows else {
            throw .invalidArgument(
                "the lists cover \(queries) rows, the change \(kept.count); \(k) neighbors of \(points.rows) rows")
        }
        let n = points.rows
        var isChanged = [Bool](repeating: false, count: n)
        for row in changed { isChanged[row] = true }
        var previous = [Int](repeating: -1, count: n)
        for (old, new) in kept.enumerated() { if let new { previous[new] = old } }
        let changedRows = Matrix(rows: changed.count, columns: points.columns, values: changed.flatMap { points.row($0) })
        // Rows that did not change are merged with the changed rows, a block of rows at a time;
        // nil marks a row to search again.
        let block = 1024
        let merged: [[[(id: Int, similarity: Float)]?]] = parallelMap((n + block - 1) / block) { b in
            let range = b * block..<min((b + 1) * block, n)
            var products = [Float](repeating: 0, count: range.count * changed.count)
            if !changed.isEmpty {
                points.values.withUnsafeBufferPointer { x in
                    changedRows.values.withUnsafeBufferPointer { c in
                        cblas_sgemm(
                            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(range.count), Int32(changed.count),
                            Int32(points.columns), 1, x.baseAddress! + range.lowerBound * points.columns, Int32(points.columns),
                            c.baseAddress!, Int32(points.columns), 0, &products, Int32(changed.count))
                    }
                }
            }
            return range.map { row in
                guard !isChanged[row], previous[row] >= 0 else { return nil }
                let old = previous[row]
                let bound = distances[old * k + k - 1]
                var candidates: [(id: Int, similarity: Float)] = []
                for j in 0..<k {
                    if let id = kept[ids[old * k + j]], !isChanged[id] { candidates.append((id, distances[old * k + j])) }
                }
                let offset = (row - range.lowerBound) * changed.count
                for (c, id) in changed.enumerated() where id != row && products[offset + c] >= bound {
                    candidates.append((id, products[offset + c]))
                }
                guard candidates.count >= k else { return nil }
                candidates.sort { $0.similarity > $1.similarity || ($0.similarity == $1.similarity && $0.id < $1.id) }
                return Array(candidates.prefix(k))
            }
        }
        var newIds = [Int](repeating: -1, count: n * k), newSimilarities = [Float](repeating: 0, count: n * k)
        var searched: [Int] = []
        for (row, list) in merged.joined().enumerated() {
            guard let list else {
                searched.append(row)
                continue
            }
            for (j, entry) in list.enumerated() {
                newIds[row * k + j] = entry.id
                newSimilarities[row * k + j] = entry.similarity
            }
        }
        if !searched.isEmpty {
            let queries = Matrix(rows: searched.count, columns: points.columns, values: searched.flatMap { points.row($0) })
            let found = try RankedSearch(depth: k).run(queries, database: points, excluding: searched)
            for (q, row) in searched.enumerated() {
                for j in 0..<k {
                    newIds[row * k + j] = found.ids[q * k + j]
                    newSimilarities[row * k + j] = found.distances[q * k + j]
                }
            }
        }
        return Neighbors(queries: n, k: k, ids: newIds, distances: newSimilarities)
    }
}
