import Common
import Foundation
import TestSupport
import XCTest

@testable import VectorSearch

final class VectorSearchTests: XCTestCase {
    private func fixture(_ name: String) throws -> NPY.Array {
        let url = try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: "npy", subdirectory: "Fixtures"))
        return try NPY.read(url.path)
    }

    private func points() throws -> Matrix {
        let array = try fixture("points")
        return Matrix(rows: array.shape[0], columns: array.shape[1], values: array.floats)
    }

    /// Every kernel level this CPU runs (PIC2VEC_SIMD does not narrow what the tests cover).
    private let levels = SIMDLevel.supported

    func testAllPairsMatchesFAISSFlatL2AtEveryLevel() throws {
        let x = try points()
        for level in levels {
            for blockSize in [16, 64, 512] {
                let result = try AllPairsSearch(metric: .l2, blockSize: blockSize, threads: 2, level: level).run(x, k: 10)
                XCTAssertEqual(result.neighbors.ids, try fixture("l2_ids").ints, "\(level), block size \(blockSize)")
                assertClose(result.neighbors.distances, try fixture("l2_distances").floats, rtol: 1e-4, atol: 1e-3, "\(level)")
            }
        }
    }

    func testAllPairsMatchesFAISSFlatIPOnNormalizedRowsAtEveryLevel() throws {
        let x = try points().l2Normalized()
        for level in levels {
            let result = try AllPairsSearch(metric: .innerProduct, blockSize: 32, threads: 2, level: level).run(x, k: 10)
            XCTAssertEqual(result.neighbors.ids, try fixture("ip_ids").ints, "\(level)")
            assertClose(result.neighbors.distances, try fixture("ip_distances").floats, rtol: 1e-4, atol: 1e-5, "\(level)")
        }
    }

    func testGroupRankingsGiveNumpyMeanAveragePrecisionAtRAtEveryLevel() throws {
        let x = try points()
        let labels = try fixture("labels").ints
        let expected = try XCTUnwrap(
            JSONSerialization.jsonObject(
                with: Data(
                    contentsOf: try XCTUnwrap(
                        Bundle.module.url(
                            forResource: "expected", withExtension: "json", subdirectory: "Fixtures")))) as? [String: Double])
        // 300 rows: a full sample (every threshold infinite), and small samples (sampled
        // thresholds, rows that come up short), with buffers small enough to be compacted.
        for level in levels {
            for (sampleSize, capacityScale) in [(2048, 1.1), (40, 1.1), (8, 1.1), (40, 0.2), (8, 0.2)] {
                var search = AllPairsSearch(metric: .l2, blockSize: 48, threads: 2, seed: 7, level: level)
                search.sampleSize = sampleSize
                search.capacityScale = capacityScale
                let rankings = try XCTUnwrap(try search.run(x, k: 5, groups: labels).groupRankings)
                var total = 0.0
                for q in 0..<rankings.count {
                    let flags = rankings.relevance(of: q)
                    var hits = 0
                    var sum = 0.0
                    for (i, relevant) in flags.enumerated() where relevant {
                        hits += 1
                        sum += Double(hits) / Double(i + 1)
                    }
                    total += sum / Double(flags.count)
                }
                assertClose(
                    total / Double(rankings.count), try XCTUnwrap(expected["map_at_r"]), rtol: 1e-9,
                    "\(level), sample \(sampleSize), capacity \(capacityScale)")
            }
        }
    }

    func testTournamentCoversEveryPairOnceWithDisjointRounds() {
        for blocks in 1...9 {
            var seen = Set<[Int]>()
            for round in AllPairsSearch.tournament(blockCount: blocks) {
                let members = round.flatMap { [$0.0, $0.1] }
                XCTAssertEqual(Set(members).count, round.allSatisfy { $0.0 == $0.1 } ? round.count : members.count)
                for pair in round { XCTAssertTrue(seen.insert([pair.0, pair.1]).inserted, "\(pair) twice") }
            }
            XCTAssertEqual(seen.count, blocks * (blocks + 1) / 2)
        }
    }

    func testRadixSortSorts() {
        var generator = SeededGenerator(seed: 5)
        var values = (0..<5000).map { _ in UInt32.random(in: 0...UInt32.max, using: &generator) } + [0, .max, 7, 7]
        var spare: [UInt32] = []
        let expected = values.sorted()
        AllPairsState.radixSort(&values, spare: &spare)
        XCTAssertEqual(values, expected)
    }

    func testAllPairsRejectsBadInput() throws {
        let x = try points()
        XCTAssertThrowsError(try AllPairsSearch().run(x, k: 0))
        XCTAssertThrowsError(try AllPairsSearch().run(x, k: x.rows))
        var bad = x
        bad.values[5 * x.columns + 3] = .nan
        XCTAssertThrowsError(try AllPairsSearch().run(bad, k: 3)) { XCTAssertEqual($0 as? VectorSearchError, .nonFinite(row: 5)) }
    }

    func testFlatIndexSearchSaveAndLoad() throws {
        let x = try points()
        let index = try VectorIndex(dimension: x.columns, kind: .flat, metric: .l2, threads: 2)
        try index.add(x)
        XCTAssertEqual(index.count, x.rows)
        let hits = try index.search(x, k: 11)
        let expected = try fixture("l2_ids").ints
        for q in 0..<x.rows {
            XCTAssertEqual(Array(hits.ids(of: q).filter { $0 != q }.prefix(10)), Array(expected[q * 10..<q * 10 + 10]))
        }
        let path = try temporaryFolder() + "/flat.index"
        try index.save(to: path)
        let loaded = try VectorIndex(contentsOf: path, threads: 2)
        XCTAssertEqual(loaded.count, x.rows)
        XCTAssertEqual(loaded.metric, .l2)
        XCTAssertEqual(try loaded.search(x, k: 11), hits)
        XCTAssertEqual(try loaded.vector(7), Array(x.row(7)))
    }

    func testIVFAndHNSWFindMostTrueNeighbors() throws {
        let x = try points()
        let truth = try fixture("l2_ids").ints
        for kind in [VectorIndex.Kind.ivfFlat(lists: 8, probes: 8), .hnsw(links: 16, efSearch: 64)] {
            let index = try VectorIndex(dimension: x.columns, kind: kind, threads: 2)
            try index.train(x)
            try index.add(x)
            let hits = try index.search(x, k: 11)
            var found = 0
            for q in 0..<x.rows { found += Set(hits.ids(of: q)).intersection(truth[q * 10..<q * 10 + 10]).count }
            XCTAssertGreaterThan(Double(found) / Double(truth.count), 0.95, "\(kind)")
            let path = try temporaryFolder() + "/index"
            try index.save(to: path)
            XCTAssertEqual(try VectorIndex(contentsOf: path, threads: 2).search(x, k: 11), hits)
        }
    }

    func testIndexRejectsBadInput() throws {
        let x = try points()
        let index = try VectorIndex(dimension: x.columns, threads: 2)
        try index.add(x)
        XCTAssertThrowsError(try index.search(x, k: 0))
        XCTAssertThrowsError(try index.search(x, k: x.rows + 1))
        XCTAssertThrowsError(try index.search(Matrix(rows: 1, columns: 3, values: [1, 2, 3]), k: 1)) {
            XCTAssertEqual($0 as? VectorSearchError, .invalidArgument("queries have dimension 3, the index has 24"))
        }
        XCTAssertThrowsError(try index.add(Matrix(rows: 1, columns: 24, values: [Float](repeating: .infinity, count: 24))))
        let folder = try temporaryFolder()
        try Data("not an index at all".utf8).write(to: URL(fileURLWithPath: folder + "/foreign.index"))
        try index.save(to: folder + "/good.index")
        let good = try Data(contentsOf: URL(fileURLWithPath: folder + "/good.index"))
        try good.prefix(good.count / 2).write(to: URL(fileURLWithPath: folder + "/truncated.index"))
        for name in ["foreign.index", "truncated.index"] {
            XCTAssertThrowsError(try VectorIndex(contentsOf: folder + "/" + name)) { error in
                guard case .faiss(_, let message) = error as? VectorSearchError else { return XCTFail("\(error)") }
                XCTAssertFalse(message.isEmpty)
            }
        }
        // A missing file or a FIFO never reaches FAISS (which would block opening a FIFO).
        XCTAssertEqual(mkfifo(folder + "/fifo.index", 0o600), 0)
        for (name, kind) in [("missing.index", FileError.Kind.missing), ("fifo.index", .notARegularFile)] {
            XCTAssertThrowsError(try VectorIndex(contentsOf: folder + "/" + name)) { error in
                guard case .file(let file) = error as? VectorSearchError else { return XCTFail("\(error)") }
                XCTAssertTrue(file.path.hasSuffix(name), "\(file)")
                XCTAssertEqual(file.kind, kind, "\(file)")
            }
        }
    }

    func testKMeansIsSeededAndConsistent() throws {
        let x = try points()
        let first = try KMeans(clusters: 4, restarts: 2, seed: 3, threads: 2).fit(x)
        let second = try KMeans(clusters: 4, restarts: 2, seed: 3, threads: 2).fit(x)
        XCTAssertEqual(first.assignments, second.assignments)
        XCTAssertEqual(first.centroids, second.centroids)
        var inertia = 0.0
        for i in 0..<x.rows {
            let distances = (0..<4).map { c in
                zip(x.row(i), first.centroids.row(c)).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
            }
            XCTAssertEqual(distances[first.assignments[i]], distances.min() ?? 0, accuracy: 1e-3)
            inertia += Double(distances[first.assignments[i]])
        }
        assertClose(
            first.inertia, inertia, rtol: 1e-4, "the reported inertia is the sum of squared distances to the assigned centroids")
        XCTAssertThrowsError(try KMeans(clusters: x.rows + 1, seed: 0).fit(x))
    }

    func testKMeansRestartsInLockstepEqualRestartsRunAlone() throws {
        let x = try points()
        var generators = (0..<3).map { SeededGenerator(seed: 5 + UInt64($0)) }
        let seeding = Seeding(x, threads: 2, level: .current)
        let initials = seeding.centroids(4, using: &generators)
        for (s, initial) in initials.enumerated() {
            var alone = [SeededGenerator(seed: 5 + UInt64(s))]
            XCTAssertEqual(seeding.centroids(4, using: &alone)[0], initial, "start \(s) seeded alone")
        }
        let kmeans = KMeans(clusters: 4, iterations: 50, seed: 0, threads: 2)
        let norms = seeding.squaredNorms
        let together = kmeans.lloyd(x, from: initials, squaredNorms: norms, tolerance: 1e-6)
        for (i, initial) in initials.enumerated() {
            let alone = kmeans.lloyd(x, from: [initial], squaredNorms: norms, tolerance: 1e-6)[0]
            XCTAssertEqual(together[i].assignments, alone.assignments, "start \(i)")
            XCTAssertEqual(together[i].centroids.values, alone.centroids.values, "start \(i)")
            XCTAssertEqual(together[i].inertia, alone.inertia, "start \(i)")
        }
        XCTAssertNotEqual(together[0].centroids.values, together[1].centroids.values, "the starts differ")
    }

    func testKMeansLloydMatchesBruteForceAtEveryLevel() throws {
        for level in levels { try checkLloydMatchesBruteForce(level) }
    }

    private func checkLloydMatchesBruteForce(_ level: SIMDLevel) throws {
        let x = try points()
        let k = 5
        let (n, d) = (x.rows, x.columns)
        var generators = [SeededGenerator(seed: 11)]
        let initial = Seeding(x, threads: 2, level: level).centroids(k, using: &generators)[0]
        let kmeans = KMeans(clusters: k, iterations: 20, restarts: 1, seed: 0, threads: 2, level: level)
        let result = kmeans.lloyd(x, from: [initial], squaredNorms: x.rowNorms.map { $0 * $0 }, tolerance: 0)[0]

        // Brute force: exact distances, full reassignment and means, same stopping rule.
        func nearest(_ centroids: [Double]) -> [Int] {
            (0..<n).map { i in
                (0..<k).min { a, b in
                    let da = (0..<d).reduce(0.0) { $0 + pow(Double(x.values[i * d + $1]) - centroids[a * d + $1], 2) }
                    let db = (0..<d).reduce(0.0) { $0 + pow(Double(x.values[i * d + $1]) - centroids[b * d + $1], 2) }
                    return da < db
                }!
            }
        }
        var centroids = initial.values.map(Double.init)
        var labels = nearest(centroids)
        for _ in 0..<20 {
            var sums = [Double](repeating: 0, count: k * d)
            var counts = [Int](repeating: 0, count: k)
            for i in 0..<n {
                counts[labels[i]] += 1
                for j in 0..<d { sums[labels[i] * d + j] += Double(x.values[i * d + j]) }
            }
            XCTAssertFalse(counts.contains(0))
            for c in 0..<k { for j in 0..<d { centroids[c * d + j] = sums[c * d + j] / Double(counts[c]) } }
            let next = nearest(centroids)
            if next == labels { break }
            labels = next
        }
        XCTAssertEqual(result.assignments, labels, "\(level)")
        assertClose(result.centroids.values, centroids.map(Float.init), rtol: 1e-4, atol: 1e-4, "\(level)")
    }
}
