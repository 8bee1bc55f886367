import Common
import Foundation
import VectorSearch

/// 60 fixed unit rows of 16 floats: what a fuzzed pipeline is prepared on and searched.
let rows = Matrix(
    rows: 60, columns: 16, values: (0..<960).map { Float(sin(Double($0) * 0.61)) }
).l2Normalized()

/// libFuzzer entry: the command-line specs, a shard ("I/N") and a re-ranking ("dba-10-3+kr-20-6-0.3"),
/// parsed, checked and, when accepted, run.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSpecs(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let shard = try? Shard(text) {
        for total in [0, 1, 24, 50_000, Int.max] {
            let part = shard.rows(of: total)
            precondition(part.lowerBound >= 0 && part.upperBound <= total, "shard \(shard) of \(total) gives \(part)")
        }
    }
    if let pipeline = try? RerankingPipeline(name: text),
        (try? pipeline.check(rows: rows.rows, dimension: rows.columns)) != nil, let prepared = try? pipeline.prepare(rows)
    {
        let found = try? pipeline.search(rows.rows(0..<2), in: prepared, depth: 7)
        precondition(found.map { $0.k == 7 } ?? true, "a search of depth 7 gave \(found?.k ?? 0)")
    }
    return 0
}
