import Foundation
import TestSupport
import XCTest

/// `pic2vec duplicates --data NEW --against REF`: a reference folder or an index, only pairs of new to reference.
final class DuplicatesAgainstCommandTests: Pic2VecFolderTestCase {
    private struct Report: Decodable {
        struct Group: Decodable {
            struct Member: Decodable {
                var set: Int
                var row: Int
                var path: String
                var exact: Bool
            }
            var members: [Member]
        }
        struct Set_: Decodable {
            var name: String
            var images: Int
        }
        struct Evidence: Decodable {
            var threshold: Float
        }
        struct Pair: Decodable {
            var tier: String
        }
        var threshold: Float
        var similar: Evidence?
        var pairs: [Pair]
        var sets: [Set_]
        var groups: [Group]
    }

    /// `new/`: two copies of reference images and one image from another folder, plus a copy of a
    /// reference image inside the reference itself (which must never be reported).
    private func makeNewBatch() throws {
        try CommandRunner.makeImageFolder(folder + "/other", classes: 1, perClass: 12)
        try FileManager.default.createDirectory(atPath: folder + "/new/a", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: folder + "/images/class1/002.png", toPath: folder + "/new/a/copy1.png")
        try FileManager.default.copyItem(atPath: folder + "/images/class2/005.png", toPath: folder + "/new/a/copy2.png")
        try FileManager.default.copyItem(atPath: folder + "/other/class0/011.png", toPath: folder + "/new/a/fresh.png")
        try FileManager.default.copyItem(atPath: folder + "/images/class0/001.png", toPath: folder + "/images/class0/twin.png")
    }

    private func report(_ outcome: CommandOutcome) throws -> Report {
        succeeds(outcome)
        return try JSONDecoder().decode(Report.self, from: Data(outcome.stdout.utf8))
    }

    /// Each group's (reference file name, new file name), sorted.
    private func pairs(_ report: Report) -> [[String]] {
        report.groups.map { group in
            group.members.sorted { $0.set < $1.set }.map { URL(fileURLWithPath: $0.path).lastPathComponent }
        }.sorted { $0.joined() < $1.joined() }
    }

    func testAFolderAndAnIndexFindTheSameCopiesAndNothingInsideTheReference() throws {
        try makeNewBatch()
        let folderReport = try report(
            try pic2vec("duplicates", "--data", "new", "--against", "images", "--weights", "random", "--seed", "3", "--json"))
        XCTAssertEqual(folderReport.sets.map(\.name), ["reference", "new"])
        XCTAssertEqual(folderReport.sets.map(\.images), [25, 3])
        XCTAssertEqual(pairs(folderReport), [["002.png", "copy1.png"], ["005.png", "copy2.png"]])
        XCTAssertTrue(folderReport.groups.allSatisfy { $0.members.allSatisfy(\.exact) })
        XCTAssertEqual(folderReport.pairs.filter { $0.tier == "identical" }.count, 2)

        succeeds(try pic2vec("embed", "--data", "images", "--weights", "random", "--seed", "3", "--output", "emb.npy"))
        succeeds(try pic2vec("index", "--embeddings", "emb.npy", "--normalize", "--output", "x.index"))
        let indexReport = try report(try pic2vec("duplicates", "--data", "new", "--against", "x.index", "--json"))
        XCTAssertEqual(pairs(indexReport), pairs(folderReport))
        XCTAssertTrue(indexReport.groups.allSatisfy { $0.members.allSatisfy(\.exact) }, "same file bytes")
        XCTAssertNil(indexReport.similar, "an index has no pixels: its network evidence forms the groups")
        XCTAssertFalse(indexReport.pairs.contains { $0.tier == "near-duplicate" })
        // The index's scale is measured in the index itself: the same as the folder's network scale.
        XCTAssertEqual(indexReport.threshold, try XCTUnwrap(folderReport.similar).threshold, accuracy: 1e-5)
    }

    func testAnIndexWithoutWhatTheSearchNeedsIsRefused() throws {
        try makeNewBatch()
        succeeds(try pic2vec("embed", "--data", "images", "--weights", "random", "--seed", "3", "--output", "emb.npy"))
        succeeds(try pic2vec("index", "--embeddings", "emb.npy", "--output", "raw.index"))
        fails(try pic2vec("duplicates", "--data", "new", "--against", "raw.index"), saying: "raw.index", "--normalize")
        succeeds(try pic2vec("index", "--embeddings", "emb.npy", "--normalize", "--output", "x.index"))
        fails(try pic2vec("duplicates", "--data", "new", "--against", "x.index", "--weights", "random"), saying: "index's model")
        fails(
            try pic2vec("duplicates", "--data", "new", "--against", "x.index", "--across", "train,test"), saying: "--across")
        fails(
            try pic2vec("duplicates", "--data", "new", "--against", "x.index", "--relative-threshold", "0.1"),
            saying: "--similar-relative-threshold")
        // A damaged file list beside the index, or one naming another number of rows, is an error, not ignored.
        let list = folder + "/x.index.files.json"
        let kept = try Data(contentsOf: URL(fileURLWithPath: list))
        try Data("{\"classNames\": [".utf8).write(to: URL(fileURLWithPath: list))
        fails(try pic2vec("duplicates", "--data", "new", "--against", "x.index"), saying: "x.index.files.json")
        var shorter = try XCTUnwrap(JSONSerialization.jsonObject(with: kept) as? [String: Any])
        shorter["files"] = Array(try XCTUnwrap(shorter["files"] as? [Any]).dropLast())
        try JSONSerialization.data(withJSONObject: shorter).write(to: URL(fileURLWithPath: list))
        fails(try pic2vec("duplicates", "--data", "new", "--against", "x.index"), saying: "x.index.files.json", "rows")
        try FileManager.default.removeItem(atPath: folder + "/x.index.json")
        fails(try pic2vec("duplicates", "--data", "new", "--against", "x.index"), saying: "x.index.json")
        fails(try pic2vec("duplicates", "--data", "new", "--against", "missing.index"), saying: "missing.index")
    }
}
