import CollectionStore
import Foundation
import Hummingbird
import HummingbirdTesting
import ImageData
import NIOCore
import TestSupport
import VectorSearch
import XCTest

@testable import SearchService

/// Requests an attacker would send: image bombs, pathological multipart bodies, slow
/// clients. Each gets a clear JSON error and the server keeps answering.
final class HostileRequestTests: XCTestCase {
    struct ErrorBody: Decodable {
        var error: String
        var status: Int
    }

    /// The 8x6 baseline JPEG of Tests/ImageDataTests/Fixtures.swift (`rgbJPEG`).
    static let smallJPEG = [UInt8](
        Data(
            base64Encoded:
                "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAMCAgMCAgMDAwMEAwMEBQgFBQQEBQoHBwYIDAoMDAsKCwsNDhIQDQ4RDgsLEBYQERMUFRUVDA8XGBYUGBIUFRT/2wBDAQMEBAUEBQkFBQkUDQsNFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBT/wAARCAAGAAgDASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwCL4S/sdeHk06NtltuWJSWMeSSw47cY/p78FFFfzNx7m+Op4jDKFVpcj2t/M1+SX57tns+G/E2cPI4XxMt/0R//2Q=="
        )!)

    /// `smallJPEG` with its frame header declaring `side` x `side` pixels.
    static func jpegBomb(side: Int) -> [UInt8] {
        var bytes = smallJPEG
        guard let sof = (0..<bytes.count - 9).first(where: { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xC0 }) else {
            preconditionFailure("no SOF0 marker")
        }
        for offset in [5, 7] {
            bytes[sof + offset] = UInt8(side >> 8)
            bytes[sof + offset + 1] = UInt8(side & 0xFF)
        }
        return bytes
    }

    func app(_ engine: SearchEngine) -> some ApplicationProtocol {
        Application(router: SearchAPI.router(engine: engine))
    }

    /// Checks a JSON error answer and returns its message.
    @discardableResult
    static func expectError(
        _ response: TestResponse, _ status: HTTPResponse.Status, _ fragment: String, file: StaticString = #filePath,
        line: UInt = #line
    )
        throws -> String
    {
        XCTAssertEqual(response.status, status, file: file, line: line)
        let error = try JSONDecoder().decode(ErrorBody.self, from: Data(response.body.readableBytesView))
        XCTAssertTrue(error.error.contains(fragment), "'\(error.error)' lacks '\(fragment)'", file: file, line: line)
        return error.error
    }

    /// A 20000x20000 JPEG bomb (under 1 KB) and an 8000x8000 one are refused from their
    /// headers; the server answers the next search.
    func testImageBombUploadsAreRefusedAndTheServerKeepsAnswering() async throws {
        let engine = try await Fixtures.engine()
        try await app(engine).test(.router) { client in
            for side in [20000, 8000] {
                try await client.execute(
                    uri: "/api/search?k=2", method: .post, headers: [.contentType: "image/jpeg"],
                    body: ByteBuffer(bytes: Self.jpegBomb(side: side))
                ) { response in
                    try Self.expectError(
                        response, .unprocessableContent, "\(side)x\(side), more than the limit of 25000000 pixels")
                }
            }
            try await client.execute(uri: "/api/search?index=1&k=2", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
            }
        }
    }

    /// A boundary longer than RFC 2046's 70 bytes is refused without echoing it.
    func testLongMultipartBoundaryIsRefusedWithoutEcho() async throws {
        let boundary = String(repeating: "b", count: 70_000)
        let body = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\nx\r\n--\(boundary)--\r\n".utf8)
        try await app(try await Fixtures.engine()).test(.router) { client in
            try await client.execute(
                uri: "/api/search?k=2", method: .post, headers: [.contentType: "multipart/form-data; boundary=\(boundary)"],
                body: ByteBuffer(bytes: body)
            ) { response in
                let message = try Self.expectError(response, .badRequest, "more than the 70 RFC 2046 allows")
                XCTAssertLessThan(message.utf8.count, 200)
            }
        }
    }

    /// Searches by row on a shared IVF index from many threads at once agree with the same
    /// searches run one by one (reconstructing needs the IVF direct map, built at start-up).
    func testConcurrentSearchesOnAnIVFIndex() async throws {
        let model = try await Fixtures.model()
        let rows = try model.embedder.embed(Fixtures.dataset, progress: false).l2Normalized()
        let index = try VectorIndex(dimension: rows.columns, kind: .ivfFlat(lists: 2, probes: 2), metric: .l2)
        try index.train(rows)
        try index.add(rows)
        let engine = try SearchEngine(index: index, dataset: Fixtures.dataset, model: model, provenance: "fixture")
        let serial = try (0..<Fixtures.count).map { try engine.search(row: $0, k: 5) }
        let parallel = try await withThrowingTaskGroup(of: (Int, SearchResponse).self) { group in
            for round in 0..<8 * Fixtures.count {
                group.addTask { (round % Fixtures.count, try engine.search(row: round % Fixtures.count, k: 5)) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for (row, answer) in parallel { XCTAssertEqual(answer, serial[row]) }
    }

    /// Answers never carry the server's folder layout: ids are relative to the folder all
    /// rows share.
    func testSourcesAreRelativeToTheSharedFolder() {
        XCTAssertEqual(
            SearchEngine.relativeIds(["/srv/data/train/cat/1.jpg", "/srv/data/train/dog/2.jpg", "/srv/data/test/cat/3.jpg"]),
            ["train/cat/1.jpg", "train/dog/2.jpg", "test/cat/3.jpg"])
        XCTAssertEqual(SearchEngine.relativeIds(["/srv/a/x.jpg"]), ["x.jpg"])
        XCTAssertEqual(SearchEngine.relativeIds(["batch#1", "batch#2"]), ["batch#1", "batch#2"])
    }

    /// A client that never finishes its request header is disconnected after the idle timeout.
    func testSlowClientIsDisconnected() async throws {
        let app = Application(
            router: SearchAPI.router(engine: try await Fixtures.engine()),
            server: SearchAPI.httpServer(idleTimeout: .milliseconds(500)))
        try await app.test(.live) { client in
            let port = try XCTUnwrap(client.port)
            let socket = try RawSocket(port: port)
            defer { socket.close() }
            socket.send("GET /api/info HTTP/1.1\r\nHost: x\r\n")
            let started = Date()
            XCTAssertTrue(socket.waitForClose(seconds: 10), "the connection stayed open")
            XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        }
    }
}

/// A blocking TCP client socket on 127.0.0.1, for requests no HTTP client would send.
final class RawSocket {
    private let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard status == 0 else { throw POSIXError(.ECONNREFUSED) }
    }

    func send(_ text: String) {
        _ = Array(text.utf8).withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, 0) }
    }

    /// Whether the peer closes the connection within `seconds` (reads until end of file).
    func waitForClose(seconds: Int) -> Bool {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let got = recv(descriptor, &buffer, buffer.count, 0)
            if got == 0 { return true }
            if got < 0 { return errno == ECONNRESET }
        }
    }

    func close() { Glibc.close(descriptor) }
}

/// Sizes from a sidecar that would need tens of gigabytes (or divide by zero) are refused.
final class SidecarBoundsTests: XCTestCase {
    func testAbsurdInputSizeInADescriptionIsRefused() throws {
        for size in [0, 65536, 4_294_967_296] {
            let description = IndexDescription(data: nil, weights: "random", preset: .cifar, inputSize: size, normalized: true)
            XCTAssertThrowsError(try description.check(path: "x.index.json")) { error in
                XCTAssertTrue(
                    "\(error)".contains("x.index.json: \"inputSize\" must be from 8 to 1024, got \(size)"), "\(error)")
            }
        }
        let fine = IndexDescription(data: nil, weights: "random", preset: .cifar, inputSize: 64, normalized: true)
        XCTAssertNoThrow(try fine.check(path: "x.index.json"))
        XCTAssertEqual(fine.preprocessing.size, 64)
    }
}

/// An index of augmented rows reopens its augmented set, and only a sane one.
final class AugmentedDescriptionTests: XCTestCase {
    func testAnAugmentedDescriptionOpensTheAugmentedSet() throws {
        let folder = try temporaryFolder()
        for (name, value) in [("a", UInt8(30)), ("b", UInt8(220))] {
            try FileManager.default.createDirectory(atPath: folder + "/images/" + name, withIntermediateDirectories: true)
            let png = PNGEncoder.encode(RGBImage(width: 8, height: 8, pixels: [UInt8](repeating: value, count: 8 * 8 * 3)))
            try Data(png).write(to: URL(fileURLWithPath: folder + "/images/\(name)/0.png"))
        }
        var description = IndexDescription(
            data: folder + "/images", augmentations: .init(copies: 3, seed: 5), weights: "random", preset: .cifar,
            normalized: true)
        let dataset = try SearchSetup.openDataset(description, indexPath: folder + "/x.index")
        XCTAssertEqual(dataset.count, 6)
        XCTAssertEqual(dataset.labels, [0, 0, 0, 1, 1, 1])
        XCTAssertTrue(dataset.ids[4].hasSuffix("#1"), dataset.ids[4])
        XCTAssertEqual(
            dataset.fingerprint,
            AugmentedDataset(base: try DataSource.open(folder + "/images").train, copies: 3, seed: 5).fingerprint)
        for copies in [0, Int.max] {
            description.augmentations = .init(copies: copies, seed: 5)
            XCTAssertThrowsError(try SearchSetup.openDataset(description, indexPath: folder + "/x.index")) { error in
                XCTAssertTrue("\(error)".contains("\(copies) augmentations per image"), "\(error)")
            }
        }
    }
}
