public import Common

/// Builds a FAISS index from a `VectorSource` without holding the source in memory: trains
/// on rows spread evenly over it, then adds every row a batch at a time.
///
/// The training rows depend only on the row count, so the same rows are chosen whether the
/// source is one file or its shards in order (what makes sharded builds equal one run).
public struct IndexBuilder {
    /// The structure to build.
    public var kind: VectorIndex.Kind
    public var metric: Metric
    public var threads: Int
    /// Rows added per FAISS call.
    public var batchSize = 65_536

    public init(kind: VectorIndex.Kind, metric: Metric, threads: Int = ThreadPools.cores) {
        self.kind = kind
        self.metric = metric
        self.threads = threads
    }

    /// How many rows of `count` train `kind`: none for flat and HNSW; for IVF 64 per list
    /// (FAISS warns below 39) and at least 50,000 when there are that many (PQ codebooks of
    /// 256 centroids want about 10,000).
    public static func trainingSize(for kind: VectorIndex.Kind, count: Int) -> Int {
        switch kind {
        case .flat, .hnsw: 0
        case .ivfFlat(let lists, _), .ivfPQ(let lists, _, _, _, _, _): min(count, max(64 * lists, 50_000))
        }
    }

    /// An empty index of `kind`, trained on `source` (to be saved, copied to shards, or filled).
    public func trained(on source: some VectorSource) throws -> VectorIndex {
        let index = try VectorIndex(dimension: source.dimension, kind: kind, metric: metric, threads: threads)
        let size = Self.trainingSize(for: kind, count: source.count)
        if size > 0 { try index.train(try source.rows(at: source.evenlySpreadIDs(size))) }
        return index
    }

    /// Adds every row of `source` to `index`, `batchSize` rows at a time.
    public static func add(_ source: some VectorSource, to index: VectorIndex, batchSize: Int = 65_536) throws {
        try source.forEachBatch(size: batchSize) { _, batch in try index.add(batch) }
    }

    /// A trained index holding every row of `source`.
    public func build(_ source: some VectorSource) throws -> VectorIndex {
        let index = try trained(on: source)
        try Self.add(source, to: index, batchSize: batchSize)
        return index
    }
}
