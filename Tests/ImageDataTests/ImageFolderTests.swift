import TestSupport
import XCTest

@testable import ImageData

final class ImageFolderTests: XCTestCase {
    /// A root with train/ and test/, two classes each (folders deliberately listed out of order).
    private func makeSplits() throws -> String {
        let root = try temporaryFolder()
        try write(Fixtures.rgbPNG, to: root + "/train/dog/b.png")
        try write(Fixtures.rgbJPEG, to: root + "/train/dog/a.JPG")
        try write(Fixtures.grayJPEG, to: root + "/train/cat/z.jpeg")
        try write(Array("notes".utf8), to: root + "/train/cat/notes.txt")
        try write(Fixtures.rgbPNG, to: root + "/train/.hidden/x.png")
        try write(Fixtures.palettePNG, to: root + "/test/dog/c.png")
        return root
    }

    func testTrainAndTestSplitsWithSortedClassesAndFiles() throws {
        let root = try makeSplits()
        let splits = try DataSource.open(root)
        let train = splits.train
        XCTAssertEqual(train.classNames, ["cat", "dog"])
        XCTAssertEqual(train.ids, [root + "/train/cat/z.jpeg", root + "/train/dog/a.JPG", root + "/train/dog/b.png"])
        XCTAssertEqual(train.labels, [0, 1, 1])
        XCTAssertTrue(train is InMemoryDataset, "same-size small images sit in memory")
        XCTAssertEqual(try train.image(at: 2).pixels, Fixtures.rgbPNGPixels)
        let test = try XCTUnwrap(splits.test)
        XCTAssertEqual(test.classNames, ["cat", "dog"])
        XCTAssertEqual(test.labels, [1])
        XCTAssertEqual(try test.images(0..<1).map(\.pixels), [Fixtures.palettePNGPixels])
    }

    func testFingerprintDependsOnContentNotLocation() throws {
        let first = try DataSource.open(try makeSplits()).train
        let second = try DataSource.open(try makeSplits()).train
        XCTAssertEqual(first.fingerprint, second.fingerprint)
        let changed = try makeSplits()
        try write(Fixtures.grayPNG, to: changed + "/train/dog/b.png")
        XCTAssertNotEqual(try DataSource.open(changed).train.fingerprint, first.fingerprint)
    }

    func testFlatFolderOfMixedSizesIsStreamedAndUnlabeled() throws {
        let root = try temporaryFolder()
        try write(Fixtures.rgbJPEG, to: root + "/b.jpg")
        try write(Fixtures.rgbPNG, to: root + "/a.png")
        let set = try ImageFolder.open(root, memoryBudget: 0).train
        XCTAssertTrue(set is ImageFolderDataset)
        XCTAssertNil(set.labels)
        XCTAssertEqual(set.classNames, [])
        XCTAssertEqual(set.ids.map { ($0 as NSString).lastPathComponent }, ["a.png", "b.jpg"])
        XCTAssertEqual(try set.images(0..<2).map(\.width), [Fixtures.width, Fixtures.width])
        let subset = set.subset([1])
        XCTAssertEqual(subset.ids, [root + "/b.jpg"])
        XCTAssertNotEqual(subset.fingerprint, set.fingerprint)
    }

    func testLimitSpreadsRowsOverTheSet() throws {
        let root = try temporaryFolder()
        for name in ["a", "b", "c", "d"] { try write(Fixtures.rgbPNG, to: root + "/\(name)/1.png") }
        let set = try ImageFolder.open(root).train
        XCTAssertEqual(set.limited(to: 2).labels, [0, 2])
        XCTAssertEqual(set.limited(to: 9).count, 4)
    }

    func testCorruptFileFailsByDefaultAndIsSkippedOnRequest() throws {
        for budget in [ImageFolder.defaultMemoryBudget, 0] {
            let root = try temporaryFolder()
            try write(Fixtures.rgbPNG, to: root + "/cat/a.png")
            try write(Array(Fixtures.rgbJPEG.prefix(30)), to: root + "/cat/b.jpg")
            try write(Array("not an image".utf8), to: root + "/dog/c.png")
            try write(Fixtures.rgbPNG, to: root + "/dog/d.png")
            assertThrows(root + "/cat/b.jpg", "corrupt JPEG") { try ImageFolder.open(root, memoryBudget: budget) }
            let set = try ImageFolder.open(root, skipBad: true, memoryBudget: budget).train
            XCTAssertEqual(set.ids, [root + "/cat/a.png", root + "/dog/d.png"])
            XCTAssertEqual(set.labels, [0, 1])
        }
    }

    func testStreamedSetReportsDamageWhenTheRowIsRead() throws {
        let root = try temporaryFolder()
        let jpeg = Fixtures.rgbJPEG
        try write(Array(jpeg.prefix(jpeg.count - 10)), to: root + "/cut.jpg")
        let set = try ImageFolder.open(root, memoryBudget: 0).train
        assertThrows(root + "/cut.jpg", "corrupt JPEG") { try set.images(0..<1) }
    }

    func testBadFoldersAreClearErrors() throws {
        let root = try temporaryFolder()
        assertThrows(kind: .missing, root + "/missing", "no such file or folder") { try DataSource.open(root + "/missing") }
        assertThrows(root, "no images") { try DataSource.open(root) }
        try write(Fixtures.rgbPNG, to: root + "/top.png")
        try write(Fixtures.rgbPNG, to: root + "/cat/a.png")
        assertThrows(root, "both images", "class folders") { try DataSource.open(root) }
        try write([], to: root + "/file.png")
        assertThrows(root + "/file.png", "not a folder") { try DataSource.open(root + "/file.png") }
        let splits = try temporaryFolder()
        try write(Fixtures.rgbPNG, to: splits + "/train/cat/a.png")
        try write(Fixtures.rgbPNG, to: splits + "/test/cow/a.png")
        assertThrows(splits + "/test/cow", "not among the training classes") { try DataSource.open(splits) }
        let unreadable = try temporaryFolder()
        try write(Array("x".utf8), to: unreadable + "/a.png")
        assertThrows(unreadable, "none of its 1 images") { try ImageFolder.open(unreadable, skipBad: true) }
    }

    /// With --skip-bad, a JPEG whose header is fine but whose scan data is damaged is
    /// skipped when a folder of mixed sizes is opened (it used to fail later, at embedding).
    func testSkipBadSkipsDamagedScanDataInAMixedSizeFolder() throws {
        let root = try temporaryFolder()
        try write(Fixtures.rgbPNG, to: root + "/a.png")
        try write(Fixtures.largeJPEG, to: root + "/b.jpg")
        var damaged = Fixtures.largeJPEG
        damaged.removeSubrange(damaged.count - 400..<damaged.count - 2)
        try write(damaged, to: root + "/c.jpg")
        XCTAssertThrowsError(try ImageFolder.open(root, memoryBudget: 0).train.images(0..<3))
        let set = try ImageFolder.open(root, skipBad: true, memoryBudget: 0).train
        XCTAssertEqual(set.ids.map { ($0 as NSString).lastPathComponent }, ["a.png", "b.jpg"])
        XCTAssertEqual(try set.images(0..<2).map(\.width), [Fixtures.width, 96])
    }

    /// Photos are decoded no larger than the network input needs (DCT scaling).
    func testFolderRowsDecodeToTheInputSize() throws {
        let root = try temporaryFolder()
        try write(Fixtures.rgbPNG, to: root + "/a.png")
        try write(Fixtures.largeJPEG, to: root + "/b.jpg")
        let set = try ImageFolder.open(root, memoryBudget: 0).train
        XCTAssertEqual(try set.image(at: 1, fitting: 20).width, 24)
        XCTAssertEqual(try set.limited(to: 2).image(at: 1, fitting: 10).width, 12)
        XCTAssertEqual(try set.image(at: 0, fitting: 2).width, Fixtures.width)
    }

    /// A file name that is not valid UTF-8 is reported as such, not as "No such file".
    func testInvalidUTF8FileNameIsNamedAsSuch() throws {
        let root = try temporaryFolder()
        try write(Fixtures.rgbPNG, to: root + "/a.png")
        let raw = Array((root + "/b").utf8CString.dropLast()) + [CChar(bitPattern: 0xFF), 0x2E, 0x70, 0x6E, 0x67, 0]
        let descriptor = raw.withUnsafeBufferPointer { open($0.baseAddress!, O_CREAT | O_WRONLY, 0o644) }
        XCTAssertGreaterThanOrEqual(descriptor, 0)
        close(descriptor)
        assertThrows("not valid UTF-8") { try ImageFolder.open(root) }
    }
}

/// A collection's rows as a list of files (`<index>.files.json`): a data spec of its own, read
/// with its values checked.
final class ImageFileListTests: XCTestCase {
    func testAListIsADataSetOfItsFiles() throws {
        let root = try temporaryFolder()
        try write(Fixtures.rgbPNG, to: root + "/a.png")
        try write(Fixtures.rgbJPEG, to: root + "/b.jpg")
        let hash = String(repeating: "ab", count: 32)
        let list = ImageFileList(
            classNames: ["cat"],
            files: [.init(path: root + "/a.png", sha256: hash, label: 0), .init(path: root + "/b.jpg", sha256: hash, label: -1)])
        let path = root + "/x.index.files.json"
        try JSONEncoder().encode(list).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try ImageFileList.read(path), list)
        let dataset = try DataSource.open(path).train
        XCTAssertEqual(dataset.ids, [root + "/a.png", root + "/b.jpg"])
        XCTAssertEqual(dataset.labels, [0, -1])
        XCTAssertEqual(try dataset.image(at: 0).pixels, Fixtures.rgbPNGPixels)
        XCTAssertEqual(dataset.subset([1]).ids, [root + "/b.jpg"])
        XCTAssertNotEqual(dataset.fingerprint, dataset.subset([0, 1]).fingerprint)
    }

    func testBadListsAreRefusedNamingTheFile() throws {
        let root = try temporaryFolder()
        let hash = String(repeating: "0", count: 64)
        let cases: [(String, String)] = [
            (#"{"classNames": [], "files": [{"path": "/a.png", "sha256": "\#(hash)", "label": 0}]}"#, "label 0"),
            (#"{"classNames": ["a"], "files": [{"path": "a.png", "sha256": "\#(hash)", "label": 0}]}"#, "absolute path"),
            (#"{"classNames": ["a"], "files": [{"path": "/a.png", "sha256": "xyz", "label": -1}]}"#, "SHA-256"),
            (#"{"classNames": ["a"], "files": [{"path": "/a.png""#, "x.files.json"),
        ]
        for (text, message) in cases {
            let path = root + "/x.files.json"
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            assertThrows("x.files.json", message) { try ImageFileList.read(path) }
        }
    }
}
