import Common
import Foundation
import TestSupport
import XCTest

@testable import VectorSearch

/// Inputs crafted to crash or silently corrupt searches: huge finite values, damaged HNSW files.
final class HostileInputTests: XCTestCase {
    /// 40 points in 8-D on a small grid, row 7 scaled to about 1e19.
    private func pointsWithAHugeRow(_ scale: Float) -> Matrix {
        var values = (0..<40 * 8).map { Float(($0 * 37) % 11) - 5 }
        for j in 7 * 8..<8 * 8 { values[j] *= scale }
        return Matrix(rows: 40, columns: 8, values: values)
    }

    func testAnOPQRotationWithFewerRowsThanDimensionsIsRefusedNotACrash() throws {
        // FAISS's OPQ training corrupts memory below as many rows as dimensions (faiss-cpu 1.15.1:
        // "double free or corruption" on 300 rows of 320 with OPQ8,IVF2,PQ8): found by
        // benchmarks/slurm_check.sh, whose train job sees one part of four (500 rows of 1280).
        let dimension = 320
        var random = SeededGenerator(seed: 7)
        let rows = Matrix(
            rows: 300, columns: dimension, values: (0..<300 * dimension).map { _ in Float(random.nextGaussian()) }
        ).l2Normalized()
        let index = try VectorIndex(
            dimension: dimension, kind: .ivfPQ(lists: 2, probes: 2, codes: 8, bits: 8, rotated: true), metric: .l2)
        XCTAssertThrowsError(try index.train(rows)) { error in
            XCTAssertTrue("\(error)".contains("at least 320 rows, got 300"), "\(error)")
        }
        XCTAssertFalse(index.isTrained)
    }

    /// Values near 1e19 are finite, but their squared distances overflow float32 and used
    /// to rank as garbage: every entry point refuses them, naming the row.
    func testRowsWhoseDistancesOverflowAreRefused() throws {
        let huge = pointsWithAHugeRow(2e18)
        XCTAssertEqual(huge.firstRowWithUnboundedDistances, 7)
        XCTAssertNil(pointsWithAHugeRow(1e15).firstRowWithUnboundedDistances)
        for run in [
            { _ = try AllPairsSearch(metric: .l2, threads: 1).run(huge, k: 3) },
            { try VectorIndex(dimension: 8, kind: .flat).add(huge) },
            { _ = try KMeans(clusters: 3, seed: 0, threads: 1).fit(huge) },
        ] as [() throws -> Void] {
            XCTAssertThrowsError(try run()) { error in
                XCTAssertTrue("\(error)".contains("row 7 is so large"), "\(error)")
            }
        }
    }

    /// An HNSW file whose graph links to a vector that does not exist is refused when it
    /// is read, instead of crashing a later search inside FAISS.
    func testDamagedHNSWGraphIsRefusedOnRead() throws {
        let points = pointsWithAHugeRow(1)
        let index = try VectorIndex(dimension: 8, kind: .hnsw(links: 4, efSearch: 16))
        try index.add(points)
        let path = try temporaryFolder() + "/graph.index"
        try index.save(to: path)
        XCTAssertNoThrow(try VectorIndex(contentsOf: path))
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        // FAISS's layout: "IHNf", d (4), ntotal (8), two dummies (8 + 8), is_trained (1),
        // metric (4); then the HNSW vectors, each a size_t count and its elements:
        // assign_probas (double), cum_nneighbor_per_level (int), levels (int), offsets (size_t),
        // neighbors (int32).
        var offset = 4 + 4 + 8 + 8 + 8 + 1 + 4
        func count() -> Int { (0..<8).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) } }
        for elementSize in [8, 4, 4, 8] { offset += 8 + count() * elementSize }
        XCTAssertGreaterThan(count(), 0)
        let first = offset + 8
        for (i, byte) in withUnsafeBytes(of: Int32(1_000_000).littleEndian, Array.init).enumerated() { bytes[first + i] = byte }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try VectorIndex(contentsOf: path)) { error in
            XCTAssertTrue("\(error)".contains("damaged HNSW index: a neighbour id 1000000"), "\(error)")
        }
    }

    /// FAISS maps a truncated IVF file without checking that its lists fit in it, and a search
    /// then reads past the mapping: opening it memory-mapped is refused with a message.
    func testATruncatedIVFFileIsRefusedMemoryMapped() throws {
        var generator = SeededGenerator(seed: 1)
        let rows = Matrix(rows: 2000, columns: 16, values: (0..<2000 * 16).map { _ in Float(generator.nextGaussian()) })
        let index = try VectorIndex(dimension: 16, kind: .ivfFlat(lists: 8, probes: 8), threads: 1)
        try index.train(rows)
        try index.add(rows)
        let path = try temporaryFolder() + "/truncated.index"
        try index.save(to: path)
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(size - 40_000))
        try handle.close()
        XCTAssertThrowsError(try VectorIndex(contentsOf: path, mapped: true)) { error in
            XCTAssertTrue("\(error)".contains("lies outside the mapped file"), "\(error)")
        }
    }
}
