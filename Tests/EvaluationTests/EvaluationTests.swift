import Common
import Foundation
import TestSupport
import XCTest

@testable import Evaluation

final class EvaluationTests: XCTestCase {
    private struct Expected: Decodable {
        var precision: [String: Double]
        var recall: [String: Double]
        var per_class_precision_5: [String: Double]
        var map_at_r: Double
        var contingency: [[Int]]
        var purity: Double
        var nmi: Double
        var ari: Double
    }

    private func fixture(_ name: String) throws -> NPY.Array {
        let url = try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: "npy", subdirectory: "Fixtures"))
        return try NPY.read(url.path)
    }

    private func expected() throws -> Expected {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "expected", withExtension: "json", subdirectory: "Fixtures"))
        return try JSONDecoder().decode(Expected.self, from: Data(contentsOf: url))
    }

    func testRetrievalMetricsMatchNumpy() throws {
        let neighbors = try fixture("neighbors")
        let labels = try fixture("labels").ints
        let width = neighbors.shape[1]
        let ids = neighbors.ints
        let reference = try expected()
        for (k, value) in reference.precision {
            let k = try XCTUnwrap(Int(k))
            assertClose(RetrievalMetrics.precision(at: k, neighbors: ids, width: width, labels: labels), value, "P@\(k)")
            assertClose(
                RetrievalMetrics.recall(at: k, neighbors: ids, width: width, labels: labels),
                try XCTUnwrap(reference.recall[String(k)]), "R@\(k)")
        }
        let perClass = RetrievalMetrics.perClassPrecision(at: 5, neighbors: ids, width: width, labels: labels)
        XCTAssertEqual(perClass.count, reference.per_class_precision_5.count)
        for (label, value) in reference.per_class_precision_5 {
            assertClose(try XCTUnwrap(perClass[try XCTUnwrap(Int(label))]), value, "class \(label)")
        }
        let relevance = RetrievalMetrics.relevanceAtR(neighbors: ids, width: width, labels: labels)
        assertClose(RetrievalMetrics.meanAveragePrecisionAtR(queries: labels.count, relevance: relevance), reference.map_at_r)
    }

    func testAveragePrecisionAtRByHand() {
        XCTAssertEqual(RetrievalMetrics.averagePrecisionAtR([true, false, true]), (1 + 2.0 / 3) / 3, accuracy: 1e-12)
        XCTAssertEqual(RetrievalMetrics.averagePrecisionAtR([false, false]), 0)
        XCTAssertEqual(RetrievalMetrics.averagePrecisionAtR([]), 0)
    }

    func testClusteringScoresMatchScikitLearn() throws {
        let table = ContingencyTable(assignments: try fixture("assignments").ints, labels: try fixture("labels").ints)
        let reference = try expected()
        XCTAssertEqual(table.counts, reference.contingency)
        assertClose(ClusteringMetrics.purity(table), reference.purity)
        assertClose(ClusteringMetrics.normalizedMutualInformation(table), reference.nmi, rtol: 1e-9)
        assertClose(ClusteringMetrics.adjustedRandIndex(table), reference.ari, rtol: 1e-9)
    }

    func testClusteringScoresOfPerfectAndTrivialClusterings() {
        let labels = [0, 0, 1, 1, 2, 2]
        let perfect = ContingencyTable(assignments: [5, 5, 3, 3, 4, 4], labels: labels)
        XCTAssertEqual(ClusteringMetrics.purity(perfect), 1)
        XCTAssertEqual(ClusteringMetrics.normalizedMutualInformation(perfect), 1, accuracy: 1e-12)
        XCTAssertEqual(ClusteringMetrics.adjustedRandIndex(perfect), 1, accuracy: 1e-12)
        let single = ContingencyTable(assignments: [0, 0, 0, 0, 0, 0], labels: labels)
        XCTAssertEqual(ClusteringMetrics.normalizedMutualInformation(single), 0)
        XCTAssertEqual(ClusteringMetrics.adjustedRandIndex(single), 0, accuracy: 1e-12)
    }
}
