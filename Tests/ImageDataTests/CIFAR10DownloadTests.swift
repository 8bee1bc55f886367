import Common
import Download
import TestSupport
import XCTest

@testable import ImageData

final class CIFAR10DownloadTests: XCTestCase {
    /// A `.tar.gz` of a binary CIFAR-10 folder: one image per batch, two classes.
    private func cifarArchive() -> [UInt8] {
        let batches = (CIFAR10.trainBatches + [CIFAR10.testBatch]).enumerated().map { index, batch in
            TestArchive.Member.file(
                "cifar-10-batches-bin/\(batch).bin", [UInt8(index % 2)] + [UInt8](repeating: UInt8(index), count: 3072))
        }
        let meta = TestArchive.Member.file("cifar-10-batches-bin/batches.meta.txt", Array("cat\ndog\n".utf8))
        return TestArchive.gzip(TestArchive.tar([.folder("cifar-10-batches-bin/")] + batches + [meta]))
    }

    private func md5(_ bytes: [UInt8]) throws -> String {
        let path = try temporaryFolder() + "/bytes"
        try write(bytes, to: path)
        return try Downloader.md5(ofFile: path)
    }

    private func archive(_ server: LocalHTTPServer, md5: String, bytes: Int?) -> CIFAR10.Archive {
        CIFAR10.Archive(url: server.url("cifar-10-binary.tar.gz"), md5: md5, bytes: bytes, folder: "cifar-10-batches-bin")
    }

    func testDownloadsChecksUnpacksAndLoads() throws {
        let body = cifarArchive()
        let server = try LocalHTTPServer(body: body)
        defer { server.stop() }
        let root = try temporaryFolder()
        let splits = try CIFAR10.open(root: root, download: true, archive: archive(server, md5: try md5(body), bytes: body.count))
        XCTAssertEqual(splits.train.count, 5)
        XCTAssertEqual(splits.train.labels, [0, 1, 0, 1, 0])
        XCTAssertEqual(try splits.test?.image(at: 0).pixels.first, 5)
        XCTAssertEqual(try Downloader.md5(ofFile: root + "/cifar-10-binary.tar.gz"), try md5(body))
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: root).sorted(),
            ["cifar-10-batches-bin", "cifar-10-binary.tar.gz"])
        server.stop()
        XCTAssertEqual(try CIFAR10.open(root: root, download: true).train.count, 5, "a second open reads the unpacked folder")
    }

    func testWrongChecksumLeavesNothing() throws {
        let body = cifarArchive()
        let server = try LocalHTTPServer(body: body)
        defer { server.stop() }
        let root = try temporaryFolder()
        let actual = try md5(body)
        assertThrows("MD5 is \(actual), expected 00", "cifar-10-binary.tar.gz") {
            try CIFAR10.open(
                root: root, download: true, archive: archive(server, md5: String(repeating: "0", count: 32), bytes: nil))
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root), [])
    }

    func testUnpackingRefusesPathsOutsideTheTarget() throws {
        let cases: [(TestArchive.Member, String)] = [
            (.file("../evil.txt", [1]), "outside the target"),
            (.file("/tmp/evil.txt", [1]), "outside the target"),
            (.file("data/../../evil.txt", [1]), "outside the target"),
            (.symlink("data/link", target: "/etc/passwd"), "is a link"),
        ]
        for (member, problem) in cases {
            let root = try temporaryFolder()
            let path = root + "/bad.tar.gz"
            try write(TestArchive.gzip(TestArchive.tar([.file("data/ok.txt", [1]), member])), to: path)
            let target = root + "/out"
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
            assertThrows(path, problem) { try TarArchive.extractGzip(path, into: target) }
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: target), [], "nothing half-unpacked")
            XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/evil.txt"))
        }
    }

    func testTruncatedOrCorruptArchivesAreErrors() throws {
        let root = try temporaryFolder()
        let tar = TestArchive.tar([.file("data/a.txt", [UInt8](repeating: 7, count: 2000))])
        try write(TestArchive.gzip(Array(tar.prefix(1200))), to: root + "/cut.tar.gz")
        assertThrows(kind: .truncated, root + "/cut.tar.gz", "truncated") {
            try TarArchive.extractGzip(root + "/cut.tar.gz", into: root)
        }
        try write(Array("not gzip".utf8), to: root + "/text.tar.gz")
        assertThrows(root + "/text.tar.gz", "gzip") { try TarArchive.extractGzip(root + "/text.tar.gz", into: root) }
        var damaged = tar
        damaged[10] ^= 0x55
        try write(TestArchive.gzip(damaged), to: root + "/sum.tar.gz")
        assertThrows(root + "/sum.tar.gz", "checksum") { try TarArchive.extractGzip(root + "/sum.tar.gz", into: root) }
    }
}
