import Common
import Foundation
import XCTest

final class ParallelTests: XCTestCase {
    func testParallelMapKeepsIndexOrder() {
        XCTAssertEqual(parallelMap(0) { $0 }, [])
        XCTAssertEqual(parallelMap(10_000) { $0 * 3 }, (0..<10_000).map { $0 * 3 })
    }

    func testForEachChunkSplitDependsOnlyOnCountAndChunks() {
        for threads in [1, 2, 8] {
            var ranges = [Range<Int>](repeating: 0..<0, count: 4)
            ranges.withUnsafeMutableBufferPointer { buffer in
                let shared = SharedPointer(buffer.baseAddress!)
                forEachChunk(10, chunks: 4, threads: threads) { c, range in shared.base[c] = range }
            }
            XCTAssertEqual(ranges, [0..<2, 2..<5, 5..<7, 7..<10], "threads \(threads)")
        }
    }

    func testForEachChunkThrowsTheFirstFailingChunksError() {
        struct Failure: Error, Equatable { let chunk: Int }
        for threads in [1, 2] {
            XCTAssertThrowsError(
                try forEachChunk(100, chunks: 10, threads: threads) { (c, _) throws(Failure) in
                    if c == 3 || c == 7 { throw Failure(chunk: c) }
                }
            ) { XCTAssertEqual($0 as? Failure, Failure(chunk: 3)) }
        }
    }

    func testForEachInterleavedVisitsEveryItemOnceInWorkerOrder() {
        var visits = [Int](repeating: 0, count: 103)
        var owners = [Int](repeating: -1, count: 103)
        visits.withUnsafeMutableBufferPointer { visitBuffer in
            owners.withUnsafeMutableBufferPointer { ownerBuffer in
                let (visited, owner) = (SharedPointer(visitBuffer.baseAddress!), SharedPointer(ownerBuffer.baseAddress!))
                forEachInterleaved(103, workers: 4) { worker, items in
                    for i in items {
                        visited.base[i] += 1
                        owner.base[i] = worker
                    }
                }
            }
        }
        XCTAssertEqual(visits, [Int](repeating: 1, count: 103))
        XCTAssertEqual(owners, (0..<103).map { $0 % 4 })
    }

    func testScratchBufferIsSharedByWorkersAndDeinitializesItsElements() {
        let buffer = ScratchBuffer<Int>(repeating: -1, count: 103)
        forEachChunk(103, chunks: 7, threads: 2) { chunk, range in
            for i in range { buffer[i] = i * 10 + chunk }
        }
        XCTAssertEqual(buffer.elements, (0..<103).map { i in i * 10 + (0..<7).first { 103 * ($0 + 1) / 7 > i }! })

        do {
            let tracked = ScratchBuffer<Tracked?>(repeating: nil, count: 5)
            for i in 0..<5 { tracked[i] = Tracked() }
            XCTAssertEqual(Tracked.alive, 5)
        }
        XCTAssertEqual(Tracked.alive, 0, "the buffer's deinit releases its elements")
    }
}

/// Counts its live instances, to see that a buffer's elements are deinitialized with it.
private final class Tracked {
    static let lock = NSLock()
    nonisolated(unsafe) static var alive = 0
    init() { Self.lock.withLock { Self.alive += 1 } }
    deinit { Self.lock.withLock { Self.alive -= 1 } }
}
