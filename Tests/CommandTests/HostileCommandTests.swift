import Common
import Foundation
import TestSupport
import VectorSearch
import XCTest

/// The hostile inputs found against the commands (issue 23): each ends in an exit with a
/// message naming the file or option and what is wrong, never a signal, a hang or output.
final class HostileCommandTests: Pic2VecFolderTestCase {

    /// Embeds the images and indexes them normalized (re-ranked by default) as `x.index`.
    private func index() throws {
        let embed = try pic2vec("embed", "--data", "images", "--weights", "random", "--seed", "3", "--output", "emb.npy")
        XCTAssertEqual(embed.status, 0, embed.stderr)
        let index = try pic2vec("index", "--embeddings", "emb.npy", "--normalize", "--output", "x.index")
        XCTAssertEqual(index.status, 0, index.stderr)
    }

    private func editDescription(_ change: (inout [String: Any]) -> Void) throws {
        let url = URL(fileURLWithPath: folder + "/x.index.json")
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        change(&object)
        try JSONSerialization.data(withJSONObject: object).write(to: url)
    }

    func testHugeShardsAndAugmentationsExitWithAMessage() throws {
        // Part 9223372036854775806 of 9223372036854775807 of 24 rows is row 23, the last.
        let last = try pic2vec(
            "embed", "--data", "images", "--weights", "random", "--shard", "9223372036854775806/9223372036854775807",
            "--output", "a.npy")
        XCTAssertEqual(last.status, 0, last.stderr)
        XCTAssertEqual(try Matrix.read(npy: folder + "/a.npy").rows, 1)
        fails(
            try pic2vec(
                "embed", "--data", "images", "--weights", "random", "--shard", "9223372036854775805/9223372036854775807",
                "--output", "e.npy"), saying: "would be empty")
        fails(
            try pic2vec(
                "embed", "--data", "images", "--weights", "random", "--augmentations", "46116860184273879", "--shard", "1/2",
                "--output", "b.npy"), saying: "embed the set in parts")
        fails(
            try pic2vec("embed", "--data", "images", "--weights", "random", "--augmentations", "1000000000", "--output", "c.npy"),
            saying: "24000000000 embeddings of 512 floats need 49152.0 GB, more than half of this machine's",
            "\(ProcessInfo.processInfo.physicalMemory >> 30) GiB")
        for name in ["e.npy", "b.npy", "c.npy"] { XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/" + name)) }
    }

    func testNonPositiveLimitsAreRefused() throws {
        try index()
        fails(try pic2vec("serve", "--index", "x.index", "--data", "images", "--limit", "0"), saying: "--limit must be positive")
        for limit in [0, -5] {
            try editDescription { $0["limit"] = limit }
            fails(try pic2vec("serve", "--index", "x.index", "--port", "0"), saying: "x.index.json", "\"limit\" must be positive")
        }
    }

    func testServeChecksTheLabelsThatIndexWroteBesideTheIndex() throws {
        try index()
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/x.index.labels.npy"), "pic2vec index wrote them")
        try NPY.encode([Int](repeating: 1, count: 24)).write(to: URL(fileURLWithPath: folder + "/x.index.labels.npy"))
        fails(
            try pic2vec("serve", "--index", "x.index", "--port", "0"), saying: "x.index.labels.npy",
            "these labels are not those of")
    }

    func testFilesThatAreNotRegularAreRefusedWithoutBlocking() throws {
        try index()
        XCTAssertEqual(mkfifo(folder + "/fifo.index", 0o600), 0)
        fails(
            try pic2vec("search", "--index", "fifo.index", "--query-index", "0", "-k", "3"), saying: "fifo.index",
            "not a regular file")
        fails(
            try pic2vec("serve", "--index", "fifo.index", "--data", "images", "--weights", "random"), saying: "not a regular file"
        )
        fails(
            try pic2vec("index", "--trained", "fifo.index", "--embeddings", "emb.npy", "--output", "y.index"),
            saying: "fifo.index", "not a regular file")
        for weights in ["/dev/zero", "fifo.index"] {
            fails(
                try pic2vec("embed", "--data", "images", "--weights", weights, "--output", "w.npy"),
                saying: weights, "not a regular file")
        }
        try FileManager.default.moveItem(atPath: folder + "/x.index.json", toPath: folder + "/saved.json")
        XCTAssertEqual(mkfifo(folder + "/x.index.json", 0o600), 0)
        fails(try pic2vec("serve", "--index", "x.index", "--port", "0"), saying: "x.index.json", "not a regular file")
    }

    func testUnsupportedRerankingIsRefusedAtStartNamingItsSource() throws {
        try index()
        fails(
            try pic2vec("search", "--index", "x.index", "--query-index", "0", "-k", "3", "--rerank", "qe-1000000-1"),
            saying: "--rerank qe-1000000-1", "qe-1000000")
        try editDescription { $0["rerank"] = "qe-1000000-1" }
        fails(try pic2vec("serve", "--index", "x.index", "--port", "0"), saying: "\"rerank\"", "x.index.json", "qe-1000000")
    }

    func testDescriptionsWithWrongValuesNameTheField() throws {
        try index()
        try editDescription { $0["seed"] = -1 }
        fails(try pic2vec("serve", "--index", "x.index", "--port", "0"), saying: "x.index.json", "\"seed\"")
        try editDescription {
            $0["seed"] = 3
            $0["model"] = "efficientnet-lite0"
        }
        fails(
            try pic2vec("serve", "--index", "x.index", "--port", "0", "--no-model"),
            saying: "x.index", "512-d rows", "EfficientNet-Lite0")
        try editDescription {
            $0["model"] = "resnet18"
            $0["data"] = "elsewhere/images"
        }
        fails(
            try pic2vec("serve", "--index", "x.index", "--port", "0"),
            saying: "elsewhere/images", "\"data\" in", "resolved from the current folder")
    }

    func testMergePartsMustExistOnceEach() throws {
        try index()
        fails(
            try pic2vec("index", "--merge", "x.index", "missing.index", "--output", "m.index"), saying: "missing.index",
            "no such file")
        fails(
            try pic2vec("index", "--merge", "x.index", "./x.index", "--output", "m.index"),
            saying: "./x.index", "given twice to --merge")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/m.index"))
    }

    func testBrokenLinksInAnImageFolderAreNamedAsSuch() throws {
        try FileManager.default.createSymbolicLink(atPath: folder + "/images/class0/gone.png", withDestinationPath: "nowhere.png")
        fails(
            try pic2vec("embed", "--data", "images", "--weights", "random", "--output", "e.npy"),
            saying: "gone.png", "symbolic link to a missing file")
        try FileManager.default.removeItem(atPath: folder + "/images/class0/gone.png")
        try FileManager.default.createSymbolicLink(atPath: folder + "/images/class0/loop.png", withDestinationPath: "loop.png")
        fails(
            try pic2vec("embed", "--data", "images", "--weights", "random", "--output", "e.npy"),
            saying: "loop.png", "symbolic link loop")
    }

    func testClustersNamedExplicitlyMustExistEvenWithoutALayout() throws {
        try index()
        fails(
            try pic2vec("serve", "--index", "x.index", "--port", "0", "--no-model", "--clusters", "nope.npy"),
            saying: "nope.npy", "no such file")
    }
}
