import Common
import Foundation
import TestSupport
import XCTest

@testable import VectorSearch

/// Rows added to and removed from a collection: the index drops rows in place, and the
/// re-ranking neighbor lists, updated instead of searched again, equal a fresh search.
final class CollectionChangeTests: XCTestCase {
    /// `count` random unit rows of `dimension` floats.
    private func unitRows(_ count: Int, dimension: Int = 12, seed: UInt64) -> Matrix {
        var generator = SeededGenerator(seed: seed)
        let values = (0..<count * dimension).map { _ in Float(generator.nextGaussian()) }
        return Matrix(rows: count, columns: dimension, values: values).l2Normalized()
    }

    /// `rows` without the rows `removed`, then `added` appended, and the map from old to new rows.
    private func changed(_ rows: Matrix, removing removed: Set<Int>, adding added: Matrix) -> (Matrix, [Int?], [Int]) {
        var kept = [Int?](repeating: nil, count: rows.rows)
        var values: [Float] = []
        var next = 0
        for row in 0..<rows.rows where !removed.contains(row) {
            kept[row] = next
            next += 1
            values += rows.row(row)
        }
        let result = Matrix(rows: next + added.rows, columns: rows.columns, values: values + added.values)
        return (result, kept, Array(next..<result.rows))
    }

    func testUpdatedListsEqualAFreshSearchAfterAddsAndRemoves() throws {
        let rows = unitRows(400, seed: 1)
        let lists = try RerankingPipeline.exactNeighbors(rows, 10, 0)
        for (removed, added) in [(Set<Int>(), 25), (Set([0, 7, 99, 250, 399]), 0), (Set(stride(from: 3, to: 400, by: 9)), 40)] {
            let (after, kept, new) = changed(rows, removing: removed, adding: unitRows(added, seed: 2))
            let updated = try lists.updated(points: after, kept: kept, changed: new)
            let fresh = try RerankingPipeline.exactNeighbors(after, 10, 0)
            XCTAssertEqual(updated.ids, fresh.ids, "removed \(removed.count), added \(added)")
            assertClose(updated.distances, fresh.distances, atol: 1e-5)
        }
    }

    func testAPipelinesFirstListsAreUpdatedExceptWhereItWhitens() throws {
        let rows = unitRows(300, seed: 3)
        let pipeline = RerankingPipeline(
            augmentation: QueryExpansion(depth: 5, alpha: 3), kReciprocal: KReciprocalReranking(k1: 8, k2: 3, lambda: 0.3))
        func lists(_ points: Matrix) throws -> [Neighbors] {
            var found: [Neighbors] = []
            _ = try pipeline.prepare(points) { points, k, step throws(VectorSearchError) in
                found.append(try RerankingPipeline.exactNeighbors(points, k, step))
                return found[step]
            }
            return found
        }
        let before = try lists(rows)
        XCTAssertEqual(before.count, 2, "one search before augmentation, one after")
        let (after, kept, new) = changed(rows, removing: [5, 6, 150], adding: unitRows(20, seed: 4))
        let updated = try XCTUnwrap(try pipeline.updatedLists(before, previous: rows, rows: after, kept: kept, added: new))
        XCTAssertEqual(updated.count, 1, "the search after augmentation is left to the next preparation")
        let fresh = try lists(after)
        XCTAssertEqual(updated[0].ids, fresh[0].ids)
        assertClose(updated[0].distances, fresh[0].distances, atol: 1e-5)
        var whitening = pipeline
        whitening.whitening = 8
        XCTAssertNil(try whitening.updatedLists(before, previous: rows, rows: after, kept: kept, added: new))
    }

    func testIndexesRemoveRowsInPlaceAndRenumberThem() throws {
        let rows = unitRows(600, seed: 5)
        let removed = [0, 17, 18, 300, 599]
        let (kept, _, _) = changed(rows, removing: Set(removed), adding: Matrix(rows: 0, columns: 12, values: []))
        let kinds: [VectorIndex.Kind] = [.flat, .ivfFlat(lists: 8, probes: 8), .hnsw(links: 8, efSearch: 64)]
        let exact = try VectorIndex(dimension: 12, kind: .flat)
        try exact.add(kept)
        let truth = try exact.search(kept, k: 5)
        for kind in kinds {
            let index = try VectorIndex(dimension: 12, kind: kind)
            try index.train(rows)
            try index.add(rows)
            try index.remove(rows: removed)
            XCTAssertEqual(index.count, kept.rows, "\(kind)")
            for row in [0, 1, 16, 17, 296, 594] {
                XCTAssertEqual(try index.vector(row), Array(kept.row(row)), "\(kind) row \(row)")
            }
            let found = try index.search(kept, k: 5)
            let agreement = zip(found.ids, truth.ids).filter { $0 == $1 }.count
            XCTAssertGreaterThan(Double(agreement) / Double(truth.ids.count), 0.97, "\(kind)")
            if case .flat = kind { XCTAssertEqual(found.ids, truth.ids) }
        }
        let index = try VectorIndex(dimension: 12)
        try index.add(rows)
        assertThrows("distinct") { try index.remove(rows: [3, 3]) }
        assertThrows("in 0..<600") { try index.remove(rows: [600]) }
        XCTAssertEqual(index.count, 600, "a refused removal changes nothing")
    }
}
