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

    func testShardsOfSetsNearIntMaxDoNotOverflow() throws {
        let last = try Shard(index: Int.max - 1, count: Int.max)
        XCTAssertEqual(last.rows(of: 24), 23..<24)
        XCTAssertEqual(last.rows(of: Int.max), Int.max - 1..<Int.max)
        XCTAssertEqual(try Shard(index: 1, count: 2).rows(of: Int.max), Int.max / 2..<Int.max)
        XCTAssertEqual(try Shard(index: 0, count: Int.max).rows(of: 24), 0..<0)
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
            ("short.npy", "truncated"), ("ints.npy", "expected <f4 [N, N]"), ("flat.npy", "expected <f4 [N, N]"),
            ("none.npy", "no such file"),
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

    func testNPYFilesAreCheckedFromTheHeaderBeforeTheirElementsAreRead() throws {
        let folder = try temporaryFolder()
        let good = NPY.encode((0..<8).map(Float.init), shape: [4, 2])
        // Too long: a sparse gigabyte after a valid 4 x 2 array is refused before it is read.
        let long = folder + "/long.npy"
        try good.write(to: URL(fileURLWithPath: long))
        XCTAssertEqual(truncate(long, 1 << 30), 0)
        assertThrows("long.npy", "bytes more than shape [4, 2] needs") { try NPY.read(long) }
        assertThrows("long.npy", "bytes more than") { try NPYRows(path: long) }
        // Another shape than the reader needs is refused from the header, naming both.
        let layout = NPY.Expected(.float32, shape: [5, 2], meaning: "one point per row")
        try good.write(to: URL(fileURLWithPath: folder + "/other.npy"))
        assertThrows("other.npy", "holds <f4 [4, 2], expected <f4 [5, 2]: one point per row") {
            try NPY.read(folder + "/other.npy", expected: layout)
        }
        XCTAssertEqual(
            try NPY.read(folder + "/other.npy", expected: NPY.Expected(.float32, shape: [4, nil], meaning: "")).floats.count, 8)
        assertThrows("short.npy", "truncated: holds 28 data bytes, shape [4, 2] needs 32") {
            try good.dropLast(4).write(to: URL(fileURLWithPath: folder + "/short.npy"))
            return try NPY.read(folder + "/short.npy")
        }
    }

    func testFileErrorsSayTheirKind() throws {
        let folder = try temporaryFolder()
        XCTAssertEqual(mkfifo(folder + "/fifo", 0o600), 0)
        XCTAssertEqual(fileErrorKind { try RegularFile(folder + "/fifo") }, .notARegularFile)
        XCTAssertEqual(fileErrorKind { try RegularFile(folder) }, .notARegularFile)
        XCTAssertEqual(fileErrorKind { try RegularFile(folder + "/missing") }, .missing)
        let good = NPY.encode((0..<8).map(Float.init), shape: [4, 2])
        try good.dropLast(4).write(to: URL(fileURLWithPath: folder + "/short.npy"))
        try (good + Data([1, 2, 3, 4])).write(to: URL(fileURLWithPath: folder + "/long.npy"))
        try good.write(to: URL(fileURLWithPath: folder + "/good.npy"))
        try Data("not numpy".utf8).write(to: URL(fileURLWithPath: folder + "/text.npy"))
        XCTAssertEqual(fileErrorKind { try NPY.read(folder + "/short.npy") }, .truncated)
        XCTAssertEqual(fileErrorKind { try NPY.read(folder + "/long.npy") }, .malformed)
        XCTAssertEqual(fileErrorKind { try NPY.read(folder + "/text.npy") }, .malformed)
        XCTAssertEqual(
            fileErrorKind { try NPY.read(folder + "/good.npy", expected: NPY.Expected(.int64, shape: [4], meaning: "labels")) },
            .wrongShape)
        XCTAssertNil(
            fileErrorKind { try NPY.read(folder + "/good.npy", expected: NPY.Expected(.float32, shape: [4, 2], meaning: "")) })
        XCTAssertEqual(
            fileErrorKind { try RegularFile.contents(folder + "/good.npy", maxBytes: 10, kind: "tiny file") }, .tooLarge)
    }

    func testOnlyReadableRegularFilesAreOpened() throws {
        let folder = try temporaryFolder()
        XCTAssertEqual(mkfifo(folder + "/fifo", 0o600), 0)
        assertThrows("fifo", "not a regular file") { try RegularFile(folder + "/fifo") }
        assertThrows("/dev/zero", "not a regular file") { try RegularFile("/dev/zero") }
        assertThrows(folder, "is a folder") { try RegularFile(folder) }
        assertThrows("missing", "no such file") { try RegularFile(folder + "/missing") }
        try Data(repeating: 7, count: 100).write(to: URL(fileURLWithPath: folder + "/big.json"))
        assertThrows("big.json", "100 bytes, more than the 99 bytes a test file may take") {
            try RegularFile.contents(folder + "/big.json", maxBytes: 99, kind: "test file")
        }
        let file = try RegularFile(folder + "/big.json")
        XCTAssertEqual(try file.bytes(90..<100), [UInt8](repeating: 7, count: 10))
        assertThrows("big.json", "the file ended") { try file.bytes(95..<105) }
    }

    func testJSONFilesNameTheFieldAtFault() throws {
        struct Sample: Decodable {
            var seed: UInt64
            var name: String
        }
        let path = try temporaryFolder() + "/sample.json"
        XCTAssertNil(try JSONFile.read(Sample.self, from: path, kind: "sample"))
        for (text, problem) in [
            (#"{"seed": -1, "name": "a"}"#, #""seed""#), (#"{"seed": 1}"#, #""name" is missing"#),
            (#"{"seed": "x", "name": "a"}"#, #""seed" must be a non-negative whole number"#), ("{", "not valid JSON"),
        ] {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            assertThrows("sample.json", "not a valid sample", problem) {
                try JSONFile.read(Sample.self, from: path, kind: "sample")
            }
        }
    }
}
