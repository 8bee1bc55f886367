import CollectionStore
import Common
import Foundation
import ImageData
import TestSupport
import VectorSearch
import XCTest

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `pic2vec add` and `pic2vec remove` on a small collection (random weights): only new images
/// are embedded, every file of the collection follows the rows, a crash at any moment of a
/// commit leaves the old collection or the new one, and `pic2vec serve` follows the changes.
final class CollectionCommandTests: Pic2VecFolderTestCase {
    /// Builds the collection `x.index` over `images/` (24 rows, re-ranked, with a map and
    /// clusters), and `more/`: 2 new images per class and a renamed copy of a held one.
    private func buildCollection() throws {
        succeeds(try pic2vec("embed", "--data", "images", "--weights", "random", "--seed", "3", "--output", "emb.npy"))
        XCTAssertEqual(try ImageFileList.read(folder + "/emb.files.json").files.count, 24, "embed lists the rows' files")
        succeeds(try pic2vec("index", "--embeddings", "emb.npy", "--normalize", "--output", "x.index"))
        XCTAssertEqual(try ImageFileList.read(folder + "/x.index.files.json").files.count, 24, "index carries the list")
        succeeds(try pic2vec("tsne", "--embeddings", "emb.npy", "--normalize", "--perplexity", "3", "--output", "tsne-train.npy"))
        succeeds(
            try pic2vec("kmeans", "--embeddings", "emb.npy", "--normalize", "--k", "3", "--output", "kmeans-assignments.npy"))
        // The first search saves the re-ranking lists, which `add` then updates.
        succeeds(try pic2vec("search", "--index", "x.index", "--query-index", "0", "-k", "3"))
        try CommandRunner.makeImageFolder(folder + "/fresh", classes: 3, perClass: 10)
        for c in 0..<3 {
            try FileManager.default.createDirectory(atPath: folder + "/more/class\(c)", withIntermediateDirectories: true)
            for i in 8..<10 {
                try FileManager.default.copyItem(
                    atPath: folder + "/fresh/class\(c)/00\(i).png", toPath: folder + "/more/class\(c)/new\(i).png")
            }
        }
        try FileManager.default.copyItem(atPath: folder + "/images/class1/002.png", toPath: folder + "/more/class1/renamed.png")
    }

    /// The collection's files agree with each other: as many rows in the index as labels, files,
    /// map points and clusters; re-ranking lists (when saved) made for this very index file.
    private func assertConsistent(file: StaticString = #filePath, line: UInt = #line) throws -> (rows: Int, generation: Int) {
        let files = CollectionFiles(index: folder + "/x.index")
        let description = try XCTUnwrap(try files.readDescription(), file: file, line: line)
        let rows = try VectorIndex(contentsOf: files.index).count
        XCTAssertEqual(try NPY.read(files.labelsPath).ints.count, rows, "labels", file: file, line: line)
        if FileManager.default.fileExists(atPath: files.fileListPath) {
            XCTAssertEqual(try ImageFileList.read(files.fileListPath).files.count, rows, "files", file: file, line: line)
        }
        XCTAssertEqual(try NPY.read(files.layoutPath).floats.count, 2 * rows, "map", file: file, line: line)
        XCTAssertEqual(try NPY.read(files.clustersPath).ints.count, rows, "clusters", file: file, line: line)
        if FileManager.default.fileExists(atPath: files.rerankHeaderPath) {
            let header = try XCTUnwrap(
                JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: files.rerankHeaderPath)))
                    as? [String: Any])
            XCTAssertEqual(
                header["indexSHA256"] as? String, try Digest.hexDigest(ofFile: files.index, .sha256), file: file, line: line)
            XCTAssertEqual(header["rows"] as? Int, rows, file: file, line: line)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: AtomicFile.journalPath(of: files.index)), file: file, line: line)
        return (rows, description.generationNumber)
    }

    func testAddEmbedsOnlyNewImagesAndEveryFileFollows() throws {
        try buildCollection()
        let before = try Matrix.read(npy: folder + "/tsne-train.npy")
        let add = try pic2vec("add", "--index", "x.index", "--data", "more")
        succeeds(add)
        XCTAssertTrue(add.stdout.contains("added 6; 1 already held; 30 images; generation 1"), add.stdout)
        XCTAssertTrue(add.stdout.contains("re-ranking lists of the first search updated"), add.stdout)
        XCTAssertEqual(try assertConsistent().generation, 1)
        let files = CollectionFiles(index: folder + "/x.index")
        let list = try ImageFileList.read(files.fileListPath)
        XCTAssertEqual(
            list.files.suffix(6).map { URL(fileURLWithPath: $0.path).lastPathComponent },
            ["new8.png", "new9.png", "new8.png", "new9.png", "new8.png", "new9.png"])
        XCTAssertEqual(try NPY.read(files.labelsPath).ints.suffix(6), [0, 0, 1, 1, 2, 2], "labels from the class folders")
        // The old map points did not move; the new ones sit where the map is.
        let after = try Matrix.read(npy: files.layoutPath)
        XCTAssertEqual(Array(after.values.prefix(48)), before.values)
        let span = before.values.map(abs).max() ?? 0
        XCTAssertTrue(after.values.suffix(12).allSatisfy { abs($0) <= 2 * span }, "\(after.values.suffix(12))")
        // The updated re-ranking lists are the ones a fresh preparation searches: used as saved
        // (the search after augmentation is left to the next preparation).
        let pipeline = try XCTUnwrap(try files.readDescription()).reranking()
        let index = try VectorIndex(contentsOf: files.index)
        let rows = Matrix(
            rows: index.count, columns: index.dimension, values: try (0..<index.count).flatMap { try index.vector($0) })
        let saved = try XCTUnwrap(
            RerankingCache(files: files, pipeline: pipeline).load(
                indexSHA256: try Digest.hexDigest(ofFile: files.index, .sha256), rows: index.count))
        var searched: [Neighbors] = []
        _ = try pipeline.prepare(rows) { points, k, step throws(VectorSearchError) in
            searched.append(try RerankingPipeline.exactNeighbors(points, k, step))
            return searched[step]
        }
        XCTAssertEqual(saved.count, 1)
        XCTAssertEqual(saved[0].ids, searched[0].ids)
        XCTAssertLessThan(zip(saved[0].distances, searched[0].distances).map { abs($0 - $1) }.max() ?? 1, 1e-5)
        // The added rows are the images' embeddings, as `pic2vec embed` makes them.
        succeeds(try pic2vec("embed", "--data", "more", "--weights", "random", "--seed", "3", "--output", "more.npy"))
        let more = try Matrix.read(npy: folder + "/more.npy").l2Normalized()
        let embeddedPaths = try DataSource.open(folder + "/more").train.ids.map {
            URL(fileURLWithPath: $0).standardizedFileURL.path
        }
        for (row, entry) in list.files.enumerated().suffix(6) {
            let source = try XCTUnwrap(embeddedPaths.firstIndex(of: entry.path))
            let difference = zip(rows.row(row), more.row(source)).map { abs($0 - $1) }.max() ?? 1
            XCTAssertLessThan(difference, 1e-5, entry.path)
        }
        // Adding the same images again changes nothing.
        let again = try pic2vec("add", "--index", "x.index", "--data", "more")
        succeeds(again)
        XCTAssertTrue(again.stdout.contains("added 0; 7 already held; 30 images; nothing changed"), again.stdout)
    }

    func testRemoveByPathAndMissingFiles() throws {
        try buildCollection()
        succeeds(try pic2vec("add", "--index", "x.index", "--data", "more"))
        let unknown = try pic2vec("remove", "--index", "x.index", "--path", "images/class0/nope.png")
        fails(unknown, saying: "nope.png", "is not in the collection")
        XCTAssertEqual(try assertConsistent().generation, 1, "nothing changed")
        succeeds(try pic2vec("remove", "--index", "x.index", "--path", "images/class0/001.png", "more/class2/new8.png"))
        XCTAssertEqual(try assertConsistent().rows, 28)
        try FileManager.default.removeItem(atPath: folder + "/more/class1/new9.png")
        let missing = try pic2vec("remove", "--index", "x.index", "--missing")
        succeeds(missing)
        XCTAssertTrue(missing.stdout.contains("removed 1; 27 images; generation 3"), missing.stdout)
        let state = try assertConsistent()
        XCTAssertEqual(state.rows, 27)
        let paths = try ImageFileList.read(CollectionFiles(index: folder + "/x.index").fileListPath).files.map(\.path)
        XCTAssertFalse(
            paths.contains {
                $0.hasSuffix("class0/001.png") || $0.hasSuffix("class2/new8.png") || $0.hasSuffix("class1/new9.png")
            })
        // Searches work on what is left, re-ranked through the updated lists.
        succeeds(try pic2vec("search", "--index", "x.index", "--query-index", "26", "-k", "3"))
    }

    /// A kill at each moment of the commit leaves the old collection (before the journal) or the
    /// new one (after it: the next reader finishes the commit), never a mixture.
    func testAKilledAddLeavesTheOldCollectionOrTheNewOne() throws {
        try buildCollection()
        let original = folder + "/original"
        try FileManager.default.createDirectory(atPath: original, withIntermediateDirectories: true)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter {
            $0.hasPrefix("x.index") || $0.hasSuffix(".npy")
        }
        for name in names { try FileManager.default.copyItem(atPath: folder + "/" + name, toPath: original + "/" + name) }
        for (moment, expected) in [("commit", 0), ("journal", 1), ("sidecar:1", 1), ("sidecar:4", 1), ("primary", 1)] {
            for name in names {
                try? FileManager.default.removeItem(atPath: folder + "/" + name)
                try FileManager.default.copyItem(atPath: original + "/" + name, toPath: folder + "/" + name)
            }
            let killed = try CommandRunner.run(
                "pic2vec", ["add", "--index", "x.index", "--data", "more"], in: folder, environment: ["PIC2VEC_CRASH_AT": moment])
            XCTAssertTrue(killed.signaled, "\(moment): \(killed.stderr)")
            // A reader in another folder (this process's) finishes what the killed commit left,
            // in the collection's folder; then a search there works.
            try CollectionFiles(index: folder + "/x.index").recover()
            XCTAssertFalse(FileManager.default.fileExists(atPath: "x.index"), "moved into the reader's folder")
            succeeds(try pic2vec("search", "--index", "x.index", "--query-index", "0", "-k", "3"))
            let state = try assertConsistent()
            XCTAssertEqual(state.generation, expected, moment)
            XCTAssertEqual(state.rows, expected == 0 ? 24 : 30, moment)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.contains(".tmp-") }
            if expected == 1 { XCTAssertEqual(leftovers, [], moment) }
        }
    }

    /// `pic2vec serve` answers every search while `add` and `remove` run, and swaps to each new
    /// generation without a restart.
    func testServeFollowsAddsAndRemoves() async throws {
        try buildCollection()
        let server = try await CommandRunner.startServer(["--index", "x.index"], in: folder)
        defer { server.stop() }
        let base = server.base
        actor Answers {
            var failures: [String] = []
            var generations: Set<Int> = []
            func record(_ status: Int, _ data: Data) {
                let body = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
                guard status == 200, let body, let results = body["results"] as? [[String: Any]], results.count == 3,
                    let generation = body["generation"] as? Int
                else {
                    failures.append("\(status) \(String(describing: body))")
                    return
                }
                generations.insert(generation)
            }
        }
        let answers = Answers()
        let searching = Task {
            while !Task.isCancelled {
                let url = try XCTUnwrap(URL(string: base + "api/search?index=1&k=3"))
                let (data, response) = try await URLSession.shared.data(from: url)
                await answers.record((response as? HTTPURLResponse)?.statusCode ?? 0, data)
            }
        }
        succeeds(try pic2vec("add", "--index", "x.index", "--data", "more"))
        succeeds(try pic2vec("remove", "--index", "x.index", "--path", "images/class2/000.png"))
        // Opening a generation loads the network and prepares re-ranking: a debug build under
        // load takes seconds, so the wait is generous.
        var info: [String: Any] = [:]
        for _ in 0..<600 {
            let (data, _) = try await URLSession.shared.data(from: try XCTUnwrap(URL(string: base + "api/info")))
            info = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
            if info["generation"] as? Int == 2 { break }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        searching.cancel()
        _ = await searching.result
        let log = try String(contentsOfFile: server.log, encoding: .utf8)
        XCTAssertEqual(info["generation"] as? Int, 2, log)
        XCTAssertEqual(info["count"] as? Int, 29)
        let failures = await answers.failures, generations = await answers.generations
        XCTAssertEqual(failures, [])
        XCTAssertTrue(generations.contains(0), "\(generations)")
        // An image of an older generation is refused: its row may be another image now.
        let (_, stale) = try await URLSession.shared.data(from: try XCTUnwrap(URL(string: base + "api/image/3?generation=0")))
        XCTAssertEqual((stale as? HTTPURLResponse)?.statusCode, 409)
        let (_, current) = try await URLSession.shared.data(from: try XCTUnwrap(URL(string: base + "api/image/3?generation=2")))
        XCTAssertEqual((current as? HTTPURLResponse)?.statusCode, 200)
    }
}
