import Common
import Foundation
import TestSupport
import XCTest

@testable import VectorSearch

final class DuplicateSearchTests: XCTestCase {
    private struct Expected: Decodable {
        var threshold: Float
        var k: Int
        var split: Int
        var keys: [String]
        var within: [[[Int]]]
        var across: [[[Int]]]
    }

    private func fixture() throws -> (points: Matrix, expected: Expected) {
        let npy = try XCTUnwrap(
            Bundle.module.url(forResource: "duplicates_points", withExtension: "npy", subdirectory: "Fixtures"))
        let json = try XCTUnwrap(Bundle.module.url(forResource: "duplicates", withExtension: "json", subdirectory: "Fixtures"))
        let array = try NPY.read(npy.path)
        return (
            Matrix(rows: array.shape[0], columns: array.shape[1], values: array.floats),
            try JSONDecoder().decode(Expected.self, from: Data(contentsOf: json))
        )
    }

    private func items(_ groups: [DuplicateGroup]) -> [[[Int]]] {
        groups.map { $0.members.map { [$0.item.set, $0.item.row] } }
    }

    private func rows(_ points: Matrix, _ range: Range<Int>) -> Matrix {
        Matrix(
            rows: range.count, columns: points.columns,
            values: Array(points.values[range.lowerBound * points.columns..<range.upperBound * points.columns]))
    }

    func testGroupsMatchFAISSAndUnionFindReference() throws {
        let (points, expected) = try fixture()
        let search = DuplicateSearch(threshold: expected.threshold, k: expected.k, threads: 2)
        XCTAssertEqual(items(try search.groups(in: DuplicateSet(points: points, keys: expected.keys))), expected.within)
        let reference = DuplicateSet(points: rows(points, 0..<expected.split), keys: Array(expected.keys[..<expected.split]))
        let queries = DuplicateSet(
            points: rows(points, expected.split..<points.rows), keys: Array(expected.keys[expected.split...]))
        XCTAssertEqual(items(try search.groups(of: queries, in: reference)), expected.across)
    }

    func testExactDuplicatesAreGroupedWhateverTheThreshold() throws {
        // Rows 0 and 2 have identical content keys but (as if embedded differently) far-apart embeddings.
        let points = Matrix(rows: 4, columns: 2, values: [1, 0, 0, 1, -1, 0, 0, -1])
        let set = DuplicateSet(points: points, keys: ["a", "b", "a", "c"])
        let groups = try DuplicateSearch(threshold: 0, k: 1, threads: 1).groups(in: set)
        XCTAssertEqual(items(groups), [[[0, 0], [0, 2]]])
        XCTAssertTrue(groups[0].isExact)
        assertClose(groups[0].members.map(\.distance), [0, 4], atol: 1e-6)
    }

    func testAnImageIsNeverItsOwnDuplicate() throws {
        let (points, expected) = try fixture()
        for threshold: Float in [0, expected.threshold, 4] {
            let groups = try DuplicateSearch(threshold: threshold, k: 5, threads: 2).groups(
                in: DuplicateSet(points: points, keys: expected.keys))
            for group in groups {
                XCTAssertGreaterThanOrEqual(group.members.count, 2)
                XCTAssertEqual(
                    Set(group.members.map(\.item)).count, group.members.count, "a member repeats at threshold \(threshold)")
            }
            let members = groups.flatMap { $0.members.map(\.item) }
            XCTAssertEqual(Set(members).count, members.count, "an image is in two groups at threshold \(threshold)")
        }
        // Unique keys and distinct points: nothing is a duplicate at threshold 0.
        let unique = DuplicateSet(points: points, keys: (0..<points.rows).map { "row \($0)" })
        XCTAssertTrue(
            try DuplicateSearch(threshold: 0, threads: 2).groups(in: unique).filter { $0.members.contains { $0.distance > 0 } }
                .isEmpty)
    }

    func testGroupsAreStableAcrossRunsAndThreadCounts() throws {
        let (points, expected) = try fixture()
        let set = DuplicateSet(points: points, keys: expected.keys)
        let first = try DuplicateSearch(threshold: 0.05, threads: 1).groups(in: set)
        for threads in [1, 2, 3, 8] {
            XCTAssertEqual(try DuplicateSearch(threshold: 0.05, threads: threads).groups(in: set), first, "\(threads) threads")
        }
        let sizes = first.map(\.members.count)
        XCTAssertEqual(sizes, sizes.sorted(by: >), "largest groups first")
    }

    func testReportFollowsTheDocumentedSchema() throws {
        let (points, expected) = try fixture()
        let reference = DuplicateSet(points: rows(points, 0..<expected.split), keys: Array(expected.keys[..<expected.split]))
        let queries = DuplicateSet(
            points: rows(points, expected.split..<points.rows), keys: Array(expected.keys[expected.split...]))
        let groups = try DuplicateSearch(threshold: expected.threshold, threads: 2).groups(of: queries, in: reference)
        let ids = [(0..<reference.count).map { "train/\($0).png" }, (0..<queries.count).map { "test/\($0).png" }]
        let search = DuplicateSearch(threshold: expected.threshold, threads: 2)
        let evidence = DuplicateEvidence(
            sets: [reference, queries],
            links: search.links(of: queries, in: reference, neighbors: try search.neighbors(of: queries, in: reference)))
        let report = DuplicateReport(
            groups: groups, groupTier: .nearDuplicate, pairs: DuplicatePair.tiers(pixels: evidence, network: nil),
            grouping: DuplicateReport.Evidence(
                features: "fixture", threshold: expected.threshold, thresholdRule: "given", medianNearestDistance: 0.5),
            similar: nil, names: ["train", "test"], ids: ids)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: report.json()) as? [String: Any])
        XCTAssertEqual(
            Set(object.keys),
            [
                "schema", "distance", "features", "threshold", "threshold_rule", "median_nearest_distance", "sets",
                "images_in_groups", "groups", "pairs",
            ])
        XCTAssertEqual(object["schema"] as? String, "pic2vec-duplicates/2")
        let pairs = try XCTUnwrap(object["pairs"] as? [[String: Any]])
        XCTAssertEqual(pairs.count, evidence.links.count)
        XCTAssertGreaterThan(pairs.count, 0)
        for pair in pairs {
            XCTAssertEqual(Set(pair.keys), ["tier", "a", "b", "pixel_distance"], "no network distance was measured")
            XCTAssertEqual((pair["a"] as? [String: Any])?["set"] as? Int, 0)
            XCTAssertEqual((pair["b"] as? [String: Any])?["set"] as? Int, 1)
        }
        XCTAssertEqual((object["sets"] as? [[String: Any]])?.compactMap { $0["name"] as? String }, ["train", "test"])
        let jsonGroups = try XCTUnwrap(object["groups"] as? [[String: Any]])
        XCTAssertEqual(jsonGroups.count, expected.across.count)
        for (group, reference) in zip(jsonGroups, expected.across) {
            XCTAssertEqual(Set(group.keys), ["size", "exact", "tier", "members"])
            XCTAssertEqual(group["tier"] as? String, (group["exact"] as? Bool) == true ? "identical" : "near-duplicate")
            let members = try XCTUnwrap(group["members"] as? [[String: Any]])
            XCTAssertEqual(group["size"] as? Int, members.count)
            for (member, item) in zip(members, reference) {
                XCTAssertEqual(Set(member.keys), ["set", "row", "path", "distance", "exact"])
                XCTAssertEqual([member["set"] as? Int, member["row"] as? Int], [item[0], item[1]])
                XCTAssertEqual(member["path"] as? String, ids[item[0]][item[1]])
            }
        }
        XCTAssertEqual(try JSONDecoder().decode(DuplicateReport.self, from: report.json()), report)
    }

    func testRelativeThresholdScalesTheMedianNearestDistance() {
        // Nearest distances 1, 2, 4 (and a query without neighbors): median 2.
        let neighbors = Neighbors(queries: 4, k: 1, ids: [1, 0, 0, -1], distances: [1, 2, 4, 0])
        XCTAssertEqual(DuplicateSearch.medianNearestDistance(neighbors), 2)
    }

    func testTheThresholdIsSetByTheReferenceAloneWhateverIsComparedWithIt() throws {
        // Reference points 1 apart on a line (squared nearest distance 1); queries far closer to it.
        let reference = DuplicateSet(
            points: Matrix(rows: 5, columns: 2, values: (0..<5).flatMap { [Float($0), 0] }), keys: ["a", "b", "c", "d", "e"])
        let queries = DuplicateSet(
            points: Matrix(rows: 2, columns: 2, values: [0.01, 0, 3.5, 0]), keys: ["q", "r"])
        let calibrated = try DuplicateSearch.calibrated(on: reference, fraction: 0.5, k: 2, threads: 1)
        XCTAssertEqual(calibrated.medianNearestDistance, 1, accuracy: 1e-6)
        XCTAssertEqual(calibrated.search.threshold, 0.5, accuracy: 1e-6)
        XCTAssertEqual(calibrated.referenceNeighbors.queries, 5)
        // 0.0001 from row 0 is a duplicate; 0.25 from rows 3 and 4 also is at 0.5.
        let groups = try calibrated.search.groups(of: queries, in: reference)
        let linked = Set(groups.flatMap { $0.members.map { [$0.item.set, $0.item.row] } })
        XCTAssertEqual(linked, [[0, 0], [1, 0], [0, 3], [0, 4], [1, 1]])
        let given = try DuplicateSearch.calibrated(on: reference, fraction: 0.5, given: 0.001, k: 2, threads: 1)
        XCTAssertEqual(given.search.threshold, 0.001)
        XCTAssertEqual(given.rule, "given")
        XCTAssertEqual(try given.search.groups(of: queries, in: reference).count, 1, "only the query at 0.0001")

        // One reference image sets no scale: a given threshold still serves.
        let single = DuplicateSet(points: Matrix(rows: 1, columns: 2, values: [0, 0]), keys: ["a"])
        XCTAssertThrowsError(try DuplicateSearch.calibrated(on: single, fraction: 0.5)) { error in
            XCTAssertTrue("\(error)".contains("at least 2 reference images, got 1"), "\(error)")
        }
        let fixed = try DuplicateSearch.calibrated(on: single, fraction: 0.5, given: 0.001, k: 2, threads: 1)
        XCTAssertEqual(try fixed.search.groups(of: queries, in: single).count, 1)
        XCTAssertThrowsError(try DuplicateSearch.calibrated(on: reference, fraction: -1, k: 2, threads: 1))
    }

    func testTooFewImagesIsAnError() throws {
        let one = DuplicateSet(points: Matrix(rows: 1, columns: 2, values: [1, 0]), keys: ["a"])
        XCTAssertThrowsError(try DuplicateSearch(threshold: 0.1).groups(in: one)) { error in
            XCTAssertTrue("\(error)".contains("at least 2 images"), "\(error)")
        }
    }
}
