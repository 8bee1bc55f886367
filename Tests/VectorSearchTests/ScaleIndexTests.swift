import Common
import Foundation
import TestSupport
import XCTest

@testable import VectorSearch

/// IVF-PQ, streamed building, exact ground truth, recall, merging shards, and `--type auto`.
final class ScaleIndexTests: XCTestCase {
    private func clustered(count: Int, dimension: Int, clusters: Int = 50, seed: UInt64 = 1) -> Matrix {
        clusteredRows(count: count, dimension: dimension, clusters: clusters, spread: 0.35, seed: seed)
    }

    /// The `k` nearest rows to row `q` by brute force (squared L2, ties by id), `q` left out.
    private func bruteForce(_ x: Matrix, _ q: Int, k: Int) -> [Int] {
        let distances = (0..<x.rows).map { r in zip(x.row(q), x.row(r)).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } }
        return (0..<x.rows).filter { $0 != q }.sorted { (distances[$0], $0) < (distances[$1], $1) }.prefix(k).map { $0 }
    }

    func testRecallCountsTrueNeighborsFound() {
        let truth = Neighbors(queries: 2, k: 2, ids: [1, 2, 3, 4], distances: [0, 0, 0, 0])
        let found = Neighbors(queries: 2, k: 3, ids: [2, 9, 1, 5, 6, 7], distances: [0, 0, 0, 0, 0, 0])
        // Query 0 finds 2 among its first two (1 is third: not counted); query 1 finds neither.
        XCTAssertEqual(found.recall(against: truth), 0.25)
        XCTAssertEqual(truth.recall(against: truth), 1)
    }

    func testExactNeighborsOverBatchesMatchBruteForce() throws {
        let x = clustered(count: 300, dimension: 8)
        let ids = [0, 17, 150, 299]
        var exact = ExactNeighbors(metric: .l2, threads: 2)
        exact.batchSize = 64
        let found = try exact.search(x.rows(at: ids), ids: ids, in: x, k: 5)
        for (q, id) in ids.enumerated() {
            XCTAssertEqual(Array(found.ids(of: q)), bruteForce(x, id, k: 5), "query row \(id)")
        }
    }

    func testStreamedBuildEqualsOneBatch() throws {
        let x = clustered(count: 2000, dimension: 16)
        let kind = VectorIndex.Kind.ivfFlat(lists: 16, probes: 4)
        var streamed = IndexBuilder(kind: kind, metric: .l2, threads: 2)
        streamed.batchSize = 300
        let whole = try VectorIndex(dimension: 16, kind: kind, threads: 2)
        try whole.train(x)
        try whole.add(x)
        let built = try streamed.build(x)
        XCTAssertEqual(built.count, 2000)
        XCTAssertEqual(try built.search(x.rows(0..<50), k: 10), try whole.search(x.rows(0..<50), k: 10))
    }

    func testRefinementCodesRaiseIVFPQRecall() throws {
        let x = clustered(count: 4000, dimension: 32)
        let ids = Array(stride(from: 0, to: 4000, by: 40))
        let truth = try ExactNeighbors(metric: .l2, threads: 2).search(x.rows(at: ids), ids: ids, in: x, k: 10)
        let plain = VectorIndex.Kind.ivfPQ(lists: 16, probes: 16, codes: 4, bits: 8, rotated: false)
        let refined = VectorIndex.Kind.ivfPQ(lists: 16, probes: 16, codes: 4, bits: 8, rotated: false, refinement: 8)
        XCTAssertEqual(refined.factoryString, "IVF16,PQ4+8")
        XCTAssertEqual(
            refined.estimatedBytes(count: 4000, dimension: 32) - plain.estimatedBytes(count: 4000, dimension: 32),
            4000 * 8 + 256 * 32 * 4, "8 refinement bytes per row and their codebooks")
        var recalls: [Double] = []
        for kind in [plain, refined] {
            let index = try IndexBuilder(kind: kind, metric: .l2, threads: 1).build(x)
            recalls.append(try index.search(storedRows: x.rows(at: ids), ids: ids, k: 10).recall(against: truth))
            let path = try temporaryFolder() + "/refined.index"
            try index.save(to: path)
            let mapped = try VectorIndex(contentsOf: path, mapped: true, threads: 1)
            XCTAssertEqual(try mapped.search(x.rows(0..<20), k: 10), try index.search(x.rows(0..<20), k: 10))
        }
        XCTAssertGreaterThan(recalls[1], recalls[0] + 0.1, "refinement re-ranks with finer codes: \(recalls)")
        XCTAssertThrowsError(
            try VectorIndex(dimension: 32, kind: .ivfPQ(lists: 4, probes: 1, codes: 4, bits: 6, rotated: false, refinement: 8)))
        XCTAssertThrowsError(
            try VectorIndex(dimension: 32, kind: .ivfPQ(lists: 4, probes: 1, codes: 4, bits: 8, rotated: false, refinement: 5)))
    }

    func testIVFPQWithAndWithoutOPQFindsMostNeighbors() throws {
        let x = clustered(count: 4000, dimension: 32)
        let ids = Array(stride(from: 0, to: 4000, by: 40))
        let truth = try ExactNeighbors(metric: .l2, threads: 2).search(x.rows(at: ids), ids: ids, in: x, k: 10)
        for rotated in [false, true] {
            let kind = VectorIndex.Kind.ivfPQ(lists: 16, probes: 16, codes: 16, bits: 8, rotated: rotated)
            XCTAssertEqual(kind.factoryString, rotated ? "OPQ16,IVF16,PQ16x8np" : "IVF16,PQ16x8np")
            // One FAISS thread: PQ training runs many small parallel regions, which crawl when
            // OpenMP threads spin on a busy shared machine.
            let index = try IndexBuilder(kind: kind, metric: .l2, threads: 1).build(x)
            let recall = try index.search(storedRows: x.rows(at: ids), ids: ids, k: 10).recall(against: truth)
            XCTAssertGreaterThan(recall, 0.7, "\(kind.factoryString)")
            let path = try temporaryFolder() + "/pq\(rotated).index"
            try index.save(to: path)
            let mapped = try VectorIndex(contentsOf: path, mapped: true, threads: 1)
            XCTAssertEqual(try mapped.search(x.rows(0..<20), k: 10), try index.search(x.rows(0..<20), k: 10))
        }
        XCTAssertThrowsError(
            try VectorIndex(dimension: 30, kind: .ivfPQ(lists: 4, probes: 1, codes: 16, bits: 8, rotated: false))
        ) {
            XCTAssertEqual($0 as? VectorSearchError, .invalidArgument("PQ codes per vector must divide the dimension 30, got 16"))
        }
    }

    func testShardsFilledFromOneTrainedIndexMergeIntoOneRun() throws {
        let x = clustered(count: 1200, dimension: 16)
        let folder = try temporaryFolder()
        for rotated in [false, true] {
            let kind = VectorIndex.Kind.ivfPQ(lists: 8, probes: 3, codes: 8, bits: 8, rotated: rotated)
            let builder = IndexBuilder(kind: kind, metric: .l2, threads: 1)
            let one = try builder.build(x)
            try builder.trained(on: x).save(to: folder + "/trained.index")
            let merged = try VectorIndex(contentsOf: folder + "/trained.index", threads: 1)
            for shard in 0..<4 {
                let part = try VectorIndex(contentsOf: folder + "/trained.index", threads: 1)
                try IndexBuilder.add(x.rows(try Shard(index: shard, count: 4).rows(of: x.rows)), to: part)
                try merged.merge(part)
                XCTAssertEqual(part.count, 0, "merging empties the shard")
            }
            XCTAssertEqual(merged.count, x.rows)
            XCTAssertEqual(try merged.search(x.rows(0..<100), k: 10), try one.search(x.rows(0..<100), k: 10), "\(kind)")
        }
        // Indexes trained apart do not merge.
        let a = try IndexBuilder(kind: .ivfFlat(lists: 8, probes: 2), metric: .l2, threads: 2).build(x)
        let b = try IndexBuilder(kind: .ivfFlat(lists: 8, probes: 2), metric: .l2, threads: 2).build(x.rows(0..<600))
        XCTAssertThrowsError(try a.merge(b))
        XCTAssertThrowsError(try a.merge(try VectorIndex(dimension: 16, kind: .flat))) {
            guard case .faiss(_, let message) = $0 as? VectorSearchError else { return XCTFail("\($0)") }
            XCTAssertTrue(message.contains("only IVF indexes"), message)
        }
    }

    func testAutoChoosesExactSearchForASmallSet() throws {
        let x = clustered(count: 2000, dimension: 16)
        let tuner = try IndexTuner(targetRecall: 0.95, memoryBudget: nil, metric: .l2, seed: 3, threads: 2)
        XCTAssertEqual(try tuner.candidates(count: 2000, dimension: 16), [.flat])
        let outcome = try tuner.build(x)
        XCTAssertEqual(outcome.kind, .flat)
        XCTAssertEqual(outcome.record.validationRecall, 1, accuracy: 1e-9)
    }

    func testAutoTunesProbesToTheTargetOnHeldOutQueries() throws {
        let x = clustered(count: 20_000, dimension: 32, clusters: 200)
        var tuner = try IndexTuner(targetRecall: 0.9, memoryBudget: nil, metric: .l2, seed: 5, threads: 2)
        tuner.queriesPerSample = 500
        let outcome = try tuner.build(x)
        guard case .ivfFlat(let lists, let probes) = outcome.kind else { return XCTFail("chose \(outcome.kind)") }
        XCTAssertEqual(lists, 128)
        XCTAssertLessThan(probes, lists, "tuning stops below a full scan")
        XCTAssertGreaterThanOrEqual(outcome.record.tuningRecall, 0.9)
        XCTAssertGreaterThanOrEqual(outcome.record.validationRecall, 0.89, "within 0.01 on queries it did not tune on")
        XCTAssertEqual(outcome.index.count, 20_000)
        XCTAssertEqual(outcome.record.tried.count, 1, "the first candidate reached the target")
        XCTAssertTrue(outcome.record.tried.first?.hasPrefix("IVF128,Flat nprobe=\(probes):") ?? false, "\(outcome.record.tried)")
    }

    func testAutoRejectsImpossibleBudgetsAndTargets() throws {
        XCTAssertThrowsError(try IndexTuner(targetRecall: 1.5, memoryBudget: nil, metric: .l2, seed: 0)) {
            XCTAssertEqual($0 as? VectorSearchError, .invalidArgument("the recall target must be above 0 and at most 1, got 1.5"))
        }
        let tuner = try IndexTuner(targetRecall: 0.9, memoryBudget: 1000, metric: .l2, seed: 0)
        XCTAssertThrowsError(try tuner.candidates(count: 1_000_000, dimension: 128)) {
            XCTAssertTrue("\($0)".contains("too small for 1000000 vectors of dimension 128"), "\($0)")
        }
        // A million 128-d vectors in 100 MB: no IVF-Flat (520 MB), IVF-PQ with the most codes that fit.
        let budgeted = try IndexTuner(targetRecall: 0.9, memoryBudget: 100_000_000, metric: .l2, seed: 0)
        let kinds = try budgeted.candidates(count: 1_000_000, dimension: 128)
        XCTAssertEqual(kinds.count, 1)
        guard case .ivfPQ(_, _, let codes, 8, true, 0) = kinds.first else { return XCTFail("\(kinds)") }
        XCTAssertLessThanOrEqual(kinds[0].estimatedBytes(count: 1_000_000, dimension: 128), 100_000_000)
        XCTAssertGreaterThan(
            VectorIndex.Kind.ivfPQ(lists: 1024, probes: 1, codes: codes * 2, bits: 8, rotated: true)
                .estimatedBytes(count: 1_000_000, dimension: 128), 100_000_000)
    }
}
