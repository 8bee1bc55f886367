import XCTest

@testable import Evaluation

/// Uniqueness: the k-th neighbour's distance, most unusual first.
final class UniquenessTests: XCTestCase {
    func testTheKthDistanceRanksRows() {
        // Row 0 has a near twin but no other company; row 2 sits in a dense cluster; row 1 lacks a 3rd neighbour.
        let distances: [Float] = [0.01, 0.9, 1.2, 0.2, 0.3, .infinity, 0.05, 0.06, 0.07]
        let uniqueness = Uniqueness(distances: distances, width: 3)
        XCTAssertEqual(uniqueness.scores, [1.2, 0.3, 0.07])
        XCTAssertEqual(uniqueness.ranked, [0, 1, 2])
    }

    func testTiesKeepRowOrderAndMissingNeighboursAreInfinite() {
        let uniqueness = Uniqueness(distances: [0.5, 0.5, .infinity], width: 1)
        XCTAssertEqual(uniqueness.ranked, [2, 0, 1])
    }
}
