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
