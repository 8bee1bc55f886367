import SearchService
import XCTest

final class MultipartTests: XCTestCase {
    func testBoundaryIsReadFromTheContentType() {
        XCTAssertEqual(Multipart.boundary(contentType: "multipart/form-data; boundary=abc"), "abc")
        XCTAssertEqual(Multipart.boundary(contentType: "Multipart/Form-Data; charset=utf-8; boundary=\"a b\""), "a b")
        XCTAssertNil(Multipart.boundary(contentType: "image/png"))
        XCTAssertNil(Multipart.boundary(contentType: "multipart/form-data"))
    }

    func testPartsKeepBinaryBodiesWhole() throws {
        let binary: [UInt8] = [0, 13, 10, 45, 45, 255, 13, 10]
        var body = Array("preamble\r\n--b\r\nContent-Disposition: form-data; name=\"image\"; filename=\"x.png\"\r\n".utf8)
        body += Array("Content-Type: image/png\r\n\r\n".utf8) + binary + Array("\r\n--b--\r\n".utf8)
        let parts = try Multipart.parts(of: body, boundary: "b")
        XCTAssertEqual(parts, [MultipartPart(name: "image", filename: "x.png", contentType: "image/png", body: binary)])
    }

    func testTruncatedBodyIsABadRequest() {
        let body = Array("--b\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\nabc".utf8)
        XCTAssertThrowsError(try Multipart.parts(of: body, boundary: "b")) { error in
            XCTAssertEqual((error as? SearchError)?.statusCode, 400)
        }
    }
}

/// Bodies built to make a naive parser quadratic or slow.
final class MultipartCostTests: XCTestCase {
    /// A 4 MB body of '-' with a 70-byte boundary of '-' ending in 'x': a byte-by-byte
    /// compare costs body x boundary; the linear search answers at once.
    func testNearMatchesCostLinearTime() {
        let boundary = String(repeating: "-", count: 69) + "x"
        let body = [UInt8](repeating: 45, count: 4 << 20)
        let started = Date()
        XCTAssertThrowsError(try Multipart.parts(of: body, boundary: boundary))
        XCTAssertLessThan(Date().timeIntervalSince(started), 2)
    }

    /// 50,000 parts parse in one pass (removing the first of a list of ranges each time was quadratic).
    func testManyPartsParseInLinearTime() throws {
        let part = Array("--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nv\r\n".utf8)
        var body: [UInt8] = []
        for _ in 0..<50_000 { body += part }
        body += Array("--b--\r\n".utf8)
        let started = Date()
        XCTAssertEqual(try Multipart.parts(of: body, boundary: "b").count, 50_000)
        XCTAssertLessThan(Date().timeIntervalSince(started), 20)
    }

    func testBoundaryLongerThan70BytesIsRefused() {
        let boundary = String(repeating: "q", count: 71)
        let body = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\nx\r\n--\(boundary)--".utf8)
        XCTAssertThrowsError(try Multipart.parts(of: body, boundary: boundary)) { error in
            XCTAssertEqual((error as? SearchError)?.statusCode, 400)
            XCTAssertFalse("\(error)".contains(boundary))
        }
    }
}
