import Common
import Foundation
import XCTest

@testable import Evaluation

final class LabelNoiseTests: XCTestCase {
    private struct Expected: Decodable {
        struct Candidate: Decodable {
            var row: Int
            var label: Int
            var suggested: Int
            var share: Double
        }
        var k: Int
        var candidates: [Candidate]
    }

    func testCandidatesMatchNumpyVote() throws {
        let url = { (name: String, ext: String) in
            try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: ext, subdirectory: "Fixtures"))
        }
        let neighbors = try NPY.read(try url("neighbors", "npy").path)
        let labels = try NPY.read(try url("labels", "npy").path).ints
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: try url("label_noise", "json")))
        let width = neighbors.shape[1]
        let ids = neighbors.ints.enumerated().filter { $0.offset % width < expected.k }.map(\.element)
        let found = LabelNoise.candidates(neighbors: ids, width: expected.k, labels: labels)
        XCTAssertFalse(expected.candidates.isEmpty)
        XCTAssertEqual(found.map(\.row), expected.candidates.map(\.row))
        XCTAssertEqual(found.map(\.label), expected.candidates.map(\.label))
        XCTAssertEqual(found.map(\.suggestedLabel), expected.candidates.map(\.suggested))
        XCTAssertEqual(found.map(\.disagreement), expected.candidates.map(\.share))
    }

    func testAgreeingNeighborsGiveNoCandidate() {
        // Two rows of label 0 and two of label 1, each the other's neighbors within its class.
        let found = LabelNoise.candidates(neighbors: [1, 0, 3, 2], width: 1, labels: [0, 0, 1, 1])
        XCTAssertTrue(found.isEmpty)
        let swapped = LabelNoise.candidates(neighbors: [2, 2, 0, 0], width: 1, labels: [0, 0, 1, 1])
        XCTAssertEqual(swapped.map(\.row), [0, 1, 2, 3])
        XCTAssertEqual(swapped.map(\.suggestedLabel), [1, 1, 0, 0])
    }
}
