import CollectionStore
import Common
import Foundation
import VectorSearch

/// The database neighbor lists of a re-ranking pipeline, saved beside its index, so that
/// `pic2vec search` and `pic2vec serve` prepare the pipeline in seconds after the first time.
///
/// Three files of the collection (`CollectionFiles`), written together: the header (the
/// pipeline, the index file's SHA-256 and the lists' shape), the ids (int64) and the
/// similarities (float32). Saved lists are used only when they were made
/// for this pipeline from this index file, have the shape the pipeline needs, still have the
/// SHA-256 they were saved with, and agree with the rows they list
/// (`Neighbors.agrees(withRowsOf:)`); any other lists are searched again and replaced.
public struct RerankingCache {
    /// What the saved lists were made from and their shape.
    struct Header: Codable, Equatable {
        var pipeline: String
        var indexSHA256: String
        /// Neighbor searches of one preparation, each `rows x k`.
        var searches: Int
        var rows: Int
        var k: Int
        /// SHA-256 of the ids' then the similarities' element bytes, as saved.
        var arraysSHA256: String
    }

    /// The SHA-256 of the ids' and then the similarities' element bytes.
    static func arraysDigest(ids: NPY.Array, similarities: NPY.Array) -> String {
        let digest = Digest(.sha256)
        digest.update(ids.payload)
        digest.update(similarities.payload)
        return digest.hexDigest()
    }

    let files: CollectionFiles
    let pipeline: RerankingPipeline

    public init(files: CollectionFiles, pipeline: RerankingPipeline) {
        self.files = files
        self.pipeline = pipeline
    }

    var headerPath: String { files.rerankHeaderPath }
    var idsPath: String { files.rerankIdsPath }
    var similaritiesPath: String { files.rerankSimilaritiesPath }

    /// Prepares the pipeline for `rows` (the index's rows), replaying each saved list that
    /// agrees with the rows it is asked for and searching the others, then saving the lists
    /// when any was searched.
    public func prepare(_ rows: Matrix) throws -> RerankingPipeline.Prepared {
        let hash = try Digest.hexDigest(ofFile: files.index, .sha256)
        let saved = load(indexSHA256: hash, rows: rows.rows)
        var lists: [Neighbors] = []
        let prepared = try pipeline.prepare(rows) { points, k, step throws(VectorSearchError) in
            if let saved, step < saved.count, saved[step].k == k, saved[step].agrees(withRowsOf: points) {
                lists.append(saved[step])
            } else {
                lists.append(try RerankingPipeline.exactNeighbors(points, k, step))
            }
            return lists[step]
        }
        if lists != saved ?? [] {
            do {
                try save(lists, indexSHA256: hash)
            } catch {
                // A read-only folder costs the next start-up the same preparation, nothing else.
                FileHandle.standardError.write(Data("note: re-ranking lists not saved: \(error)\n".utf8))
            }
        }
        return prepared
    }

    /// The saved lists, or nil when they are missing, unreadable, or not of the shape this
    /// pipeline needs for `rows` rows of this index file (checked before the arrays are read).
    /// They may be the first of the pipeline's searches only (`CollectionEditor` saves what it
    /// could update); `prepare` searches the others.
    public func load(indexSHA256: String, rows: Int) -> [Neighbors]? {
        let k = pipeline.databaseNeighbors
        guard pipeline.databaseSearches > 0, k < rows,
            let header = try? JSONFile.read(Header.self, from: headerPath, kind: "re-ranking cache header"),
            header.pipeline == pipeline.description, header.indexSHA256 == indexSHA256,
            (1...pipeline.databaseSearches).contains(header.searches), header.rows == rows, header.k == k,
            let ids = try? NPY.read(
                idsPath, expected: NPY.Expected(.int64, shape: [header.searches * rows * k], meaning: "ids")),
            let similarities = try? NPY.read(
                similaritiesPath, expected: NPY.Expected(.float32, shape: [header.searches, rows, k], meaning: "similarities")),
            header.arraysSHA256 == Self.arraysDigest(ids: ids, similarities: similarities)
        else { return nil }
        let allIDs = ids.ints, allSimilarities = similarities.floats
        let size = rows * k
        return (0..<header.searches).map { s in
            Neighbors(
                queries: rows, k: k, ids: Array(allIDs[s * size..<(s + 1) * size]),
                distances: Array(allSimilarities[s * size..<(s + 1) * size]))
        }
    }

    /// Writes `lists` (equal shapes) and their header as one unit.
    func save(_ lists: [Neighbors], indexSHA256: String) throws {
        try AtomicFile.writeSet(primary: headerPath) { files in try stage(lists, indexSHA256: indexSHA256, in: &files) }
    }

    /// Stages `lists` (equal shapes), made for the index file with SHA-256 `indexSHA256`, and
    /// their header in `set`, to be committed with it.
    public func stage(_ lists: [Neighbors], indexSHA256: String, in set: inout AtomicFileSet) throws {
        guard let first = lists.first else { return }
        let ids = NPY.encode(lists.flatMap(\.ids))
        let similarities = NPY.encode(lists.flatMap(\.distances), shape: [lists.count, first.queries, first.k])
        let header = Header(
            pipeline: pipeline.description, indexSHA256: indexSHA256, searches: lists.count, rows: first.queries, k: first.k,
            arraysSHA256: Self.arraysDigest(
                ids: try NPY.decode(ids, path: idsPath), similarities: try NPY.decode(similarities, path: similaritiesPath)))
        try set.add(ids, to: idsPath)
        try set.add(similarities, to: similaritiesPath)
        try set.add(try JSONFile.encode(header), to: headerPath)
    }

    /// Marks the saved lists as no longer describing the index: they are removed with `set`'s commit.
    public func discard(in set: inout AtomicFileSet) {
        for path in [headerPath, idsPath, similaritiesPath] { set.remove(path) }
    }
}
