import Common
import Foundation
import TestSupport
import XCTest

/// Equal, deterministic shards of a set, and reading `.npy` rows a range at a time.
final class ShardAndNPYRowsTests: XCTestCase {
    func testShardsAreConsecutiveEqualPartsCoveringTheSetInOrder() throws {
        for total in [0, 1, 7, 40, 50_000, 1_000_003] {
            for count in [1, 3, 4, 64] {
                let parts = try (0..<count).map { try Shard(index: $0, count: count).rows(of: total) }
                XCTAssertEqual(parts.flatMap { Array($0) }, Array(0..<total), "\(total) rows in \(count) parts")
                let sizes = parts.map(\.count)
                XCTAssertLessThanOrEqual((sizes.max() ?? 0) - (sizes.min() ?? 0), 1, "\(total) rows in \(count) parts")
            }
        }
        XCTAssertEqual(try Shard("2/4").rows(of: 40), 20..<30)
        XCTAssertEqual(try Shard("2/4"), try Shard(index: 2, count: 4))
    }

    func testBadShardsAreRejected() {
        for text in ["4/4", "-1/4", "1/0", "1", "a/b", "1/2/3", ""] {
            XCTAssertThrowsError(try Shard(text), text)
        }
        XCTAssertThrowsError(try Shard("4/4")) {
            XCTAssertEqual("\($0)", "shard 4/4 is not one of 0/4 to 3/4")
        }
    }

    func testRowRangesReadLikeTheWholeFile() throws {
        let path = try temporaryFolder() + "/rows.npy"
        let values = (0..<35).map { Float($0) * 0.5 - 3 }
        try NPY.write(values, shape: [7, 5], to: path)
        let rows = try NPYRows(path: path)
        XCTAssertEqual(rows.rows, 7)
        XCTAssertEqual(rows.columns, 5)
        XCTAssertEqual(try rows.read(2..<5), Array(values[10..<25]))
        XCTAssertEqual(try rows.read(0..<7), values)
        XCTAssertEqual(try rows.read(6..<7), Array(values[30..<35]))
    }

    func testBadRowFilesNameTheFile() throws {
        let folder = try temporaryFolder()
        let data = NPY.encode((0..<12).map(Float.init), shape: [3, 4])
        try data.dropLast(4).write(to: URL(fileURLWithPath: folder + "/short.npy"))
        try NPY.write([1, 2, 3], to: folder + "/ints.npy")
        try NPY.write([1, 2, 3], shape: [3], to: folder + "/flat.npy")
        // A header claiming more rows than fit in memory, and one claiming more than the file holds.
        func header(shape: String) -> Data {
            var text = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }"
            text += String(repeating: " ", count: 128 - 10 - text.utf8.count - 1) + "\n"
            return Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(text.utf8.count), 0] + Array(text.utf8) + [0, 0, 0, 0])
        }
        try header(shape: "(4294967296, 4294967296)").write(to: URL(fileURLWithPath: folder + "/huge.npy"))
        try header(shape: "(1000000, 1)").write(to: URL(fileURLWithPath: folder + "/tall.npy"))
        XCTAssertEqual(mkfifo(folder + "/fifo.npy", 0o600), 0)
        for (name, problem) in [
            ("short.npy", "truncated"), ("ints.npy", "2-D float32"), ("flat.npy", "2-D float32"), ("none.npy", "cannot read"),
            ("huge.npy", "too large"), ("tall.npy", "truncated"), ("fifo.npy", "not a regular file"),
        ] {
            XCTAssertThrowsError(try NPYRows(path: folder + "/" + name)) {
                XCTAssertTrue("\($0)".contains(name) && "\($0)".contains(problem), "\($0)")
            }
        }
        XCTAssertThrowsError(try NPY.read(folder + "/fifo.npy")) {
            XCTAssertTrue("\($0)".contains("fifo.npy") && "\($0)".contains("not a regular file"), "\($0)")
        }
    }
}
