import Common
import TestSupport
import XCTest

@testable import Evaluation

final class ProjectionQualityTests: XCTestCase {
    /// `count` random 2-D points from a fixed seed, some on shared x values to exercise ties.
    private func points(_ count: Int, seed: UInt64) -> Matrix {
        var generator = SeededGenerator(seed: seed)
        let values = (0..<2 * count).map { i in
            i % 10 == 0 ? 0.5 : Float(Int.random(in: 0..<400, using: &generator)) / 40
        }
        return Matrix(rows: count, columns: 2, values: values)
    }

    /// The sweep finds the same neighbors, in the same order, as sorting all distances.
    func testNearestNeighborsMatchBruteForce() {
        let p = points(300, seed: 1)
        let k = 7
        let found = ProjectionQuality.nearestNeighbors2D(p, k: k)
        for i in 0..<p.rows {
            func distance(_ j: Int) -> Float {
                let dx = p.values[2 * j] - p.values[2 * i], dy = p.values[2 * j + 1] - p.values[2 * i + 1]
                return dx * dx + dy * dy
            }
            let expected = (0..<p.rows).filter { $0 != i }.sorted { (distance($0), $0) < (distance($1), $1) }.prefix(k)
            XCTAssertEqual(Array(found[i * k..<(i + 1) * k]), Array(expected), "point \(i)")
        }
    }

    /// Known answers: a projection equal to the original keeps everything; labels by half-plane agree fully.
    func testPreservationAndAgreement() {
        // Points on a line: 2-D neighbors of i are i +- 1, i +- 2 (ties to the lower index).
        let n = 20
        let line = Matrix(rows: n, columns: 2, values: (0..<n).flatMap { [Float($0), 0] })
        let same = ProjectionQuality.nearestNeighbors2D(line, k: 2)
        XCTAssertEqual(ProjectionQuality.neighborPreservation(original: same, originalK: 2, projection: line, k: 2), 1)
        // Original neighbors that are never 2-D neighbors: the point halfway around.
        let far = (0..<n).flatMap { [($0 + n / 2) % n, ($0 + n / 2 + 1) % n] }
        XCTAssertEqual(ProjectionQuality.neighborPreservation(original: far, originalK: 2, projection: line, k: 2), 0)
        // Two far groups: every 3-NN shares the label.
        let groups = Matrix(rows: 8, columns: 2, values: (0..<8).flatMap { [Float($0 < 4 ? $0 : 100 + $0), 1] })
        XCTAssertEqual(ProjectionQuality.classAgreement(projection: groups, labels: (0..<8).map { $0 < 4 ? 0 : 1 }, k: 3), 1)
        // Alternating labels on a line: every 1-NN is an adjacent point of the other label.
        XCTAssertEqual(ProjectionQuality.classAgreement(projection: line, labels: (0..<n).map { $0 % 2 }, k: 1), 0)
    }
}
