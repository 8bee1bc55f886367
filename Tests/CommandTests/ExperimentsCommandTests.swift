import Foundation
import TestSupport
import XCTest

/// One `Experiments all` run on a tiny train/test folder with random weights: every section,
/// every figure, and the random-weights label.
final class ExperimentsCommandTests: XCTestCase {
    func testAllOnATinyFolder() throws {
        let folder = try temporaryFolder()
        try CommandRunner.makeImageFolder(folder + "/data", classes: 10, perClass: 10, split: "train")
        try CommandRunner.makeImageFolder(folder + "/data", classes: 10, perClass: 3, split: "test")
        let outcome = try CommandRunner.run(
            "Experiments", ["all", "--data", "data", "--weights", "random", "--seed", "1"], in: folder)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let report = try String(contentsOfFile: folder + "/outputs/report.md", encoding: .utf8)
        for number in ["01", "02", "03", "04", "05", "06", "07"] {
            XCTAssertTrue(report.contains("## \(number). "), "section \(number) missing")
        }
        XCTAssertTrue(report.contains("random weights"))
        // Experiments 08-10 report what they measured: a table and a figure each, labelled with the weights.
        for number in ["08", "09", "10"] {
            let section = try XCTUnwrap(
                report.components(separatedBy: "\n## ").first { $0.hasPrefix("\(number). ") }, "section \(number)")
            XCTAssertTrue(section.contains("| --- |") || section.contains("| ---: |"), "section \(number) has no table")
            XCTAssertTrue(section.contains("](../figures/\(number)-"), "section \(number) has no figure")
            XCTAssertTrue(section.contains("random weights"), "section \(number) does not name its weights")
        }
        // The collection `pic2vec serve` opens: the index with its description and labels, and the map.
        for name in [
            "faiss_index.index", "faiss_index.index.json", "faiss_index.index.labels.npy", "labels.npy", "tsne-train.npy",
            "kmeans-assignments.npy",
        ] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/outputs/" + name), "outputs/\(name) missing")
        }
        let figures = try FileManager.default.contentsOfDirectory(atPath: folder + "/figures")
        XCTAssertGreaterThan(figures.filter { $0.hasSuffix(".png") }.count, 5)
        XCTAssertEqual(figures.filter { $0.hasSuffix(".png") }.count, figures.filter { $0.hasSuffix(".pdf") }.count)

        let rerun = try CommandRunner.run(
            "Experiments", ["3", "--data", "data", "--weights", "random", "--seed", "1"], in: folder)
        XCTAssertEqual(rerun.status, 0, rerun.stderr)
        let after = try String(contentsOfFile: folder + "/outputs/report.md", encoding: .utf8)
        XCTAssertTrue(after.contains("## 01. ") && after.contains("## 07. "), "running 03 keeps the other sections")
        XCTAssertFalse(after.contains("## 11. "), "the scale study runs only when asked for")

        let scale = try CommandRunner.run(
            "Experiments", ["11", "--data", "data", "--weights", "random", "--seed", "1"], in: folder)
        XCTAssertEqual(scale.status, 0, scale.stderr)
        let withScale = try String(contentsOfFile: folder + "/outputs/report.md", encoding: .utf8)
        XCTAssertTrue(withScale.contains("## 11. ") && withScale.contains("## 07. "), "section 11 joins the others")
        // Its table: exact flat search finds every true neighbour; every recall is a share.
        let scaleSection = try XCTUnwrap(withScale.components(separatedBy: "\n## ").first { $0.hasPrefix("11. ") })
        let scaleRows = scaleSection.split(separator: "\n").filter { $0.hasPrefix("| ") && !$0.contains("recall@10") }
            .map { $0.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) } }
        let recalls = scaleRows.compactMap { $0.count > 2 ? Double($0[2]) : nil }
        XCTAssertFalse(recalls.isEmpty, scaleSection)
        XCTAssertTrue(recalls.allSatisfy { (0...1).contains($0) }, "\(recalls)")
        XCTAssertTrue(scaleRows.contains { $0.count > 2 && $0[0] == "Flat" && $0[2] == "1.000" }, scaleSection)
        XCTAssertTrue(scaleSection.contains("](../figures/11-recall-speed-"), "section 11 has its figures")

        let otherSeed = try CommandRunner.run(
            "Experiments", ["1", "--data", "data", "--weights", "random", "--seed", "2"], in: folder)
        XCTAssertEqual(otherSeed.status, 0, otherSeed.stderr)
        let reseeded = try String(contentsOfFile: folder + "/outputs/report.md", encoding: .utf8)
        XCTAssertTrue(reseeded.contains("## 01. "))
        XCTAssertFalse(reseeded.contains("## 03. "), "sections made from other inputs are not kept")
        let unknown = try CommandRunner.run("Experiments", ["99"], in: folder)
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.stderr.contains("unknown experiment 99"), unknown.stderr)
    }

    func testAFailedExperimentIsAnErrorNotAUsageError() throws {
        let folder = try temporaryFolder()
        try CommandRunner.makeImageFolder(folder + "/data", classes: 2, perClass: 3, split: "train")
        // Six images cannot make experiment 06's ten clusters.
        let outcome = try CommandRunner.run("Experiments", ["6", "--data", "data", "--weights", "random"], in: folder)
        XCTAssertEqual(outcome.status, 1, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("experiment 06 failed"), outcome.stderr)
        XCTAssertFalse(outcome.stderr.contains("USAGE"), "a failed experiment is not a usage error: \(outcome.stderr)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/outputs/report.md"), "the report says what failed")
    }
}
