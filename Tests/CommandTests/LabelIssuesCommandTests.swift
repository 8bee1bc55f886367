import Common
import Foundation
import TestSupport
import XCTest

/// `pic2vec label-issues`: planted flips found from embeddings, JSON with files, and bad input refused.
final class LabelIssuesCommandTests: Pic2VecFolderTestCase {
    /// 240 points in 4 well-separated clusters (32-d), 8 labels moved to another cluster's class.
    private func writeClusters() throws -> (labels: [Int], flipped: Set<Int>) {
        var generator = SeededGenerator(seed: 7)
        let centers = (0..<4).map { _ in (0..<32).map { _ in Float(generator.nextGaussian()) } }
        var values: [Float] = []
        var labels: [Int] = []
        for row in 0..<240 {
            labels.append(row % 4)
            values += centers[row % 4].map { $0 + 0.3 * Float(generator.nextGaussian()) }
        }
        let flipped: Set<Int> = [3, 17, 50, 99, 120, 161, 200, 239]
        for row in flipped { labels[row] = (labels[row] + 1 + row % 3) % 4 }
        try NPY.write(values, shape: [240, 32], to: folder + "/e.npy")
        try NPY.write(labels, to: folder + "/l.npy")
        return (labels, flipped)
    }

    private struct Output: Decodable {
        struct Issue: Decodable {
            var row: Int
            var path: String?
            var label: Int
            var suggested: Int
            var score: Double
            var neighbors: [Int]
        }
        var flagged: Int
        var issues: [Issue]
    }

    func testPlantedFlipsAreFlaggedWithTheirClass() throws {
        let (labels, flipped) = try writeClusters()
        let run = try pic2vec("label-issues", "--embeddings", "e.npy", "--labels", "l.npy", "--json")
        succeeds(run)
        let output = try JSONDecoder().decode(Output.self, from: Data(run.stdout.utf8))
        XCTAssertEqual(output.flagged, flipped.count)
        XCTAssertEqual(Set(output.issues.map(\.row)), flipped)
        XCTAssertEqual(output.issues.map(\.score), output.issues.map(\.score).sorted(by: >))
        for issue in output.issues {
            XCTAssertEqual(issue.label, labels[issue.row])
            XCTAssertEqual(issue.suggested, issue.row % 4, "the class of the cluster it sits in")
            XCTAssertFalse(issue.neighbors.isEmpty)
            XCTAssertTrue(issue.neighbors.allSatisfy { labels[$0] == issue.suggested })
            XCTAssertNil(issue.path)
        }
        let limited = try pic2vec("label-issues", "--embeddings", "e.npy", "--labels", "l.npy", "--json", "--limit", "3")
        succeeds(limited)
        let few = try JSONDecoder().decode(Output.self, from: Data(limited.stdout.utf8))
        XCTAssertEqual(few.flagged, flipped.count)
        XCTAssertEqual(few.issues.map(\.row), Array(output.issues.prefix(3).map(\.row)))
        let text = try pic2vec("label-issues", "--embeddings", "e.npy", "--labels", "l.npy")
        succeeds(text)
        XCTAssertTrue(text.stdout.contains("8 of 240 labels flagged as probably wrong"), text.stdout)
    }

    func testEmbeddingsOfAFolderNameTheirFiles() throws {
        succeeds(try pic2vec("embed", "--data", "images", "--weights", "random", "--seed", "3", "--output", "emb.npy"))
        let run = try pic2vec("label-issues", "--embeddings", "emb.npy", "--k", "5", "--json")
        succeeds(run)
        let output = try JSONDecoder().decode(Output.self, from: Data(run.stdout.utf8))
        XCTAssertEqual(output.issues.count, output.flagged)
        XCTAssertTrue(output.issues.allSatisfy { $0.path?.hasSuffix(".png") == true }, run.stdout)
        let direct = try pic2vec("label-issues", "--data", "images", "--weights", "random", "--seed", "3", "--k", "5", "--json")
        succeeds(direct)
        XCTAssertEqual(try JSONDecoder().decode(Output.self, from: Data(direct.stdout.utf8)).flagged, output.flagged)
    }

    func testBadInputGetsAMessage() throws {
        _ = try writeClusters()
        try NPY.write([0, 1, -1], to: folder + "/negative.npy")
        try NPY.write(Array(repeating: 0, count: 240).enumerated().map { $0.offset == 5 ? -2 : 0 }, to: folder + "/neg240.npy")
        fails(try pic2vec("label-issues", "--labels", "l.npy"), saying: "either --embeddings or --data")
        fails(try pic2vec("label-issues", "--embeddings", "e.npy", "--labels", "negative.npy"), saying: "negative.npy")
        fails(try pic2vec("label-issues", "--embeddings", "e.npy", "--labels", "neg240.npy"), saying: "neg240.npy", "negative")
        fails(try pic2vec("label-issues", "--embeddings", "e.npy", "--labels", "l.npy", "--k", "240"), saying: "--k 240")
        fails(try pic2vec("label-issues", "--embeddings", "e.npy", "--labels", "l.npy", "--k", "0"), saying: "--k")
        fails(try pic2vec("label-issues", "--embeddings", "e.npy"), saying: "e.labels.npy", "--labels")
        fails(try pic2vec("label-issues", "--embeddings", "missing.npy", "--labels", "l.npy"), saying: "missing.npy")
        fails(try pic2vec("label-issues", "--data", "images"), saying: "--weights")
    }
}
