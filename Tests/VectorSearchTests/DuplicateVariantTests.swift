import Common
import XCTest

@testable import VectorSearch

/// Duplicate sets with variants: a pair counts at the distance of its nearest pair of views with one side as is.
final class DuplicateVariantTests: XCTestCase {
    private func unit(_ values: [Float]) -> [Float] {
        let length = values.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return values.map { $0 / length }
    }

    /// Four rows in 4-d; row 1 is row 0 "mirrored" (its variant is row 0's point), rows 2 and 3 are far.
    private func set(withVariants: Bool) -> DuplicateSet {
        let a = unit([1, 2, 0, 0])
        let mirroredA = unit([2, 1, 0, 0])
        let points = Matrix(rows: 4, columns: 4, values: a + mirroredA + unit([0, 0, 1, 0]) + unit([0, 0, 0, 1]))
        let mirrored = Matrix(rows: 4, columns: 4, values: mirroredA + a + unit([0, 0, 1, 0.1]) + unit([0, 0, 0.1, 1]))
        return DuplicateSet(points: points, variants: withVariants ? [mirrored] : [], keys: ["a", "b", "c", "d"])
    }

    func testAMirroredPairIsFoundOnlyThroughItsVariant() throws {
        let search = DuplicateSearch(threshold: 0.01, k: 2, threads: 1)
        XCTAssertTrue(try search.groups(in: set(withVariants: false)).isEmpty)
        let groups = try search.groups(in: set(withVariants: true))
        XCTAssertEqual(groups.map { $0.members.map(\.item.row) }, [[0, 1]])
        XCTAssertEqual(groups[0].members[1].distance, 0, accuracy: 1e-6)
        let neighbors = try search.neighbors(within: set(withVariants: true))
        XCTAssertEqual(neighbors.ids(of: 0).first, 1)
        XCTAssertEqual(neighbors.distances(of: 0).first ?? 1, 0, accuracy: 1e-6)
        XCTAssertFalse(neighbors.ids(of: 2).contains(2), "a row is never its own neighbor")
    }

    func testQueriesVariantsMeetTheReferenceAsItIs() throws {
        let all = set(withVariants: true)
        let reference = DuplicateSet(points: Matrix(rows: 1, columns: 4, values: Array(all.points.row(0))), keys: ["a"])
        let queries = DuplicateSet(
            points: Matrix(rows: 1, columns: 4, values: Array(all.points.row(1))),
            variants: [Matrix(rows: 1, columns: 4, values: Array(all.variants[0].row(1)))], keys: ["b"])
        let groups = try DuplicateSearch(threshold: 0.01, k: 1, threads: 1).groups(of: queries, in: reference)
        XCTAssertEqual(groups.count, 1)
        XCTAssertEqual(groups[0].members.map(\.item), [DuplicateItem(set: 0, row: 0), DuplicateItem(set: 1, row: 0)])
    }

    func testSearchingInChunksWithAProgressReportFindsTheSameNeighbors() throws {
        let all = set(withVariants: true)
        var chunked = DuplicateSearch(threshold: 0.01, k: 2, threads: 1)
        chunked.progress = "test search"
        chunked.progressRows = 3
        let plain = DuplicateSearch(threshold: 0.01, k: 2, threads: 1)
        let a = try chunked.neighbors(within: all)
        let b = try plain.neighbors(within: all)
        XCTAssertEqual(a.ids, b.ids)
        XCTAssertEqual(a.distances, b.distances)
        XCTAssertEqual(try chunked.groups(in: all), try plain.groups(in: all))
    }
}
