import CollectionStore
import Common
import Foundation
import VectorSearch

/// 12 fixed unit rows of 4 floats, the rows of the fuzzed index.
let rows = Matrix(rows: 12, columns: 4, values: (0..<48).map { Float(cos(Double($0) * 0.83)) }).l2Normalized()
/// The pipeline the cache is for: two database searches of 4 neighbors.
let pipeline = try! RerankingPipeline(name: "dba-3-3+kr-4-2-0.3")
/// The pipeline prepared by its own searches, what every replay must give.
let fresh = try! pipeline.prepare(rows)
let folder = NSTemporaryDirectory() + "pic2vec-fuzz-cache-\(getpid())"
let indexPath = folder + "/fuzz.index"

/// libFuzzer entry: a re-ranking cache (header, ids, similarities) beside an index, used by
/// `RerankingCache.prepare`, which must replay it only when it agrees with the rows.
///
/// The input is three parts, each its length (2 bytes, little-endian) then its bytes: the
/// header JSON, the ids `.npy`, the similarities `.npy`. The index file holds "fuzz index"
/// (make_seeds.py puts its SHA-256 in the seed headers).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRerankCache(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var bytes = ArraySlice(UnsafeBufferPointer(start: data, count: size))
    var parts: [Data] = []
    for _ in 0..<3 {
        guard bytes.count >= 2 else { return 0 }
        let length = min(Int(bytes[bytes.startIndex]) | Int(bytes[bytes.startIndex + 1]) << 8, bytes.count - 2)
        parts.append(Data(bytes.dropFirst(2).prefix(length)))
        bytes = bytes.dropFirst(2 + length)
    }
    if !FileManager.default.fileExists(atPath: indexPath) {
        try! FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try! Data("fuzz index".utf8).write(to: URL(fileURLWithPath: indexPath))
    }
    let cache = RerankingCache(files: CollectionFiles(index: indexPath), pipeline: pipeline)
    for (part, path) in zip(parts, [cache.headerPath, cache.idsPath, cache.similaritiesPath]) {
        try! part.write(to: URL(fileURLWithPath: path))
    }
    let prepared = try! cache.prepare(rows)
    precondition(prepared.database == fresh.database, "a replayed cache changed the prepared rows")
    return 0
}
