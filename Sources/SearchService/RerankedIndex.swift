import CollectionStore
import Common
import VectorSearch

/// An index's rows prepared for a re-ranking pipeline (whitening, DBA, alpha-QE, k-reciprocal):
/// searches run through the pipeline instead of FAISS.
///
/// The rows are read back from the index once (`reconstruct`), so the index must store them
/// (flat indexes do) L2-normalized (or zero). Distances are squared L2 distances in the pipeline's space
/// (`2 - 2 x similarity`), the scale of a flat L2 index over normalized rows, or, when the
/// pipeline ends in k-reciprocal re-ranking, the final k-reciprocal distances that order the
/// answers (from 0 to 1).
public struct RerankedIndex: Sendable {
    /// The pipeline the rows were prepared for.
    public let pipeline: RerankingPipeline
    let prepared: RerankingPipeline.Prepared

    /// Reads every row of `index` (saved at `path`) and prepares them for `pipeline`, reusing
    /// the neighbor lists saved beside the index when they match (`RerankingCache`).
    ///
    /// `origin` says where the pipeline was asked for (`--rerank ...`; by default the
    /// description's `"rerank"`), for the message when the index cannot support it.
    public init(pipeline: RerankingPipeline, index: VectorIndex, path: String, origin: String? = nil) throws {
        do {
            try pipeline.check(rows: index.count, dimension: index.dimension)
        } catch {
            let origin = origin ?? "\"rerank\": \"\(pipeline)\" in \(CollectionFiles(index: path).descriptionPath)"
            throw FileError(path, "cannot be re-ranked as \(origin) asks: \(error); choose smaller steps or none")
        }
        let rows = try index.vectors()
        // Zero rows (an image whose every feature is 0) stay zero when normalized.
        guard rows.rowNorms.allSatisfy({ $0 == 0 || abs($0 - 1) < 1e-3 }) else {
            throw FileError(path, "re-ranking \(pipeline) needs L2-normalized rows; this index holds raw embeddings")
        }
        self.pipeline = pipeline
        prepared = try RerankingCache(files: CollectionFiles(index: path), pipeline: pipeline).prepare(rows)
    }

    /// The `k` best rows for `vector` (L2-normalized like the rows), best first, leaving out row
    /// `excluded` when the query is that row.
    public func nearest(_ vector: [Float], k: Int, excluding excluded: Int? = nil) throws(VectorSearchError) -> [VectorIndex.Hit]
    {
        let depth = min(k + (excluded == nil ? 0 : 1), prepared.database.rows)
        // Every answer is re-ranked, so the distances shown all order the answers.
        let found = try pipeline.search(
            Matrix(rows: 1, columns: vector.count, values: vector).l2Normalized(), in: prepared, depth: depth, reordered: depth)
        return zip(found.ids(of: 0), found.distances(of: 0))
            .filter { id, _ in id >= 0 && id != excluded }
            .prefix(k)
            .map { VectorIndex.Hit(id: $0.0, distance: pipeline.kReciprocal == nil ? max(2 - 2 * $0.1, 0) : $0.1) }
    }
}
