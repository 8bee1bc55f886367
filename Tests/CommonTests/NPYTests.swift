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
        XCTAssertThrowsError(try AtomicFile.write(to: folder + "/out.bin") { tmp in
            FileManager.default.createFile(atPath: tmp, contents: Data([1]))
            throw Boom()
        })
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), [])
    }
}
