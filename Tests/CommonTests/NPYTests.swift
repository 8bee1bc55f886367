import Common
import TestSupport
import XCTest

final class NPYTests: XCTestCase {
    func testFloatRoundTripKeepsShapeAndValues() throws {
        let folder = try temporaryFolder()
        let path = folder + "/a.npy"
        try NPY.write([1, -2.5, 3, 4, 5, 6], shape: [2, 3], to: path)
        let array = try NPY.read(path)
        XCTAssertEqual(array.shape, [2, 3])
        XCTAssertEqual(array.floats, [1, -2.5, 3, 4, 5, 6])
    }

    func testHeaderIsPaddedTo64Bytes() {
        let data = NPY.encode([1, 2, 3])
        let headerLength = Int(data[8]) | Int(data[9]) << 8
        XCTAssertEqual((10 + headerLength) % 64, 0)
        XCTAssertEqual(data.count, 10 + headerLength + 24)
    }

    func testTruncatedFileIsRejectedWithPath() throws {
        let data = NPY.encode([1, 2, 3, 4], shape: [4])
        XCTAssertThrowsError(try NPY.decode(data.dropLast(3), path: "x.npy")) { error in
            XCTAssertTrue("\(error)".contains("x.npy"))
            XCTAssertTrue("\(error)".contains("truncated"))
        }
    }

    func testAtomicWriteLeavesNothingWhenBodyFails() throws {
        let folder = try temporaryFolder()
        struct Boom: Error {}
        XCTAssertThrowsError(
            try AtomicFile.write(to: folder + "/out.bin") { tmp in
                FileManager.default.createFile(atPath: tmp, contents: Data([1]))
                throw Boom()
            })
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), [])
    }

    /// A 128-byte .npy declaring shape (2^32, 2^32): the size overflows Int, which must be
    /// an error naming the file, not a trap.
    func testOverflowingShapeIsAnError() {
        var text = "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }"
        text += String(repeating: " ", count: 128 - 10 - text.utf8.count - 1) + "\n"
        let bytes = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(text.utf8.count), 0] + Array(text.utf8)
        XCTAssertEqual(bytes.count, 128)
        assertThrows("bomb.npy", "shape [4294967296, 4294967296] is too large") {
            try NPY.decode(Data(bytes), path: "bomb.npy")
        }
    }

    func testByteCountReportsOverflow() {
        XCTAssertEqual(ArrayShape.byteCount([2, 3], elementSize: 4), 24)
        XCTAssertEqual(ArrayShape.byteCount([], elementSize: 8), 8)
        XCTAssertNil(ArrayShape.byteCount([1 << 40, 1 << 40], elementSize: 1))
        XCTAssertNil(ArrayShape.byteCount([1 << 61], elementSize: 4))
        XCTAssertNil(ArrayShape.byteCount([-1], elementSize: 4))
    }
}
