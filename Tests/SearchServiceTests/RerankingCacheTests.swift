import Common
import Foundation
import SearchService
import TestSupport
import VectorSearch
import XCTest

final class RerankingCacheTests: XCTestCase {
    private let pipeline = RerankingPipeline(
        augmentation: QueryExpansion(depth: 3, alpha: 3), expansion: QueryExpansion(depth: 2, alpha: 3),
        kReciprocal: KReciprocalReranking(k1: 6, k2: 3, lambda: 0.3))

    /// `rows` seeded unit vectors in 16 dimensions, indexed flat and saved at `path`.
    private func savedIndex(at path: String, rows: Int, seed: UInt64) throws -> VectorIndex {
        var generator = SeededGenerator(seed: seed)
        let points = Matrix(
            rows: rows, columns: 16, values: (0..<rows * 16).map { _ in Float(generator.nextGaussian()) }
        ).l2Normalized()
        let index = try VectorIndex(dimension: 16, kind: .flat, metric: .l2)
        try index.add(points)
        try index.write(to: path)
        return index
    }

    private func results(_ reranked: RerankedIndex, _ index: VectorIndex) throws -> [[Int]] {
        try [0, 7, 19, 40].map { row in try reranked.nearest(index.vector(row), k: 10, excluding: row).map(\.id) }
    }

    private func modified(_ path: String) throws -> Date {
        try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date)
    }

    func testZeroRowsCountAsNormalizedAndRawRowsAreRefused() throws {
        // An image whose every feature is 0 (EfficientNet-Lite0 gives a few on CIFAR-10 at 32 px)
        // stays a zero row after normalization; a row of norm 2 is a raw embedding.
        let folder = try temporaryFolder()
        let unit = try savedIndex(at: folder + "/unit.index", rows: 30, seed: 3)
        var values = try (0..<30).flatMap { try unit.vector($0) }
        for c in 0..<16 { values[5 * 16 + c] = 0 }
        let zero = try VectorIndex(dimension: 16, kind: .flat, metric: .l2)
        try zero.add(Matrix(rows: 30, columns: 16, values: values))
        try zero.write(to: folder + "/zero.index")
        let reranked = try RerankedIndex(pipeline: pipeline, index: zero, path: folder + "/zero.index")
        XCTAssertEqual(try reranked.nearest(zero.vector(0), k: 5, excluding: 0).count, 5)
        for c in 0..<16 { values[5 * 16 + c] *= 2 }
        values[5 * 16] = 2
        let raw = try VectorIndex(dimension: 16, kind: .flat, metric: .l2)
        try raw.add(Matrix(rows: 30, columns: 16, values: values))
        try raw.write(to: folder + "/raw.index")
        XCTAssertThrowsError(try RerankedIndex(pipeline: pipeline, index: raw, path: folder + "/raw.index")) {
            XCTAssertTrue("\($0)".contains("raw embeddings"), "\($0)")
        }
    }

    func testSavedListsAreReusedAndGiveTheSameResultsAsAFreshPreparation() throws {
        let path = try temporaryFolder() + "/rows.index"
        let index = try savedIndex(at: path, rows: 60, seed: 1)
        let first = try RerankedIndex(pipeline: pipeline, index: index, path: path)
        for file in [".rerank.json", ".rerank-ids.npy", ".rerank-similarities.npy"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: path + file), file)
        }
        let saved = try modified(path + ".rerank-ids.npy")
        let second = try RerankedIndex(pipeline: pipeline, index: index, path: path)
        XCTAssertEqual(try modified(path + ".rerank-ids.npy"), saved, "the saved lists were searched again")
        XCTAssertEqual(try results(second, index), try results(first, index))
        // The same answers as the pipeline's own exact preparation, without the index.
        let rows = Matrix(rows: 60, columns: 16, values: try (0..<60).flatMap { try index.vector($0) })
        let plain = try pipeline.prepare(rows)
        let query = Matrix(rows: 1, columns: 16, values: try index.vector(7))
        let expected = try pipeline.search(query, in: plain, depth: 11).ids(of: 0).filter { $0 != 7 }.prefix(10)
        XCTAssertEqual(try results(second, index)[1], Array(expected))
    }

    func testListsOfAnotherIndexFileOrPipelineAreNotUsed() throws {
        let path = try temporaryFolder() + "/rows.index"
        _ = try RerankedIndex(pipeline: pipeline, index: try savedIndex(at: path, rows: 60, seed: 1), path: path)
        // Another index at the same path: the old lists must not leak into its results.
        let other = try savedIndex(at: path, rows: 60, seed: 2)
        let reused = try RerankedIndex(pipeline: pipeline, index: other, path: path)
        try FileManager.default.removeItem(atPath: path + ".rerank.json")
        let fresh = try RerankedIndex(pipeline: pipeline, index: other, path: path)
        XCTAssertEqual(try results(reused, other), try results(fresh, other))
        // Another pipeline replaces the header.
        let shallower = RerankingPipeline(augmentation: QueryExpansion(depth: 2, alpha: 3))
        _ = try RerankedIndex(pipeline: shallower, index: other, path: path)
        let header = try String(contentsOfFile: path + ".rerank.json", encoding: .utf8)
        XCTAssertTrue(header.contains("\"dba-2-3\""), header)
    }

    func testDamagedListsAreSearchedAgain() throws {
        let path = try temporaryFolder() + "/rows.index"
        let index = try savedIndex(at: path, rows: 60, seed: 3)
        let fresh = try results(try RerankedIndex(pipeline: pipeline, index: index, path: path), index)
        let ids = try Data(contentsOf: URL(fileURLWithPath: path + ".rerank-ids.npy"))
        try ids.prefix(ids.count / 2).write(to: URL(fileURLWithPath: path + ".rerank-ids.npy"))
        XCTAssertEqual(try results(try RerankedIndex(pipeline: pipeline, index: index, path: path), index), fresh)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path + ".rerank-ids.npy")).count, ids.count)
    }

    /// Rewrites the saved lists at `path` with `change` applied to the ids and similarities and,
    /// when `rehash`, the header's digest of the arrays to match, so that only the lists'
    /// consistency with the rows can tell the damage.
    private func damage(_ path: String, rehash: Bool, _ change: (inout [Int], inout [Float]) -> Void) throws {
        var ids = try NPY.read(path + ".rerank-ids.npy").ints
        let similarities = try NPY.read(path + ".rerank-similarities.npy")
        var values = similarities.floats
        change(&ids, &values)
        let idsFile = NPY.encode(ids), similaritiesFile = NPY.encode(values, shape: similarities.shape)
        try idsFile.write(to: URL(fileURLWithPath: path + ".rerank-ids.npy"))
        try similaritiesFile.write(to: URL(fileURLWithPath: path + ".rerank-similarities.npy"))
        guard rehash else { return }
        let digest = Digest(.sha256)
        digest.update(try NPY.decode(idsFile, path: "ids").payload)
        digest.update(try NPY.decode(similaritiesFile, path: "similarities").payload)
        let header = try String(contentsOfFile: path + ".rerank.json", encoding: .utf8)
        try header.replacingOccurrences(
            of: #""arraysSHA256" : "[0-9a-f]*""#, with: "\"arraysSHA256\" : \"\(digest.hexDigest())\"",
            options: .regularExpression
        ).write(toFile: path + ".rerank.json", atomically: true, encoding: .utf8)
    }

    func testDamagedArraysBehindAGoodHeaderAreSearchedAgainAndReplaced() throws {
        let path = try temporaryFolder() + "/rows.index"
        let index = try savedIndex(at: path, rows: 60, seed: 5)
        let fresh = try results(try RerankedIndex(pipeline: pipeline, index: index, path: path), index)
        let good = try Data(contentsOf: URL(fileURLWithPath: path + ".rerank-similarities.npy"))
        let damages: [(String, (inout [Int], inout [Float]) -> Void)] = [
            ("NaN", { _, s in s[17] = .nan }),
            ("infinity", { _, s in s[3] = .infinity }),
            ("negated", { _, s in s = s.map { -$0 } }),
            ("shuffled ids", { ids, _ in ids.reverse() }),
            ("ids of one row swapped", { ids, _ in ids.swapAt(6, 7) }),
        ]
        for (name, change) in damages {
            for rehash in [false, true] {
                try damage(path, rehash: rehash, change)
                XCTAssertEqual(
                    try results(try RerankedIndex(pipeline: pipeline, index: index, path: path), index), fresh, name)
                XCTAssertEqual(
                    try Data(contentsOf: URL(fileURLWithPath: path + ".rerank-similarities.npy")), good,
                    "\(name), rehashed \(rehash): not replaced")
            }
        }
    }

    func testHostileHeadersNeitherTrapNorBlockAndAreReplaced() throws {
        let path = try temporaryFolder() + "/rows.index"
        let index = try savedIndex(at: path, rows: 60, seed: 6)
        let fresh = try results(try RerankedIndex(pipeline: pipeline, index: index, path: path), index)
        let header = try String(contentsOfFile: path + ".rerank.json", encoding: .utf8)
        for (field, value) in [("k", "4611686018427387904"), ("searches", "100000000000000000"), ("rows", "-1")] {
            let hostile = header.replacingOccurrences(
                of: #""\#(field)" : \d+"#, with: "\"\(field)\" : \(value)", options: .regularExpression)
            XCTAssertNotEqual(hostile, header, field)
            try hostile.write(toFile: path + ".rerank.json", atomically: true, encoding: .utf8)
            XCTAssertEqual(try results(try RerankedIndex(pipeline: pipeline, index: index, path: path), index), fresh, field)
            XCTAssertEqual(try String(contentsOfFile: path + ".rerank.json", encoding: .utf8), header, "\(field): not replaced")
        }
        // A FIFO in the header's place is not opened (which would block), only replaced.
        try FileManager.default.removeItem(atPath: path + ".rerank.json")
        XCTAssertEqual(mkfifo(path + ".rerank.json", 0o600), 0)
        XCTAssertEqual(try results(try RerankedIndex(pipeline: pipeline, index: index, path: path), index), fresh)
        XCTAssertEqual(try String(contentsOfFile: path + ".rerank.json", encoding: .utf8), header)
    }

    func testConsistentListsOfAnotherNeighborCountAreSearchedAgain() throws {
        let path = try temporaryFolder() + "/rows.index"
        let index = try savedIndex(at: path, rows: 60, seed: 8)
        // Lists made for a shallower pipeline, with a header claiming this pipeline.
        let shallower = RerankingPipeline(augmentation: QueryExpansion(depth: 3, alpha: 3))
        _ = try RerankedIndex(pipeline: shallower, index: index, path: path)
        let header = try String(contentsOfFile: path + ".rerank.json", encoding: .utf8)
        try header.replacingOccurrences(of: "dba-3-3", with: pipeline.description)
            .write(toFile: path + ".rerank.json", atomically: true, encoding: .utf8)
        let reranked = try RerankedIndex(pipeline: pipeline, index: index, path: path)
        XCTAssertEqual(
            try results(reranked, index), try results(try RerankedIndex(pipeline: pipeline, index: index, path: path), index))
        let saved = try String(contentsOfFile: path + ".rerank.json", encoding: .utf8)
        XCTAssertTrue(saved.contains("\"k\" : \(pipeline.databaseNeighbors)"), saved)
    }

    func testAPipelineTheIndexCannotSupportIsRefusedNamingWhereItCameFrom() throws {
        let path = try temporaryFolder() + "/rows.index"
        let index = try savedIndex(at: path, rows: 60, seed: 9)
        for name in ["qe-1000000-1", "dba-60-3", "whiten-17", "kr-200-6-0.3"] {
            let asked = try RerankingPipeline(name: name)
            assertThrows(path, "--rerank \(name)", "cannot be re-ranked") {
                try RerankedIndex(pipeline: asked, index: index, path: path, origin: "--rerank \(name)")
            }
            assertThrows("rows.index.json", "\"rerank\"") { try RerankedIndex(pipeline: asked, index: index, path: path) }
        }
    }

    func testReRankedDistancesFollowTheAnswersOrder() throws {
        let path = try temporaryFolder() + "/rows.index"
        let index = try savedIndex(at: path, rows: 60, seed: 10)
        for asked in [pipeline, RerankingPipeline(expansion: QueryExpansion(depth: 2, alpha: 3))] {
            let reranked = try RerankedIndex(pipeline: asked, index: index, path: path)
            for row in [0, 9, 33] {
                let distances = try reranked.nearest(index.vector(row), k: 20, excluding: row).map(\.distance)
                XCTAssertEqual(distances, distances.sorted(), "\(asked) row \(row)")
            }
        }
    }

    func testTheRecommendedPipelineIsNamedByItsSteps() {
        XCTAssertEqual(RerankingPipeline.recommended.description, "dba-10-3+qe-10-3+kr-20-6-0.3")
        XCTAssertEqual(try RerankingPipeline(name: "dba-10-3+qe-10-3+kr-20-6-0.3"), RerankingPipeline.recommended)
    }
}
