import CKernels
import Common
import Foundation
import TestSupport
import XCTest

@testable import VectorSearch

/// The coarse step of IVF indexes done here (`CoarseQuantizer`) and IVF-Flat searched list by
/// list (`IVFFlatScan`), against brute force and against FAISS's own search of the same index.
final class IVFCoarseStepTests: XCTestCase {
    private func clustered(count: Int, dimension: Int, seed: UInt64) -> Matrix {
        clusteredRows(count: count, dimension: dimension, clusters: 40, spread: 0.4, seed: seed)
    }

    private func normalized(_ x: Matrix) -> Matrix {
        var values = x.values
        for i in 0..<x.rows {
            let norm = x.row(i).reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
            for j in 0..<x.columns { values[i * x.columns + j] /= norm }
        }
        return Matrix(rows: x.rows, columns: x.columns, values: values)
    }

    private func score(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>, _ metric: Metric) -> Float {
        metric == .l2 ? zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } : -zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
    }

    func testNearestListsMatchBruteForce() {
        let rows = clustered(count: 300, dimension: 24, seed: 3)
        let centroids = clustered(count: 40, dimension: 24, seed: 4)
        for metric in Metric.allCases {
            let nearest = CoarseQuantizer(centroids: centroids, metric: metric).nearest(rows, probes: 5, threads: 2)
            for i in 0..<rows.rows {
                let scores = (0..<40).map { score(rows.row(i), centroids.row($0), metric) }
                let expected = (0..<40).sorted { scores[$0] < scores[$1] }.prefix(5).map { Int64($0) }
                XCTAssertEqual(Array(nearest.lists[i * 5..<(i + 1) * 5]), expected, "row \(i), \(metric)")
            }
        }
    }

    func testTrainingLowersTheErrorAndKeepsEveryListFilled() throws {
        let rows = clustered(count: 3000, dimension: 16, seed: 5)
        func error(_ quantizer: CoarseQuantizer) -> (total: Float, used: Int) {
            let lists = quantizer.nearest(rows, probes: 1, threads: 2).lists
            let total = (0..<rows.rows).reduce(Float(0)) {
                $0 + score(rows.row($1), quantizer.centroids.row(Int(lists[$1])), .l2)
            }
            return (total, Set(lists).count)
        }
        let start = try CoarseQuantizer.train(rows, lists: 64, metric: .l2, iterations: 0, threads: 2)
        let trained = try CoarseQuantizer.train(rows, lists: 64, metric: .l2, threads: 2)
        XCTAssertLessThan(error(trained).total, 0.8 * error(start).total)
        XCTAssertEqual(error(trained).used, 64)
        let spherical = try CoarseQuantizer.train(normalized(rows), lists: 64, metric: .innerProduct, threads: 1)
        for j in 0..<64 {
            XCTAssertEqual(spherical.centroids.row(j).reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-4)
        }
        XCTAssertThrowsError(try CoarseQuantizer.train(rows.rows(0..<10), lists: 64, metric: .l2))
    }

    /// Builds an IVF-Flat index (coarse step here) and compares the list scan with FAISS's own search.
    private func compareScanWithFAISS(metric: Metric, lists: Int, probes: Int, k: Int, threads: Int) throws {
        let raw = clustered(count: 4000, dimension: 32, seed: 7)
        let stored = metric == .l2 ? raw : normalized(raw)
        let queries =
            metric == .l2
            ? clustered(count: 150, dimension: 32, seed: 8) : normalized(clustered(count: 150, dimension: 32, seed: 8))
        let index = try VectorIndex(dimension: 32, kind: .ivfFlat(lists: lists, probes: probes), metric: metric, threads: threads)
        try index.train(stored)
        try index.add(stored)
        XCTAssertTrue(index.scansLists)
        let scanned = try index.search(queries, k: k)
        index.scansLists = false
        let faiss = try index.search(queries, k: k)
        var same = 0
        for q in 0..<queries.rows {
            let a = Array(scanned.ids(of: q))
            let b = Array(faiss.ids(of: q))
            if a == b { same += 1 }
            XCTAssertEqual(Set(a), Set(b), "query \(q), \(metric)")
            for (x, y) in zip(scanned.distances(of: q), faiss.distances(of: q)) {
                if x.isFinite || y.isFinite {
                    XCTAssertEqual(x, y, accuracy: 1e-3 * max(1, abs(y)))
                } else {
                    XCTAssertEqual(x, y)
                }
            }
        }
        XCTAssertGreaterThanOrEqual(same, queries.rows - 2, "\(metric): same order for \(same) of \(queries.rows) queries")
    }

    func testListScanFindsWhatFAISSFinds() throws {
        for metric in Metric.allCases {
            try compareScanWithFAISS(metric: metric, lists: 32, probes: 6, k: 10, threads: 2)
        }
        try compareScanWithFAISS(metric: .l2, lists: 32, probes: 3, k: 10, threads: 1)
    }

    func testListScanPadsLikeFAISSWhenTheProbedListsHoldTooFew() throws {
        // 4000 rows in 256 lists: one probed list holds about 16, fewer than k = 40.
        for metric in Metric.allCases {
            try compareScanWithFAISS(metric: metric, lists: 256, probes: 1, k: 40, threads: 2)
        }
    }

    /// Checks an IVF-Flat index of `kind` over `stored` returns exact search's neighbours.
    private func assertExact(_ stored: Matrix, _ kind: VectorIndex.Kind, queries: Matrix, k: Int) throws {
        let index = try VectorIndex(dimension: stored.columns, kind: kind, threads: 2)
        try index.train(stored)
        try index.add(stored)
        let exact = try VectorIndex(dimension: stored.columns, kind: .flat)
        try exact.add(stored)
        XCTAssertEqual(try index.search(queries, k: k).ids, try exact.search(queries, k: k).ids)
    }

    func testAllListsProbedGiveExactNeighbors() throws {
        try assertExact(
            clustered(count: 2000, dimension: 16, seed: 9), .ivfFlat(lists: 20, probes: 20),
            queries: clustered(count: 40, dimension: 16, seed: 10), k: 8)
    }

    func testALongListIsScannedInSlices() throws {
        try assertExact(
            clustered(count: IVFFlatScan.sliceRows + 900, dimension: 8, seed: 13), .ivfFlat(lists: 1, probes: 1),
            queries: clustered(count: 20, dimension: 8, seed: 14), k: 6)
    }

    func testMemoryMappedListsAreScannedAlike() throws {
        let stored = clustered(count: 3000, dimension: 16, seed: 11)
        let index = try VectorIndex(dimension: 16, kind: .ivfFlat(lists: 24, probes: 4), threads: 2)
        try index.train(stored)
        try index.add(stored)
        let path = try temporaryFolder() + "/ivf.index"
        try index.save(to: path)
        let mapped = try VectorIndex(contentsOf: path, mapped: true)
        XCTAssertTrue(mapped.scansLists)
        let queries = clustered(count: 30, dimension: 16, seed: 12)
        XCTAssertEqual(try mapped.search(queries, k: 5), try index.search(queries, k: 5))
        // A smaller batch gives `sgemm` fewer query rows per list, and OpenBLAS's kernels for
        // narrow tiles may sum in another order (Zen 3's did, by one ulp): same neighbours, close distances.
        let batched = try index.search(queries, k: 5, batchSize: 7)
        let whole = try index.search(queries, k: 5)
        XCTAssertEqual(batched.ids, whole.ids)
        assertClose(batched.distances, whole.distances)
    }
}

/// IVF-PQ codebooks trained and applied here (`ProductCodebooks`), decoded by FAISS.
final class ProductCodebookTests: XCTestCase {
    private func gaussian(count: Int, dimension: Int, seed: UInt64) -> Matrix {
        var generator = SeededGenerator(seed: seed)
        return Matrix(
            rows: count, columns: dimension, values: (0..<count * dimension).map { _ in Float(generator.nextGaussian()) })
    }

    func testOneDimensionalCodesAreNearlyLossless() throws {
        // 8 codes of one dimension each, 256 centroids apiece: FAISS's search over the codes set
        // here is then nearly exact, which it cannot be if the layout of codebooks or codes is wrong.
        let stored = gaussian(count: 3000, dimension: 8, seed: 1)
        let index = try VectorIndex(
            dimension: 8, kind: .ivfPQ(lists: 8, probes: 8, codes: 8, bits: 8, rotated: false), threads: 2)
        try index.train(stored)
        try index.add(stored)
        let exact = try VectorIndex(dimension: 8, kind: .flat)
        try exact.add(stored)
        let queries = gaussian(count: 100, dimension: 8, seed: 2)
        XCTAssertGreaterThan(try index.search(queries, k: 10).recall(against: try exact.search(queries, k: 10)), 0.9)
    }

    func testCodesMatchFAISSEncoding() throws {
        let stored = gaussian(count: 2000, dimension: 16, seed: 3)
        let kind = VectorIndex.Kind.ivfPQ(lists: 4, probes: 4, codes: 4, bits: 8, rotated: false)
        let trained = try VectorIndex(dimension: 16, kind: kind, threads: 2)
        try trained.train(stored)
        let path = try temporaryFolder() + "/trained.index"
        try trained.save(to: path)
        let ours = try VectorIndex(contentsOf: path)
        try ours.add(stored)
        // Once a direct map exists, vectors are added by FAISS's own encoder.
        let theirs = try VectorIndex(contentsOf: path)
        try theirs.add(stored.rows(0..<1))
        _ = try theirs.vector(0)
        try theirs.add(stored.rows(1..<2000))
        var same = 0
        for id in 0..<2000 where try ours.vector(id) == theirs.vector(id) { same += 1 }
        XCTAssertGreaterThanOrEqual(same, 1990)
    }
}

/// `rn_min_key`, the nearest-list pick of `CoarseQuantizer`, at every kernel level this CPU runs.
final class MinimumKeyKernelTests: XCTestCase {
    func testEveryLevelFindsTheFirstSmallestKey() {
        var generator = SeededGenerator(seed: 5)
        for width in [1, 7, 8, 15, 16, 17, 40, 256, 1000] {
            // Few distinct values, so that the smallest comes up several times.
            let g = (0..<width).map { _ in Float(generator.next() % 9) - 4 }
            let bias = (0..<width).map { _ in Float(generator.next() % 3) }
            for (scale, withBias) in [(Float(-2), true), (-1, false)] {
                let keys = (0..<width).map { (withBias ? bias[$0] : 0) + scale * g[$0] }
                let smallest = keys.min()!
                let first = keys.firstIndex(of: smallest)!
                for level in SIMDLevel.supported {
                    var index: Int32 = -1
                    let key = bias.withUnsafeBufferPointer { b in
                        rn_min_key(level.rawValue, g, Int32(width), withBias ? b.baseAddress : nil, scale, &index)
                    }
                    XCTAssertEqual(key, smallest, "\(level), width \(width)")
                    XCTAssertEqual(Int(index), first, "\(level), width \(width), scale \(scale)")
                }
            }
        }
    }
}
