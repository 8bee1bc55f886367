import CollectionStore
import Foundation
import Hummingbird
import HummingbirdTesting
import ImageData
import SearchService
import VectorSearch
import XCTest

/// The audit routes: pages of tiered duplicate pairs and label issues, and marks saved atomically beside the index.
final class AuditAPITests: XCTestCase {
    struct Image: Decodable {
        var row: Int
        var path: String
        var mark: String?
    }
    struct Pair: Decodable {
        var tier: String
        var pixelDistance: Float
        var networkDistance: Float
        var images: [Image]
    }
    struct Issue: Decodable {
        var image: Image
        var suggested: String
    }
    struct Answer: Decodable {
        var generation: Int
        var total: Int
        var tiers: [String: Int]
        var labelsChecked: Bool
        var pairs: [Pair]?
        var labelIssues: [Issue]?
    }
    struct Marks: Decodable {
        struct Entry: Decodable, Equatable {
            var path: String
            var mark: String
        }
        var schema: String
        var marks: [Entry]
    }

    private var folder = ""

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "/pic2vec-audit-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: folder) }

    /// The fixture's 12 images plus an exact copy of row 2 (row 12) and a 10% brighter copy of row 5
    /// (row 13, added without a label: -1), indexed; a desk with marks in `folder`.
    private func app() async throws -> (some ApplicationProtocol, AuditDesk) {
        let base = Fixtures.dataset
        let rows = (0..<base.count).map { $0 } + [2, 5]
        let brighter = try base.image(at: 5).pixels.map { UInt8(min(255, (Double($0) * 1.1).rounded())) }
        let dataset = InMemoryDataset(
            name: "audit", width: 8, height: 8, pixels: try rows.dropLast().flatMap { try base.image(at: $0).pixels } + brighter,
            ids: rows.enumerated().map { "fixture/\(Fixtures.classNames[$1 % 3])/\($0).png" },
            labels: rows.indices.map { $0 == 13 ? -1 : rows[$0] % 3 },
            classNames: Fixtures.classNames)
        let model = try await Fixtures.model()
        let points = try model.embedder.embed(dataset, progress: false).l2Normalized()
        let index = try VectorIndex(dimension: points.columns, kind: .flat, metric: .l2)
        try index.add(points)
        let engine = try SearchEngine(index: index, dataset: dataset, model: nil, provenance: "fixture, random weights")
        let desk = try AuditDesk(files: CollectionFiles(index: folder + "/x.index"), trainedWeights: false)
        let collection = LiveCollection(LiveCollection.State(engine: engine, map: nil, generation: 3))
        return (Application(router: SearchAPI.router(collection, audit: desk)), desk)
    }

    func testPagesOfPairsAndIssuesAndMarksSavedBesideTheIndex() async throws {
        let (app, desk) = try await app()
        try await app.test(.router) { client in
            let all = try await client.execute(uri: "/api/audit?view=duplicates&per=100", method: .get) {
                try decodeJSON(Answer.self, $0)
            }
            XCTAssertEqual(all.generation, 3)
            let pairs = try XCTUnwrap(all.pairs)
            XCTAssertEqual(all.total, pairs.count)
            XCTAssertEqual(all.tiers.values.reduce(0, +), all.total)
            let identical = pairs.filter { $0.tier == "identical" }
            XCTAssertEqual(identical.map { $0.images.map(\.row) }, [[2, 12]], "the copy, and only it, is identical")
            XCTAssertEqual(identical.first?.pixelDistance ?? 1, 0, accuracy: 1e-6)
            XCTAssertEqual(pairs.first?.tier, "identical", "strictest tier first")
            let near = pairs.filter { $0.tier == "near-duplicate" }.map { $0.images.map(\.row) }
            XCTAssertTrue(near.contains([5, 13]), "the brighter copy is a near-duplicate: \(near)")
            XCTAssertGreaterThanOrEqual(pairs.count, 2)

            let second = try await client.execute(uri: "/api/audit?view=duplicates&page=1&per=1", method: .get) {
                try decodeJSON(Answer.self, $0)
            }
            XCTAssertEqual(second.pairs?.map { $0.images.map(\.row) }, [pairs[1].images.map(\.row)])
            let beyond = try await client.execute(uri: "/api/audit?view=duplicates&page=1000&per=10", method: .get) {
                try decodeJSON(Answer.self, $0)
            }
            XCTAssertEqual(beyond.pairs?.count, 0)
            let huge = try await client.execute(uri: "/api/audit?view=labels&page=\(Int.max)&per=100", method: .get) {
                try decodeJSON(Answer.self, $0)
            }
            XCTAssertEqual(huge.labelIssues?.count, 0, "a page number too large to multiply is past the end")

            let labels = try await client.execute(uri: "/api/audit?view=labels", method: .get) { try decodeJSON(Answer.self, $0) }
            XCTAssertTrue(labels.labelsChecked)
            XCTAssertFalse(
                try XCTUnwrap(labels.labelIssues).contains { $0.image.row == 13 }, "an unlabelled image is not checked")

            let mark = #"{"row": 12, "mark": "duplicate", "generation": 3}"#
            try await client.execute(
                uri: "/api/audit/marks", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: mark)
            ) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertEqual(try decodeJSON(Image.self, response).mark, "duplicate")
            }
            let saved = try JSONDecoder().decode(
                Marks.self, from: Data(contentsOf: URL(fileURLWithPath: desk.files.auditMarksPath)))
            XCTAssertEqual(saved.schema, "pic2vec-audit-marks/1")
            XCTAssertEqual(saved.marks, [Marks.Entry(path: "fixture/bluish/12.png", mark: "duplicate")])
            let marked = try await client.execute(uri: "/api/audit?view=duplicates&per=1", method: .get) {
                try decodeJSON(Answer.self, $0)
            }
            XCTAssertEqual(marked.pairs?.first?.images.map(\.mark), [nil, "duplicate"])
            try await client.execute(uri: "/api/audit/marks", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertTrue(response.headers[.contentDisposition]?.contains("attachment") == true)
                XCTAssertEqual(try decodeJSON(Marks.self, response).marks.count, 1)
            }

            for (body, status) in [
                (#"{"row": 12, "mark": "keep", "generation": 2}"#, HTTPResponse.Status.conflict),
                (#"{"row": 12, "mark": "maybe", "generation": 3}"#, .badRequest),
                (#"{"row": 99, "mark": "keep", "generation": 3}"#, .notFound),
            ] {
                try await client.execute(
                    uri: "/api/audit/marks", method: .post, headers: [.contentType: "application/json"],
                    body: ByteBuffer(string: body)
                ) { response in
                    XCTAssertEqual(response.status, status, body)
                }
            }
            try await client.execute(
                uri: "/api/audit/marks", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"row": 12, "mark": null, "generation": 3}"#)
            ) { XCTAssertEqual($0.status, .ok) }
            let cleared = try JSONDecoder().decode(
                Marks.self, from: Data(contentsOf: URL(fileURLWithPath: desk.files.auditMarksPath)))
            XCTAssertEqual(cleared.marks, [])
            try await client.execute(uri: "/api/audit?view=everything", method: .get) { XCTAssertEqual($0.status, .badRequest) }
            try await client.execute(uri: "/audit", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertTrue(String(buffer: response.body).contains("Pic2Vec audit"))
            }
        }
    }

    func testMarksFromAnEarlierRunAreReadAndADamagedFileIsNamed() async throws {
        let path = folder + "/x.index.audit.json"
        try Data(#"{"schema": "pic2vec-audit-marks/1", "marks": [{"path": "a.png", "mark": "keep"}]}"#.utf8)
            .write(to: URL(fileURLWithPath: path))
        let files = CollectionFiles(index: folder + "/x.index")
        XCTAssertEqual(files.auditMarksPath, path)
        XCTAssertEqual(try files.readAuditMarks()?.byPath, ["a.png": .keep])
        XCTAssertNoThrow(try AuditDesk(files: files, trainedWeights: true))
        for damaged in [
            #"{"schema": "pic2vec-audit-marks/1", "marks": [{"path": "a.png", "mark": "gone"}]}"#,
            #"{"schema": "pic2vec-audit-marks/9", "marks": []}"#, #"{"schema": "pic2vec-audit-ma"#,
        ] {
            try Data(damaged.utf8).write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try AuditDesk(files: files, trainedWeights: true), damaged) { error in
                XCTAssertTrue("\(error)".contains(path), "\(error)")
            }
        }
        // A FIFO where the file should be is refused, not read (which would block).
        try FileManager.default.removeItem(atPath: path)
        XCTAssertEqual(mkfifo(path, 0o600), 0)
        XCTAssertThrowsError(try AuditDesk(files: files, trainedWeights: true)) { error in
            XCTAssertTrue("\(error)".contains(path), "\(error)")
        }
    }
}
