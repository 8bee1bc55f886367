import PythonPickle
import TestSupport
import XCTest

@testable import ImageData

final class CIFAR10Tests: XCTestCase {
    /// Planar pixels of `count` images whose bytes encode image, channel and pixel.
    private func planar(_ count: Int, seed: Int) -> [[UInt8]] {
        (0..<count).map { image in (0..<3072).map { UInt8(truncatingIfNeeded: ($0 * 7 + image * 13 + seed) % 251) } }
    }

    /// Writes a binary batch folder: three images per batch, labels cycling over three classes.
    private func makeBinaryFolder() throws -> String {
        let folder = try temporaryFolder() + "/cifar-10-batches-bin"
        for (index, batch) in (CIFAR10.trainBatches + [CIFAR10.testBatch]).enumerated() {
            let records = planar(3, seed: index).enumerated().flatMap { [UInt8($0.offset)] + $0.element }
            try write(records, to: folder + "/" + batch + ".bin")
        }
        try write(Array("airplane\nautomobile\nbird\n\n".utf8), to: folder + "/batches.meta.txt")
        return folder
    }

    func testBinaryBatchesBecomeHWCRows() throws {
        let folder = try makeBinaryFolder()
        let splits = try DataSource.open(folder)
        XCTAssertEqual(splits.train.count, 15)
        XCTAssertEqual(splits.test?.count, 3)
        XCTAssertEqual(splits.train.classNames, ["airplane", "automobile", "bird"])
        XCTAssertEqual(splits.train.labels?.prefix(4), [0, 1, 2, 0])
        XCTAssertEqual(splits.train.ids[4], "data_batch_2#1")
        let image = try splits.train.image(at: 4)
        let source = planar(3, seed: 1)[1]
        XCTAssertEqual([image.width, image.height], [32, 32])
        XCTAssertEqual(
            Array(image.pixels.prefix(6)), [source[0], source[1024], source[2048], source[1], source[1025], source[2049]])
    }

    func testPythonBatchesMatchTheirPickles() throws {
        let folder = try temporaryFolder() + "/cifar/cifar-10-batches-py"
        for batch in CIFAR10.trainBatches + [CIFAR10.testBatch] { try write(Fixtures.pythonBatch, to: folder + "/" + batch) }
        try write(Fixtures.pythonMeta, to: folder + "/batches.meta")
        let splits = try DataSource.open((folder as NSString).deletingLastPathComponent)
        XCTAssertEqual(splits.train.count, 15)
        XCTAssertEqual(splits.train.classNames, ["airplane", "automobile", "bird"])
        XCTAssertEqual(splits.test?.labels, [2, 0, 1])
        let pixels = try splits.train.image(at: 1).pixels
        let planar = (0..<3 * 3072).map { UInt8($0 % 251) }
        XCTAssertEqual(Array(pixels.prefix(3)), [planar[3072], planar[3072 + 1024], planar[3072 + 2048]])
    }

    func testTruncatedBinaryBatchNamesFileAndByteCounts() throws {
        let folder = try makeBinaryFolder()
        let path = folder + "/data_batch_3.bin"
        try write(Array(try FileBytes.load(path, maxBytes: FileBytes.maximumDataBytes).dropLast(100)), to: path)
        assertThrows(kind: .truncated, path, "holds 9119 bytes", "3073-byte records", "truncated") {
            try CIFAR10.load(folder: folder)
        }
    }

    func testMissingBatchAndBadLabelAreErrors() throws {
        let folder = try makeBinaryFolder()
        try FileManager.default.removeItem(atPath: folder + "/test_batch.bin")
        assertThrows(kind: .missing, folder + "/test_batch.bin", "no such file") { try CIFAR10.load(folder: folder) }
        let other = try makeBinaryFolder()
        try write([7] + planar(1, seed: 0)[0], to: other + "/data_batch_1.bin")
        assertThrows(other + "/data_batch_1", "label 7 outside the 3 classes") { try CIFAR10.load(folder: other) }
    }

    func testMissingCIFARWithoutDownloadSaysWhatToDo() throws {
        let root = try temporaryFolder()
        assertThrows(root, "no CIFAR-10 here", "cifar-10-batches-py") {
            try DataSource.open("cifar10", root: root, download: false)
        }
    }
}
