import CollectionStore
import Common
import Foundation
import Networks
import TestSupport
import VectorSearch
import XCTest

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Runs every `pic2vec` command as a user would, on a tiny image folder with random weights:
/// exit codes, output files, JSON shapes, and the messages for bad input.
final class Pic2VecCommandTests: Pic2VecFolderTestCase {

    private func json(_ outcome: CommandOutcome, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        XCTAssertEqual(outcome.status, 0, outcome.stderr, file: file, line: line)
        let object = try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8))
        return try XCTUnwrap(object as? [String: Any], "not a JSON object: \(outcome.stdout)", file: file, line: line)
    }

    private func embed() throws {
        let outcome = try pic2vec("embed", "--data", "images", "--weights", "random", "--seed", "3", "--output", "emb.npy")
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
    }

    func testEmbedIndexSearchEvaluateKMeansTSNE() throws {
        try embed()
        let embeddings = try Matrix.read(npy: folder + "/emb.npy")
        XCTAssertEqual(embeddings.rows, 24)
        XCTAssertEqual(embeddings.columns, 512)
        XCTAssertEqual(try NPY.read(folder + "/emb.labels.npy").ints.count, 24)

        let index = try pic2vec("index", "--embeddings", "emb.npy", "--normalize", "--output", "x.index")
        XCTAssertEqual(index.status, 0, index.stderr)
        let description = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/x.index.json"))) as? [String: Any]
        )
        XCTAssertEqual(description["rerank"] as? String, "dba-10-3+qe-10-3+kr-20-6-0.3", "normalized flat rows: re-ranked")

        let search = try json(try pic2vec("search", "--index", "x.index", "--query-index", "5", "-k", "4", "--json"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/x.index.rerank.json"), "lists saved for the next search")
        let neighbors = try XCTUnwrap(search["neighbors"] as? [[String: Any]])
        XCTAssertEqual(neighbors.count, 4)
        XCTAssertFalse(neighbors.contains { $0["id"] as? Int == 5 }, "the query is never its own result")
        XCTAssertEqual(search["query"] as? Int, 5)

        let evaluate = try json(
            try pic2vec(
                "evaluate", "--embeddings", "emb.npy", "--labels", "emb.labels.npy", "--k", "1,5", "--normalize", "--json"))
        XCTAssertEqual(evaluate["n"] as? Int, 24)
        let precision = try XCTUnwrap(evaluate["precision"] as? [String: Double])
        XCTAssertEqual(Set(precision.keys), ["1", "5"])
        XCTAssertGreaterThan(precision["1"] ?? 0, 0.5, "colour classes are easy even for random weights")
        XCTAssertNil(evaluate["map_at_r"], "mAP@R only when asked")
        let ranked = try json(
            try pic2vec("evaluate", "--embeddings", "emb.npy", "--labels", "emb.labels.npy", "--k", "1", "--map-at-r", "--json"))
        XCTAssertNotNil(ranked["map_at_r"] as? Double)

        let kmeans = try json(
            try pic2vec("kmeans", "--embeddings", "emb.npy", "--k", "3", "--normalize", "--output", "clusters.npy", "--json"))
        XCTAssertEqual(kmeans["k"] as? Int, 3)
        XCTAssertEqual(try NPY.read(folder + "/clusters.npy").ints.count, 24)

        let tsne = try pic2vec("tsne", "--embeddings", "emb.npy", "--normalize", "--perplexity", "3", "--output", "xy.npy")
        XCTAssertEqual(tsne.status, 0, tsne.stderr)
        let layout = try Matrix.read(npy: folder + "/xy.npy")
        XCTAssertEqual(layout.rows, 24)
        XCTAssertEqual(layout.columns, 2)
    }

    func testServeAnswersSearchesAndDuplicatesFindsCopies() async throws {
        try embed()
        let index = try pic2vec("index", "--embeddings", "emb.npy", "--normalize", "--output", "x.index")
        XCTAssertEqual(index.status, 0, index.stderr)
        // The server, started as a user would, on any free port; its first line says where.
        let server = try await CommandRunner.startServer(["--index", "x.index"], in: folder)
        defer { server.stop() }
        let base = server.base
        let (infoData, _) = try await URLSession.shared.data(from: try XCTUnwrap(URL(string: base + "api/info")))
        let info = try XCTUnwrap(JSONSerialization.jsonObject(with: infoData) as? [String: Any])
        XCTAssertEqual(info["count"] as? Int, 24)
        XCTAssertTrue((info["provenance"] as? String ?? "").contains("random weights"), "\(info)")
        let (searchData, _) = try await URLSession.shared.data(
            from: try XCTUnwrap(URL(string: base + "api/search?index=5&k=3")))
        let answer = try XCTUnwrap(JSONSerialization.jsonObject(with: searchData) as? [String: Any])
        let results = try XCTUnwrap(answer["results"] as? [[String: Any]])
        XCTAssertEqual(results.count, 3)
        XCTAssertFalse(results.contains { $0["id"] as? Int == 5 }, "the query is not its own result")

        // Two exact copies of one image are found as a duplicate pair.
        try FileManager.default.copyItem(
            atPath: folder + "/images/class1/003.png", toPath: folder + "/images/class1/copy.png")
        let duplicates = try json(try pic2vec("duplicates", "--data", "images", "--weights", "random", "--json"))
        let text = String(describing: duplicates)
        XCTAssertTrue(text.contains("copy.png") && text.contains("003.png"), text)
    }

    func testBadInputGetsAMessageAndExitCode() throws {
        let missing = try pic2vec("embed", "--data", "nowhere", "--weights", "random", "--output", "emb.npy")
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("nowhere"), missing.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/emb.npy"), "no output after a failure")

        try embed()
        let badRerank = try pic2vec("index", "--embeddings", "emb.npy", "--rerank", "qe-0", "--output", "x.index")
        XCTAssertNotEqual(badRerank.status, 0)
        XCTAssertTrue(badRerank.stderr.contains("qe-0"), badRerank.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/x.index"), "no output after a failure")
        let index = try pic2vec("index", "--embeddings", "emb.npy", "--output", "x.index")
        XCTAssertEqual(index.status, 0, index.stderr)
        let description = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/x.index.json"))) as? [String: Any]
        )
        XCTAssertEqual(description["rerank"] as? String, "none", "raw rows cannot be re-ranked")
        let tooMany = try pic2vec("search", "--index", "x.index", "--query-index", "0", "-k", "100")
        XCTAssertNotEqual(tooMany.status, 0)
        XCTAssertTrue(tooMany.stderr.contains("-k 100"), tooMany.stderr)

        try Data("not a numpy file".utf8).write(to: URL(fileURLWithPath: folder + "/bad.npy"))
        let corrupt = try pic2vec("evaluate", "--embeddings", "bad.npy", "--labels", "emb.labels.npy")
        XCTAssertNotEqual(corrupt.status, 0)
        XCTAssertTrue(corrupt.stderr.contains("bad.npy"), corrupt.stderr)
    }

    func testModelOptionsAreCheckedAlikeByEveryCommand() throws {
        let commands = [
            ["embed", "--data", "images", "--weights", "random", "--output", "emb.npy"],
            ["duplicates", "--data", "images", "--weights", "random"], ["serve", "--weights", "random"],
        ]
        for arguments in commands {
            let command = arguments[0]
            let badModel = try CommandRunner.run("pic2vec", arguments + ["--model", "resnet19"], in: folder)
            XCTAssertNotEqual(badModel.status, 0, command)
            XCTAssertTrue(
                badModel.stderr.contains("'resnet19' is invalid for '--model") && badModel.stderr.contains("resnet18"),
                "\(command): \(badModel.stderr)")
            let badPreset = try CommandRunner.run("pic2vec", arguments + ["--preset", "huge"], in: folder)
            XCTAssertNotEqual(badPreset.status, 0, command)
            XCTAssertTrue(
                badPreset.stderr.contains("'huge' is invalid for '--preset") && badPreset.stderr.contains("imagenet"),
                "\(command): \(badPreset.stderr)")
        }
        let noWeights = try pic2vec("embed", "--data", "images", "--output", "emb.npy")
        XCTAssertNotEqual(noWeights.status, 0)
        XCTAssertTrue(noWeights.stderr.contains("--weights is required"), noWeights.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/emb.npy"))
    }
}

/// `--precision`: recorded in the sidecar and the index description, and the index's precision
/// is the one queries are embedded with; refused with a message on a CPU without AVX512-BF16.
final class PrecisionCommandTests: XCTestCase {
    func testBF16IsRecordedAndSearchedOrRefused() throws {
        let folder = try temporaryFolder()
        try CommandRunner.makeImageFolder(folder + "/images", classes: 2, perClass: 4)
        let embed = try CommandRunner.run(
            "pic2vec",
            ["embed", "--data", "images", "--weights", "random", "--precision", "bf16", "--output", "b.npy"], in: folder)
        guard Precision.bf16.isSupported else {
            XCTAssertNotEqual(embed.status, 0)
            XCTAssertTrue(embed.stderr.contains("AVX512-BF16"), embed.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/b.npy"), "nothing written")
            return
        }
        XCTAssertEqual(embed.status, 0, embed.stderr)
        let sidecar = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/b.npy.json"))) as? [String: Any])
        XCTAssertEqual(sidecar["precision"] as? String, "bf16")
        let index = try CommandRunner.run(
            "pic2vec", ["index", "--embeddings", "b.npy", "--normalize", "--rerank", "none", "--output", "b.index"], in: folder)
        XCTAssertEqual(index.status, 0, index.stderr)
        let description = try XCTUnwrap(CollectionFiles(index: folder + "/b.index").readDescription())
        XCTAssertEqual(description.precision, .bf16)
        // The set's first image, embedded by the index's (bf16) network, finds its own row first.
        let search = try CommandRunner.run(
            "pic2vec", ["search", "--index", "b.index", "--image", "images/class0/000.png", "-k", "1", "--json"], in: folder)
        XCTAssertEqual(search.status, 0, search.stderr)
        let answer = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(search.stdout.utf8)) as? [String: Any])
        let first = try XCTUnwrap((answer["neighbors"] as? [[String: Any]])?.first)
        XCTAssertEqual(first["id"] as? Int, 0)
        XCTAssertLessThan(first["distance"] as? Double ?? 1, 1e-4, "the same rounding on both sides")
    }
}
