import Common
import Foundation
import XCTest

final class DigestTests: XCTestCase {
    /// FIPS 180-2 and RFC 1321 test vectors for "abc", fed in two pieces.
    func testKnownVectors() {
        let sha = Digest(.sha256)
        sha.update(Data("a".utf8))
        sha.update(Data("bc".utf8))
        XCTAssertEqual(sha.hexDigest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let md5 = Digest(.md5)
        md5.update(Data("abc".utf8))
        XCTAssertEqual(md5.hexDigest(), "900150983cd24fb0d6963f7d28e17f72")
    }

    func testFileDigestMatchesStreamAndMissingFileNamesIt() throws {
        let path = NSTemporaryDirectory() + "digest-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let bytes = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        var print = Fingerprint()
        print.update(bytes)
        XCTAssertEqual(try Fingerprint.ofFile(path), print.finalize())
        XCTAssertThrowsError(try Fingerprint.ofFile(path + "-missing")) { XCTAssertTrue("\($0)".contains("-missing")) }
    }

    func testZlibRoundTripAndCRC() throws {
        XCTAssertEqual(Zlib.crc32(Array("123456789".utf8)), 0xCBF4_3926)
        let text = Array(String(repeating: "pic2vec ", count: 1000).utf8)
        XCTAssertLessThan(Zlib.compress(text).count, text.count / 10)
        XCTAssertThrowsError(try Zlib.gunzip(Array(text.prefix(100)), maximumBytes: 1 << 20))
    }
}
