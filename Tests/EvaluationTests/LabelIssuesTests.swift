import Foundation
import TestSupport
import XCTest

@testable import Evaluation

/// Neighbour votes against numpy, confident learning against cleanlab (fixture written by
/// benchmarks/make_label_issue_fixtures.py), and the ranking of label issues.
final class LabelIssuesTests: XCTestCase {
    private struct Fixture: Decodable {
        var k: Int
        var temperature: Double
        var smoothing: Double
        var classes: Int
        var labels: [Int]
        var flipped: [Int]
        var ids: [Int]
        var similarities: [Float]
        var probabilities: [Double]
        var thresholds: [Double]
        var joint: [[Int]]
        var calibrated: [[Int]]
        var issueCount: Int

        enum CodingKeys: String, CodingKey {
            case k, temperature, smoothing, classes, labels, flipped, ids, similarities, probabilities, thresholds
            case joint, calibrated
            case issueCount = "issue_count"
        }
    }

    private func fixture() throws -> Fixture {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "label_issues", withExtension: "json", subdirectory: "Fixtures"))
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    func testVotesMatchNumpy() throws {
        let f = try fixture()
        let votes = NeighborVotes(temperature: f.temperature, smoothing: f.smoothing).probabilities(
            ids: f.ids, similarities: f.similarities, width: f.k, labels: f.labels, classes: f.classes)
        XCTAssertEqual(votes.rows, f.labels.count)
        assertClose(votes.values.map(Float.init), f.probabilities.map(Float.init), rtol: 1e-5, atol: 1e-7)
    }

    func testConfidentLearningMatchesCleanlab() throws {
        let f = try fixture()
        let learning = ConfidentLearning(
            probabilities: ClassProbabilities(classes: f.classes, values: f.probabilities), labels: f.labels)
        assertClose(learning.thresholds.map(Float.init), f.thresholds.map(Float.init))
        XCTAssertEqual(learning.joint, f.joint)
        XCTAssertEqual(learning.calibrated, f.calibrated)
        XCTAssertEqual(learning.issueCount, f.issueCount)
    }

    func testFlaggedAreTheHighestScoresAndMostlyTheFlippedLabels() throws {
        let f = try fixture()
        let probabilities = ClassProbabilities(classes: f.classes, values: f.probabilities)
        let issues = LabelIssues(probabilities: probabilities, labels: f.labels)
        XCTAssertEqual(issues.flagged, f.issueCount)
        let scores = issues.ranked.map(\.score)
        XCTAssertEqual(scores, scores.sorted(by: >))
        for issue in issues.ranked {
            XCTAssertEqual(issue.score, 1 - probabilities[issue.row, issue.label], accuracy: 1e-12)
            XCTAssertEqual(issue.suggested, probabilities.argmax(issue.row))
            XCTAssertNotEqual(issue.suggested, issue.label)
        }
        let flagged = Set(issues.ranked.prefix(issues.flagged).map(\.row))
        // The fixture's clusters overlap, so more are flagged than flipped; still, flips are 5% of the rows
        // and over 40% of the flagged, and nearly every flip is flagged.
        XCTAssertGreaterThan(Double(flagged.intersection(f.flipped).count) / Double(flagged.count), 0.4)
        XCTAssertGreaterThan(Double(flagged.intersection(f.flipped).count) / Double(f.flipped.count), 0.9)
    }

    func testRoundingKeepsTheRowTotalLikeCleanlab() {
        // numpy rounds half to even: 0.5 -> 0, 2.5 -> 2; the lost unit goes where rounding lost the most.
        XCTAssertEqual(ConfidentLearning.roundedKeepingSum([0.5, 2.5, 1.0]), [0, 3, 1])
        XCTAssertEqual(ConfidentLearning.roundedKeepingSum([0.4, 0.4, 0.4, 0.8]), [0, 0, 1, 1])
        XCTAssertEqual(
            ConfidentLearning.calibrate([[3, 1], [0, 0]], counts: [8, 2]), [[8, 2], [0, 0]], "cleanlab gives the same")
    }

    func testAgreeingLabelsGiveNoIssue() {
        // Two tight pairs, each row's only neighbour its partner with the same label.
        let votes = NeighborVotes().probabilities(
            ids: [1, 0, 3, 2], similarities: [0.9, 0.9, 0.8, 0.8], width: 1, labels: [0, 0, 1, 1], classes: 2)
        let issues = LabelIssues(probabilities: votes, labels: [0, 0, 1, 1])
        XCTAssertEqual(issues.flagged, 0)
        XCTAssertTrue(issues.ranked.isEmpty)
        // Swapped neighbours: every row is voted into the other class.
        let swapped = NeighborVotes().probabilities(
            ids: [2, 2, 0, 0], similarities: [0.9, 0.9, 0.8, 0.8], width: 1, labels: [0, 0, 1, 1], classes: 2)
        let all = LabelIssues(probabilities: swapped, labels: [0, 0, 1, 1])
        XCTAssertEqual(all.ranked.map(\.row).sorted(), [0, 1, 2, 3])
        XCTAssertEqual(all.ranked.map(\.suggested), all.ranked.map { 1 - [0, 0, 1, 1][$0.row] })
    }

    func testOneClassHasNoIssues() {
        let votes = NeighborVotes().probabilities(ids: [1, 0], similarities: [1, 1], width: 1, labels: [0, 0], classes: 1)
        let issues = LabelIssues(probabilities: votes, labels: [0, 0])
        XCTAssertEqual(issues.flagged, 0)
        XCTAssertTrue(issues.ranked.isEmpty)
    }
}
