import Common
import Foundation
import TestSupport
import XCTest

/// `pic2vec embed --shard`, `pic2vec index` over many files, `--train-only`, `--trained`, `--merge`
/// and `--type auto`, run as a user would, on a tiny image folder with random weights.
final class ScaleCommandTests: Pic2VecFolderTestCase {
    override var imageCounts: (classes: Int, perClass: Int) { (4, 10) }

    private func embed(_ output: String, shard: String? = nil, seed: String = "3") throws {
        let shardArguments = shard.map { ["--shard", $0] } ?? []
        succeeds(
            try CommandRunner.run(
                "pic2vec",
                ["embed", "--data", "images", "--weights", "random", "--seed", seed, "--output", output] + shardArguments,
                in: folder))
    }

    private func neighbors(_ index: String, query: Int) throws -> [Int] {
        let outcome = try pic2vec("search", "--index", index, "--query-index", "\(query)", "-k", "5", "--json")
        succeeds(outcome)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
        return try XCTUnwrap(object["neighbors"] as? [[String: Any]]).compactMap { $0["id"] as? Int }
    }

    private func description(_ index: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + index + ".json"))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func testFourShardsEmbeddedIndexedAndMergedSearchLikeOneRun() throws {
        try embed("all.npy")
        let shards = (0..<4).map { "s\($0).npy" }
        for (i, name) in shards.enumerated() { try embed(name, shard: "\(i)/4") }
        // The shards are the set's rows in order, 10 each.
        let all = try Matrix.read(npy: folder + "/all.npy")
        let parts = try shards.map { try Matrix.read(npy: folder + "/" + $0) }
        XCTAssertEqual(parts.map(\.rows), [10, 10, 10, 10])
        assertClose(parts.flatMap(\.values), all.values, rtol: 1e-5, atol: 1e-6)
        XCTAssertEqual(
            try shards.flatMap { try NPY.read(folder + "/" + $0.replacingOccurrences(of: ".npy", with: ".labels.npy")).ints },
            try NPY.read(folder + "/all.labels.npy").ints)

        succeeds(
            try CommandRunner.run(
                "pic2vec",
                ["index", "--embeddings"] + shards + [
                    "--type", "ivf", "--lists", "4", "--probes", "2", "--train-only", "--output", "trained.index",
                ], in: folder))
        for i in 0..<4 {
            succeeds(try pic2vec("index", "--trained", "trained.index", "--embeddings", "s\(i).npy", "--output", "s\(i).index"))
        }
        succeeds(try pic2vec("index", "--merge", "s0.index", "s1.index", "s2.index", "s3.index", "--output", "merged.index"))
        succeeds(
            try pic2vec(
                "index", "--embeddings", "all.npy", "--type", "ivf", "--lists", "4", "--probes", "2", "--output", "one.index"))
        for query in [0, 9, 10, 23, 39] {
            XCTAssertEqual(
                try neighbors("merged.index", query: query), try neighbors("one.index", query: query), "query \(query)")
        }
        let merged = try description("merged.index")
        XCTAssertNil(merged["shard"], "the merged index is the whole set")
        XCTAssertEqual(merged["data"] as? String, "images")
        XCTAssertEqual(merged["structure"] as? String, "IVF4,Flat")
        XCTAssertEqual(try description("s2.index")["shard"] as? String, "2/4")
        XCTAssertEqual(try NPY.read(folder + "/merged.index.labels.npy").ints, try NPY.read(folder + "/all.labels.npy").ints)
    }

    func testAugmentedRowsAreEmbeddedShardedIndexedAndSearched() throws {
        succeeds(
            try pic2vec(
                "embed", "--data", "images", "--weights", "random", "--seed", "3", "--augmentations", "3",
                "--augmentation-seed", "7", "--output", "aug.npy"))
        succeeds(
            try pic2vec(
                "embed", "--data", "images", "--weights", "random", "--seed", "3", "--augmentations", "3",
                "--augmentation-seed", "7", "--shard", "1/2", "--output", "half.npy"))
        let all = try Matrix.read(npy: folder + "/aug.npy")
        XCTAssertEqual(all.rows, 120, "3 augmentations of each of 40 images")
        let half = try Matrix.read(npy: folder + "/half.npy")
        assertClose(half.values, Array(all.values[60 * all.columns..<120 * all.columns]), rtol: 1e-5, atol: 1e-6)
        let images = try NPY.read(folder + "/aug.labels.npy").ints
        XCTAssertEqual(images.count, 120)
        XCTAssertEqual(Array(images[0..<6]), [images[0], images[0], images[0], images[3], images[3], images[3]])
        XCTAssertNotEqual(all.row(0), all.row(1), "the copies of one image differ")
        let sidecar = try Data(contentsOf: URL(fileURLWithPath: folder + "/aug.npy.json"))
        let origin = try XCTUnwrap(
            (try JSONSerialization.jsonObject(with: sidecar) as? [String: Any])?["origin"] as? [String: Any])
        XCTAssertEqual(origin["augmentations"] as? [String: Int], ["copies": 3, "seed": 7])

        succeeds(try pic2vec("index", "--embeddings", "aug.npy", "--normalize", "--output", "aug.index"))
        XCTAssertEqual(try description("aug.index")["augmentations"] as? [String: Int], ["copies": 3, "seed": 7])
        // (Serving it reopens the augmented set: SearchServiceTests.AugmentedDescriptionTests.)
        XCTAssertEqual(try neighbors("aug.index", query: 4).count, 5)
        fails(
            try pic2vec("embed", "--data", "images", "--weights", "random", "--augmentations", "0", "--output", "z.npy"),
            saying: "--augmentations must be positive")
        fails(
            try pic2vec(
                "embed", "--data", "images", "--weights", "random", "--augmentations", "\(Int.max)", "--output", "z.npy"),
            saying: "is too many rows")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/z.npy"))
    }

    func testAFoldersLabelsOfOtherRowsAreIgnoredWithANote() throws {
        try embed("all.npy")
        try FileManager.default.createDirectory(atPath: folder + "/other", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: folder + "/all.npy", toPath: folder + "/other/rows.npy")
        try Data(NPY.encode([0, 1, 2])).write(to: URL(fileURLWithPath: folder + "/other/labels.npy"))
        let outcome = try pic2vec("index", "--embeddings", "other/rows.npy", "--output", "other/rows.index")
        succeeds(outcome)
        XCTAssertTrue(outcome.stderr.contains("holds 3 labels for 40 rows"), outcome.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/other/rows.index.labels.npy"))
        fails(
            try pic2vec("index", "--embeddings", "other/rows.npy", "--labels", "other/labels.npy", "--output", "o.index"),
            saying: "holds <i8 [3], expected <i8 [40]")
    }

    func testExplicitAndAutoTypesAreDescribed() throws {
        try embed("all.npy")
        succeeds(
            try pic2vec(
                "index", "--embeddings", "all.npy", "--type", "ivfpq", "--lists", "2", "--probes", "2", "--codes", "8", "--bits",
                "4", "--output", "pq.index"))
        XCTAssertEqual(try description("pq.index")["structure"] as? String, "IVF2,PQ8x4np")
        XCTAssertEqual(try description("pq.index")["searchParameters"] as? [String: Int], ["nprobe": 2])

        let auto = try pic2vec("index", "--embeddings", "all.npy", "--type", "auto", "--recall", "0.9", "--output", "auto.index")
        succeeds(auto)
        XCTAssertTrue(auto.stdout.contains("held-out queries"), auto.stdout)
        let tuning = try XCTUnwrap(try description("auto.index")["tuning"] as? [String: Any])
        XCTAssertEqual(try description("auto.index")["structure"] as? String, "Flat", "40 rows: exact search")
        XCTAssertEqual(tuning["targetRecall"] as? Double, 0.9)
        XCTAssertEqual(tuning["validationRecall"] as? Double, 1)
    }

    func testBadScaleInputGetsAMessageAndExitCode() throws {
        try embed("all.npy")
        fails(
            try pic2vec("index", "--embeddings", "all.npy", "--type", "auto", "--recall", "1.5", "--output", "x.index"),
            saying: "--recall must be above 0 and at most 1")
        fails(
            try pic2vec("index", "--embeddings", "all.npy", "--type", "auto", "--memory", "1kB", "--output", "x.index"),
            saying: "too small for 40 vectors")
        fails(
            try pic2vec("index", "--embeddings", "all.npy", "--type", "ivfpq", "--refine=-1", "--output", "x.index"),
            saying: "--refine must be 0 or more")
        fails(
            try pic2vec("embed", "--data", "images", "--weights", "random", "--shard", "4/4", "--output", "e.npy"),
            saying: "--shard", "shard 4/4 is not one of 0/4 to 3/4")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/x.index"), "no output after a failure")

        // Shards of another model (here: other random weights) or dimension cannot share an index.
        try embed("s0.npy", shard: "0/2")
        try embed("other.npy", shard: "1/2", seed: "4")
        fails(try pic2vec("index", "--embeddings", "s0.npy", "other.npy", "--output", "x.index"), saying: "other.npy")
        try NPY.write([Float](repeating: 0.5, count: 40), shape: [10, 4], to: folder + "/narrow.npy")
        fails(
            try pic2vec("index", "--embeddings", "all.npy", "narrow.npy", "--labels", "all.labels.npy", "--output", "x.index"),
            saying: "narrow.npy")

        // Indexes trained apart (different quantizers) do not merge.
        succeeds(
            try pic2vec(
                "index", "--embeddings", "all.npy", "--type", "ivf", "--lists", "4", "--probes", "2", "--output", "a.index"))
        succeeds(
            try pic2vec(
                "index", "--embeddings", "s0.npy", "--type", "ivf", "--lists", "4", "--probes", "2", "--output", "b.index"))
        fails(try pic2vec("index", "--merge", "a.index", "b.index", "--output", "x.index"), saying: "cannot be merged")
        succeeds(try pic2vec("index", "--embeddings", "all.npy", "--output", "flat.index"))
        fails(try pic2vec("index", "--merge", "a.index", "flat.index", "--output", "x.index"), saying: "not an IVF index")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/x.index"), "no output after a failure")
    }
}
