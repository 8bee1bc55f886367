import CollectionStore
import Common
import Foundation
import VectorSearch

/// 60 fixed unit rows of 16 floats: what a fuzzed pipeline is prepared on and searched.
let rows = Matrix(
    rows: 60, columns: 16, values: (0..<960).map { Float(sin(Double($0) * 0.37)) }
).l2Normalized()

/// libFuzzer entry: an index description (JSON), its checks, and the re-ranking and shard it names, run.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDescription(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = [UInt8](UnsafeBufferPointer(start: data, count: size))
    guard let description = try? IndexDescription.decode(bytes, path: "fuzz.json") else { return 0 }
    _ = description.preprocessing
    if let shard = description.shard {
        _ = shard.rows(of: description.limit ?? 50_000)
        _ = shard.rows(of: Int.max)
    }
    if let pipeline = try? description.reranking(), (try? pipeline.check(rows: rows.rows, dimension: rows.columns)) != nil,
        let prepared = try? pipeline.prepare(rows)
    {
        _ = try? pipeline.search(rows.rows(0..<3), in: prepared, depth: 5)
    }
    return 0
}
