import Common
import Foundation
import TestSupport
import XCTest

@testable import VectorSearch

final class RerankingTests: XCTestCase {
    private func fixture(_ name: String) throws -> NPY.Array {
        let url = try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: "npy", subdirectory: "Fixtures"))
        return try NPY.read(url.path)
    }

    private func matrix(_ name: String) throws -> Matrix {
        let array = try fixture(name)
        return Matrix(rows: array.shape[0], columns: array.shape[1], values: array.floats)
    }

    /// Unit vectors in the plane at the given angles (degrees).
    private func circle(_ degrees: [Double]) -> Matrix {
        Matrix(
            rows: degrees.count, columns: 2, values: degrees.flatMap { [Float(cos($0 * .pi / 180)), Float(sin($0 * .pi / 180))] })
    }

    func testWhiteningMatchesScikitLearnUpToComponentSigns() throws {
        let database = try matrix("whitening_database")
        let expected = try matrix("whitening_expected")
        let whitening = try PCAWhitening.fit(database, dimension: expected.columns)
        assertClose(whitening.eigenvalues.map(Float.init), try fixture("whitening_eigenvalues").floats, rtol: 1e-4)
        var actual = whitening.apply(try matrix("whitening_queries"))
        for c in 0..<actual.columns {
            var dot: Float = 0
            for r in 0..<actual.rows { dot += actual.values[r * actual.columns + c] * expected.values[r * expected.columns + c] }
            if dot < 0 { for r in 0..<actual.rows { actual.values[r * actual.columns + c].negate() } }
        }
        assertClose(actual.values, expected.values, rtol: 1e-3, atol: 1e-4)
    }

    func testPipelinesAreCheckedAgainstTinyDatabasesWithoutTrapping() {
        for rows in [0, 1] {
            XCTAssertThrowsError(try RerankingPipeline(whitening: 4).check(rows: rows, dimension: 8)) {
                XCTAssertTrue("\($0)".contains("at least 2 rows"), "\($0)")
            }
        }
        XCTAssertThrowsError(try RerankingPipeline(whitening: 8).check(rows: 5, dimension: 8)) {
            XCTAssertTrue("\($0)".contains("1...4, got 8"), "\($0)")
        }
    }

    func testWhiteningRejectsTooManyDimensions() {
        assertThrows("whitening dimension") { try PCAWhitening.fit(circle([0, 10, 20]), dimension: 3) }
    }

    func testRankedSearchMatchesFAISSInnerProductLeaveOneOut() throws {
        let x = try matrix("points").l2Normalized()
        for blockSize in [7, 128] {
            let lists = try RankedSearch(depth: 10, blockSize: blockSize, threads: 2).run(
                x, database: x, excluding: Array(0..<x.rows))
            XCTAssertEqual(lists.ids, try fixture("ip_ids").ints, "block size \(blockSize)")
            assertClose(lists.distances, try fixture("ip_distances").floats, rtol: 1e-4, atol: 1e-5)
        }
    }

    func testQueryExpansionWithAlphaZeroIsPlainAveraging() {
        let database = Matrix(rows: 3, columns: 2, values: [1, 0, 0, 1, 0.6, 0.8])
        let query = Matrix(rows: 1, columns: 2, values: [0.8, 0.6])
        let neighbors = Neighbors(queries: 1, k: 3, ids: [2, 0, 1], distances: [0.96, 0.8, 0.6])
        let expanded = QueryExpansion(depth: 2, alpha: 0).expand(query, neighbors: neighbors, database: database)
        let sum = Matrix(rows: 1, columns: 2, values: [0.8 + 0.6 + 1, 0.6 + 0.8 + 0]).l2Normalized()
        assertClose(expanded.values, sum.values)
    }

    func testQueryExpansionWeightsBySimilarityToTheAlpha() {
        let database = Matrix(rows: 2, columns: 2, values: [1, 0, 0, 1])
        let query = Matrix(rows: 1, columns: 2, values: [0.8, 0.6])
        let neighbors = Neighbors(queries: 1, k: 2, ids: [0, 1], distances: [0.8, 0.6])
        let expanded = QueryExpansion(depth: 2, alpha: 3).expand(query, neighbors: neighbors, database: database)
        let weighted = Matrix(rows: 1, columns: 2, values: [0.8 + 0.512, 0.6 + 0.216]).l2Normalized()
        assertClose(expanded.values, weighted.values, rtol: 1e-6)
        XCTAssertEqual(QueryExpansion(depth: 0, alpha: 3).expand(query, neighbors: neighbors, database: database), query)
    }

    /// Cluster A spread at 20, 24.5, 28, 32 degrees (rows 0-3), cluster B tight at 40-41.5 (rows 4-7);
    /// the query at 36.4 degrees belongs to A. Its two nearest rows are B's edge, which do not have the
    /// query among their 3 nearest (B's own members are closer); A's row 32 does. k-reciprocal
    /// re-ranking must put row 3 first and leave B's order alone; lambda 1 keeps the original order.
    func testKReciprocalPromotesReciprocalNeighbors() throws {
        let database = circle([20, 24.5, 28, 32, 40, 40.5, 41, 41.5])
        let query = circle([36.4])
        let lists = try AllPairsSearch(metric: .innerProduct, blockSize: 16, threads: 1).run(database, k: 3).neighbors
        let candidates = try RankedSearch(depth: 8).run(query, database: database)
        XCTAssertEqual(Array(candidates.ids), [4, 5, 3, 6, 7, 2, 1, 0])
        let reranking = KReciprocalReranking(k1: 3, k2: 1, lambda: 0.1)
        let reordered = reranking.rerank(
            query, candidates: candidates, prepared: reranking.prepare(database: database, neighbors: lists))
        XCTAssertEqual(reordered.ids.first, 3)
        XCTAssertEqual(reordered.ids.filter { $0 >= 4 }, [4, 5, 6, 7])
        XCTAssertEqual(Set(reordered.ids), Set(0..<8))
        let plain = KReciprocalReranking(k1: 3, k2: 1, lambda: 1)
        XCTAssertEqual(
            plain.rerank(query, candidates: candidates, prepared: plain.prepare(database: database, neighbors: lists)).ids,
            candidates.ids)
    }

    func testJaccardDistanceOfSparseVectors() {
        let a = KReciprocalReranking.Sparse(ids: [1, 3], weights: [0.5, 0.5])
        let b = KReciprocalReranking.Sparse(ids: [3, 4], weights: [0.25, 0.75])
        XCTAssertEqual(KReciprocalReranking.jaccard(a, b), 1 - 0.25 / (0.5 + 0.5 + 0.75), accuracy: 1e-6)
        XCTAssertEqual(KReciprocalReranking.jaccard(a, a), 0, accuracy: 1e-6)
    }

    func testPipelineNamesRoundTripAndBadNamesFail() throws {
        for name in ["none", "whiten-256", "qe-2-3", "dba-5-0+qe-1-0.5", "whiten-64+dba-2-3+qe-2-3+kr-20-6-0.3"] {
            XCTAssertEqual(try RerankingPipeline(name: name).description, name)
        }
        for bad in ["qe", "qe-0-3", "whiten-x", "kr-20-6-2", "qe-2-3+qe-1-1", "fancy-1", "qe-2-3+"] {
            assertThrows("unknown re-ranking") { try RerankingPipeline(name: bad) }
        }
    }

    func testPipelineSearchesLikeItsSteps() throws {
        let x = try matrix("points").l2Normalized()
        let database = Matrix(rows: x.rows - 10, columns: x.columns, values: Array(x.values[(10 * x.columns)...]))
        let queries = Matrix(rows: 10, columns: x.columns, values: Array(x.values[..<(10 * x.columns)]))
        let plain = try RankedSearch(depth: 5).run(queries, database: database)
        XCTAssertEqual(
            try RerankingPipeline.baseline.search(queries, in: RerankingPipeline.baseline.prepare(database), depth: 5), plain)

        let qe = RerankingPipeline(expansion: QueryExpansion(depth: 2, alpha: 3))
        let expanded = QueryExpansion(depth: 2, alpha: 3).expand(queries, neighbors: plain, database: database)
        XCTAssertEqual(
            try qe.search(queries, in: qe.prepare(database), depth: 5).ids,
            try RankedSearch(depth: 5).run(expanded, database: database).ids)

        let dba = RerankingPipeline(augmentation: QueryExpansion(depth: 3, alpha: 0))
        let lists = try AllPairsSearch(metric: .innerProduct).run(database, k: 3).neighbors
        let augmented = QueryExpansion(depth: 3, alpha: 0).expand(database, neighbors: lists, database: database)
        let prepared = try dba.prepare(database)
        assertClose(prepared.database.values, augmented.values)
    }

    func testKReciprocalReordersItsCandidatesOnlyUnlessAskedForMore() throws {
        var generator = SeededGenerator(seed: 4)
        let database = Matrix(
            rows: 180, columns: 8, values: (0..<180 * 8).map { _ in Float(generator.nextGaussian()) }
        ).l2Normalized()
        let queries = Matrix(rows: 3, columns: 8, values: Array(database.values[..<24]))
        let pipeline = RerankingPipeline(kReciprocal: KReciprocalReranking(k1: 10, k2: 3, lambda: 0.3))
        let prepared = try pipeline.prepare(database)
        let plain = try RankedSearch(depth: 150).run(queries, database: database)
        // A deep search (an evaluation's depth) reorders the first `candidates` only: the rest keep
        // the plain order and similarities, and the cost stays that of 100 candidates.
        let deep = try pipeline.search(queries, in: prepared, depth: 150)
        for q in 0..<3 {
            XCTAssertEqual(Array(deep.ids(of: q).dropFirst(100)), Array(plain.ids(of: q).dropFirst(100)))
            XCTAssertEqual(Set(deep.ids(of: q).prefix(100)), Set(plain.ids(of: q).prefix(100)))
            let distances = Array(deep.distances(of: q).prefix(100))
            XCTAssertEqual(distances, distances.sorted(), "k-reciprocal distances, lowest first")
        }
        // Asked to reorder them all, every score is a k-reciprocal distance.
        let all = try pipeline.search(queries, in: prepared, depth: 150, reordered: 150)
        for q in 0..<3 {
            let distances = Array(all.distances(of: q))
            XCTAssertEqual(distances, distances.sorted())
        }
    }
}
