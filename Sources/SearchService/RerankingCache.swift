import Common
import Foundation
import VectorSearch

/// The database neighbor lists of a re-ranking pipeline, saved beside its index, so that
/// `pic2vec search` and `pic2vec serve` prepare the pipeline in seconds after the first time.
///
/// Three files, written together: `<index>.rerank.json` (the pipeline, the index file's
/// SHA-256 and the lists' shape), `<index>.rerank-ids.npy` (int64) and
/// `<index>.rerank-similarities.npy` (float32). Lists saved for another pipeline or another
/// index file are never used: they are searched again and replaced.
struct RerankingCache {
    /// What the saved lists were made from and their shape.
    struct Header: Codable, Equatable {
        var pipeline: String
        var indexSHA256: String
        /// Neighbor searches of one preparation, each `rows x k`.
        var searches: Int
        var rows: Int
        var k: Int
    }

    let indexPath: String
    let pipeline: RerankingPipeline

    var headerPath: String { indexPath + ".rerank.json" }
    var idsPath: String { indexPath + ".rerank-ids.npy" }
    var similaritiesPath: String { indexPath + ".rerank-similarities.npy" }

    /// Prepares the pipeline for `rows` (the index's rows), replaying the saved lists when they
    /// were made from this index file for this pipeline, else searching and saving them.
    func prepare(_ rows: Matrix) throws -> RerankingPipeline.Prepared {
        let hash = try Digest.hexDigest(ofFile: indexPath, .sha256)
        if let saved = load(indexSHA256: hash, rows: rows.rows) {
            return try pipeline.prepare(rows) { _, k, step throws(VectorSearchError) in
                guard step < saved.count, saved[step].k == k else {
                    throw .invalidArgument("\(headerPath) holds no neighbor search \(step) of \(k) neighbors")
                }
                return saved[step]
            }
        }
        var searched: [Neighbors] = []
        let prepared = try pipeline.prepare(rows) { points, k, step throws(VectorSearchError) in
            let lists = try RerankingPipeline.exactNeighbors(points, k, step)
            searched.append(lists)
            return lists
        }
        do {
            try save(searched, indexSHA256: hash)
        } catch {
            // A read-only folder costs the next start-up the same preparation, nothing else.
            FileHandle.standardError.write(Data("note: re-ranking lists not saved: \(error)\n".utf8))
        }
        return prepared
    }

    /// The saved lists, or nil when they are missing, unreadable or made from something else.
    func load(indexSHA256: String, rows: Int) -> [Neighbors]? {
        guard let data = FileManager.default.contents(atPath: headerPath),
            let header = try? JSONDecoder().decode(Header.self, from: data),
            header.pipeline == pipeline.description, header.indexSHA256 == indexSHA256, header.rows == rows,
            header.searches > 0, header.k > 0,
            let ids = try? NPY.read(idsPath), let similarities = try? NPY.read(similaritiesPath),
            ids.dtype == .int64, similarities.dtype == .float32
        else { return nil }
        let size = rows * header.k
        guard ids.shape == [header.searches * size], similarities.shape == [header.searches, rows, header.k] else {
            return nil
        }
        let allIDs = ids.ints, allSimilarities = similarities.floats
        guard allIDs.allSatisfy({ (0..<rows).contains($0) }) else { return nil }
        return (0..<header.searches).map { s in
            Neighbors(
                queries: rows, k: header.k, ids: Array(allIDs[s * size..<(s + 1) * size]),
                distances: Array(allSimilarities[s * size..<(s + 1) * size]))
        }
    }

    /// Writes `lists` (equal shapes) and their header as one unit.
    func save(_ lists: [Neighbors], indexSHA256: String) throws {
        guard let first = lists.first else { return }
        let header = Header(
            pipeline: pipeline.description, indexSHA256: indexSHA256, searches: lists.count, rows: first.queries, k: first.k)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.writeSet(primary: headerPath) { files in
            try files.add(NPY.encode(lists.flatMap(\.ids)), to: idsPath)
            try files.add(
                NPY.encode(lists.flatMap(\.distances), shape: [lists.count, first.queries, first.k]), to: similaritiesPath)
            try files.add(try encoder.encode(header), to: headerPath)
        }
    }
}
