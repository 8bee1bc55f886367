import Foundation
import Hummingbird
import HummingbirdTesting
import ImageData
import SearchService
import XCTest

/// The JSON API, exercised in process through HummingbirdTesting's router client.
final class SearchAPITests: XCTestCase {
    struct ErrorBody: Decodable {
        var error: String
        var status: Int
    }

    func app(_ engine: SearchEngine? = nil) async throws -> some ApplicationProtocol {
        let engine = if let engine { engine } else { try await Fixtures.engine() }
        return Application(router: SearchAPI.router(engine: engine))
    }

    func testSearchByIndexLeavesTheQueryOutAndSortsByDistance() async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: "/api/search?index=4&k=11", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertEqual(response.headers[.contentType], "application/json")
                let answer = try decodeJSON(SearchResponse.self, response)
                XCTAssertEqual(answer.query.kind, "index")
                XCTAssertEqual(answer.query.id, 4)
                XCTAssertEqual(answer.query.label, "greenish")
                XCTAssertEqual(Set(answer.results.map(\.id)), Set(0..<12).subtracting([4]))
                XCTAssertEqual(answer.results.map(\.rank), Array(1...11))
                XCTAssertEqual(answer.results.map(\.distance), answer.results.map(\.distance).sorted())
                XCTAssertEqual(answer.results.first { $0.id == 7 }?.label, "greenish")
                XCTAssertEqual(answer.results.first { $0.id == 7 }?.source, "greenish/7.png")
            }
        }
    }

    func testUploadAsRawBodyFindsTheSameImageFirst() async throws {
        let png = try Fixtures.png(row: 5)
        try await app().test(.router) { client in
            try await client.execute(
                uri: "/api/search?k=4", method: .post, headers: [.contentType: "image/png"], body: ByteBuffer(bytes: png)
            ) { response in
                XCTAssertEqual(response.status, .ok)
                let answer = try decodeJSON(SearchResponse.self, response)
                XCTAssertEqual(answer.query.kind, "upload")
                XCTAssertEqual(answer.query.width, 8)
                XCTAssertEqual(answer.query.height, 8)
                XCTAssertEqual(answer.results.count, 4)
                XCTAssertEqual(answer.results.first?.id, 5)
                XCTAssertEqual(answer.results.first?.label, "bluish")
                XCTAssertLessThan(answer.results.first?.distance ?? 1, 1e-5)
            }
        }
    }

    func testUploadAsMultipartFieldImage() async throws {
        let png = try Fixtures.png(row: 3)
        let boundary = "----pic2vecTestBoundary7MA4YWxk"
        let note = "--\(boundary)\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n"
        let head =
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"image\"; filename=\"../../red.png\"\r\n"
            + "Content-Type: image/png\r\n\r\n"
        let body = Array((note + head).utf8) + png + Array("\r\n--\(boundary)--\r\n".utf8)
        try await app().test(.router) { client in
            try await client.execute(
                uri: "/api/search?k=2", method: .post,
                headers: [.contentType: "multipart/form-data; boundary=\(boundary)"], body: ByteBuffer(bytes: body)
            ) { response in
                XCTAssertEqual(response.status, .ok)
                let answer = try decodeJSON(SearchResponse.self, response)
                XCTAssertEqual(answer.query.source, "red.png")
                XCTAssertEqual(answer.results.first?.id, 3)
            }
        }
    }

    func testBadRequestsGetJSONErrorsWithTheRightStatus() async throws {
        let png = PNGEncoder.encode(Fixtures.image(color: [1, 2, 3]))
        let cases: [(String, HTTPRequest.Method, HTTPFields, [UInt8]?, HTTPResponse.Status, String)] = [
            ("/api/search?index=3&k=0", .get, [:], nil, .badRequest, "k must be"),
            ("/api/search?index=3&k=51", .get, [:], nil, .badRequest, "k must be"),
            ("/api/search?index=3&k=12", .get, [:], nil, .badRequest, "k must be from 1 to 11"),
            ("/api/search?index=3&k=abc", .get, [:], nil, .badRequest, "integer"),
            ("/api/search?index=12&k=3", .get, [:], nil, .notFound, "outside the index"),
            ("/api/search?index=-1", .get, [:], nil, .notFound, "outside the index"),
            ("/api/search?k=3", .get, [:], nil, .badRequest, "index must be"),
            ("/api/image/..%2F..%2Fetc%2Fpasswd", .get, [:], nil, .badRequest, "index must be"),
            ("/api/../../etc/passwd", .get, [:], nil, .notFound, "no such page"),
            ("/api/search?k=3", .post, [.contentType: "text/plain"], Array("hello".utf8), .unsupportedMediaType, "content type"),
            (
                "/api/search?k=3", .post, [.contentType: "image/png"], Array("GIF89a....".utf8), .unsupportedMediaType,
                "not a JPEG or PNG"
            ),
            ("/api/search?k=3", .post, [.contentType: "image/png"], Array(png.prefix(40)), .unprocessableContent, "corrupt PNG"),
            ("/api/search?k=3", .post, [.contentType: "image/png"], nil, .badRequest, "empty"),
            (
                "/api/search?k=3", .post, [.contentType: "multipart/form-data; boundary=xyz"],
                Array("--xyz\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nhi\r\n--xyz--\r\n".utf8), .badRequest,
                "no 'image' field"
            ),
        ]
        try await app().test(.router) { client in
            for (uri, method, headers, body, status, message) in cases {
                try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(bytes: $0) }) {
                    response in
                    XCTAssertEqual(response.status, status, uri)
                    XCTAssertEqual(response.headers[.contentType], "application/json", uri)
                    let error = try decodeJSON(ErrorBody.self, response)
                    XCTAssertEqual(error.status, Int(status.code), uri)
                    XCTAssertTrue(error.error.contains(message), "\(uri): '\(error.error)' lacks '\(message)'")
                }
            }
        }
    }

    func testUploadLargerThanTheCapIsRefused() async throws {
        let png = PNGEncoder.encode(Fixtures.image(color: [10, 200, 10], width: 64, height: 64))
        let engine = try await Fixtures.engine(limits: SearchLimits(maxK: 50, maxUploadBytes: png.count - 1))
        try await app(engine).test(.router) { client in
            try await client.execute(
                uri: "/api/search?k=2", method: .post, headers: [.contentType: "image/png"], body: ByteBuffer(bytes: png)
            ) { response in
                XCTAssertEqual(response.status, .contentTooLarge)
                XCTAssertTrue(try decodeJSON(ErrorBody.self, response).error.contains("limit"))
            }
        }
    }

    func testUploadsAreLargeByTheirDeclaredPixelsAndAnswerOnEitherLane() async throws {
        let engine = try await Fixtures.engine(limits: SearchLimits(largeUploadPixels: 16 * 16))
        let small = PNGEncoder.encode(Fixtures.image(color: Fixtures.color(4), width: 16, height: 16))
        let large = PNGEncoder.encode(Fixtures.image(color: Fixtures.color(4), width: 17, height: 16))
        XCTAssertFalse(engine.isLargeUpload(small))
        XCTAssertTrue(engine.isLargeUpload(large))
        XCTAssertFalse(engine.isLargeUpload([0x89, 0x50, 0x4E, 0x47]), "no readable header: the small lane fails it fast")
        try await app(engine).test(.router) { client in
            for png in [small, large] {
                try await client.execute(
                    uri: "/api/search?k=1", method: .post, headers: [.contentType: "image/png"], body: ByteBuffer(bytes: png)
                ) { response in
                    XCTAssertEqual(response.status, .ok)
                    XCTAssertEqual(try decodeJSON(SearchResponse.self, response).results.first?.id, 4)
                }
            }
        }
    }

    func testUploadWithoutAnEmbedderIsUnavailable() async throws {
        let png = try Fixtures.png(row: 1)
        try await app(try await Fixtures.engine(withModel: false)).test(.router) { client in
            try await client.execute(
                uri: "/api/search?k=2", method: .post, headers: [.contentType: "image/png"], body: ByteBuffer(bytes: png)
            ) { response in
                XCTAssertEqual(response.status, .serviceUnavailable)
            }
        }
    }

    func testImageRouteServesAPNGThatDecodesToTheRow() async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: "/api/image/5", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertEqual(response.headers[.contentType], "image/png")
                let decoded = try ImageDecoder.decode(Array(response.body.readableBytesView), path: "/api/image/5")
                XCTAssertEqual(decoded, try Fixtures.dataset.image(at: 5))
            }
        }
    }

    func testPageAndInfo() async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: "/", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                let html = String(buffer: response.body)
                XCTAssertTrue(html.contains("image-rendering: pixelated"))
                XCTAssertTrue(html.contains("type=\"range\" id=\"k\" min=\"1\" max=\"50\""))
            }
            try await client.execute(uri: "/api/info", method: .get) { response in
                let info = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                XCTAssertEqual(info?["count"] as? Int, 12)
                XCTAssertEqual(info?["maxK"] as? Int, 11)
                XCTAssertEqual(info?["acceptsImages"] as? Bool, true)
            }
        }
    }
}

/// Decodes a JSON response body.
func decodeJSON<T: Decodable>(_ type: T.Type, _ response: TestResponse) throws -> T {
    try JSONDecoder().decode(T.self, from: Data(response.body.readableBytesView))
}
