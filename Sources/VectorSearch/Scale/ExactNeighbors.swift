public import Common

/// The exact `k` nearest rows of a source for some of its own rows (each query's own row
/// left out): the ground truth that recall is measured against.
///
/// The source is scanned a batch at a time (a FAISS flat index per batch, merged into each
/// query's running best), so it never has to be in memory at once.
public struct ExactNeighbors {
    public var metric: Metric
    public var threads: Int
    /// Rows per scanned batch.
    public var batchSize = 65_536

    public init(metric: Metric, threads: Int = ThreadPools.cores) {
        self.metric = metric
        self.threads = threads
    }

    /// The `k` nearest rows of `source` to its rows `ids` (given as `queries`), nearest first.
    public func search(_ queries: Matrix, ids: [Int], in source: some VectorSource, k: Int) throws -> Neighbors {
        precondition(ids.count == queries.rows, "\(ids.count) ids for \(queries.rows) queries")
        precondition(k > 0 && k < source.count, "k must be in 1..<\(source.count), got \(k)")
        var best = [[(id: Int, distance: Float)]](repeating: [], count: queries.rows)
        try source.forEachBatch(size: batchSize) { start, batch in
            let flat = try VectorIndex(dimension: source.dimension, kind: .flat, metric: metric, threads: threads)
            try flat.add(batch)
            let found = try flat.search(queries, k: min(k + 1, batch.rows))
            for q in 0..<queries.rows {
                let candidates = zip(found.ids(of: q), found.distances(of: q))
                    .filter { $0.0 >= 0 && $0.0 + start != ids[q] }
                    .map { (id: $0.0 + start, distance: $0.1) }
                best[q] = Array((best[q] + candidates).sorted(by: closer).prefix(k))
            }
        }
        return Neighbors(
            queries: queries.rows, k: k, ids: best.flatMap { $0.map { $0.id } },
            distances: best.flatMap { $0.map { $0.distance } })
    }

    /// Whether `a` ranks before `b`: closer first, ties by the smaller id.
    private func closer(_ a: (id: Int, distance: Float), _ b: (id: Int, distance: Float)) -> Bool {
        guard a.distance != b.distance else { return a.id < b.id }
        return metric == .l2 ? a.distance < b.distance : a.distance > b.distance
    }
}
