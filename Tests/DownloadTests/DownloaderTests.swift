import Common
import Download
import TestSupport
import XCTest

final class DownloaderTests: XCTestCase {
    private let body = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7919 >> 3) }

    /// The body's MD5 (from a copy on disk) and SHA-256, as lowercase hex.
    private func digests() throws -> (md5: String, sha256: String) {
        let path = try temporaryFolder() + "/body"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(body)))
        return (try Downloader.md5(ofFile: path), try Fingerprint.ofFile(path))
    }

    func testChecksMD5AndSHA256PrefixAndWritesTheFile() throws {
        // The published test vectors for "abc" (RFC 1321, FIPS 180-2).
        let server = try LocalHTTPServer(body: Array("abc".utf8))
        defer { server.stop() }
        let root = try temporaryFolder()
        try Downloader.fetch(
            server.url("a.bin"), to: root + "/a.bin", checksum: .md5("900150983cd24fb0d6963f7d28e17f72"), bytes: 3)
        try Downloader.fetch(server.url("b.bin"), to: root + "/b.bin", checksum: .sha256Prefix("ba7816bf"))
        XCTAssertEqual(try Downloader.md5(ofFile: root + "/a.bin"), "900150983cd24fb0d6963f7d28e17f72")
        XCTAssertEqual(FileManager.default.contents(atPath: root + "/b.bin"), Data("abc".utf8))
    }

    func testWrongChecksumLeavesNothing() throws {
        let server = try LocalHTTPServer(body: body)
        defer { server.stop() }
        let root = try temporaryFolder()
        let (md5, sha256) = try digests()
        assertThrows("MD5 is \(md5), expected 00", "a.bin") {
            try Downloader.fetch(server.url("a.bin"), to: root + "/a.bin", checksum: .md5(String(repeating: "0", count: 32)))
        }
        assertThrows("SHA-256 \(sha256) does not start with 00000000", "b.bin") {
            try Downloader.fetch(server.url("b.bin"), to: root + "/b.bin", checksum: .sha256Prefix("00000000"))
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root), [])
    }

    func testCutConnectionLeavesNothing() throws {
        let server = try LocalHTTPServer(body: body, cutAfter: body.count / 2)
        defer { server.stop() }
        let root = try temporaryFolder()
        let expected = try digests().md5
        assertThrows("cifar-10-binary.tar.gz", "after") {
            try Downloader.fetch(
                server.url("cifar-10-binary.tar.gz"), to: root + "/a.tar.gz", checksum: .md5(expected), timeout: 10)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root), [])
    }

    func testHTTPErrorStatusIsReported() throws {
        let server = try LocalHTTPServer(body: Array("gone".utf8), status: "404 Not Found")
        defer { server.stop() }
        let root = try temporaryFolder()
        assertThrows("HTTP status 404") {
            try Downloader.fetch(server.url("x.tar.gz"), to: root + "/x.tar.gz", checksum: .md5(""))
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root), [])
    }

    func testFailuresAreCasesACallerCanSwitchOn() throws {
        let root = try temporaryFolder()
        func failure(_ fetch: () throws -> Void) -> DownloadError? {
            do {
                try fetch()
            } catch let error as DownloadError {
                return error
            } catch {
                XCTFail("not a DownloadError: \(error)")
            }
            return nil
        }
        // Nothing listens on port 1: the connection itself fails, with the system's error kept.
        let refused = failure {
            try Downloader.fetch(
                URL(string: "http://127.0.0.1:1/x.bin")!, to: root + "/x.bin", checksum: .md5(""), timeout: 10)
        }
        guard case .connection(_, 0, _) = refused else {
            return XCTFail("expected .connection, got \(String(describing: refused))")
        }
        XCTAssertTrue(refused?.isConnectionFailure ?? false)

        let server = try LocalHTTPServer(body: Array("gone".utf8), status: "404 Not Found")
        defer { server.stop() }
        let missing = failure { try Downloader.fetch(server.url("y.bin"), to: root + "/y.bin", checksum: .md5("")) }
        guard case .server = missing else { return XCTFail("expected .server, got \(String(describing: missing))") }
        XCTAssertFalse(missing?.isConnectionFailure ?? true)

        let good = try LocalHTTPServer(body: Array("abc".utf8))
        defer { good.stop() }
        let damaged = failure { try Downloader.fetch(good.url("z.bin"), to: root + "/z.bin", checksum: .sha256Prefix("00")) }
        guard case .damaged = damaged else { return XCTFail("expected .damaged, got \(String(describing: damaged))") }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root), [])
    }
}
