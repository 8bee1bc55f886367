import CollectionStore
import Common
import Foundation
import Hummingbird
import HummingbirdTesting
import SearchService
import TestSupport
import VectorSearch
import XCTest

/// The map of the collection: found beside the index, checked against it, served as binary.
final class CollectionMapTests: XCTestCase {
    /// A layout for the 12 fixture rows: row i at (i, -2i + 0.5).
    static let xy: [Float] = (0..<Fixtures.count).flatMap { [Float($0), Float(-2 * $0) + 0.5] }
    static let clusters = (0..<Fixtures.count).map { $0 % 4 }

    /// A folder holding an (empty) index file and, as asked, the map files beside it; returns the index path.
    func folder(layout: Data?, clusters: Data?) throws -> String {
        let folder = try temporaryFolder()
        let index = folder + "/faiss_index.index"
        XCTAssertTrue(FileManager.default.createFile(atPath: index, contents: Data()))
        if let layout { try layout.write(to: URL(fileURLWithPath: folder + "/" + CollectionFiles.layoutName)) }
        if let clusters { try clusters.write(to: URL(fileURLWithPath: folder + "/" + CollectionFiles.clustersName)) }
        return index
    }

    func testMapBesideTheIndexIsFoundWithItsClusters() throws {
        let index = try folder(layout: NPY.encode(Self.xy, shape: [12, 2]), clusters: NPY.encode(Self.clusters))
        let map = try XCTUnwrap(SearchSetup.map(forIndex: index, rows: 12))
        XCTAssertEqual(map.xy, Self.xy)
        XCTAssertEqual(map.clusters, Self.clusters)
        XCTAssertEqual(map.clusterCount, 4)
        XCTAssertTrue(map.source.hasSuffix("/" + CollectionFiles.layoutName))
    }

    func testNoLayoutMeansNoMapAndClustersAlonePlotNothing() throws {
        XCTAssertNil(try SearchSetup.map(forIndex: try folder(layout: nil, clusters: nil), rows: 12))
        XCTAssertNil(try SearchSetup.map(forIndex: try folder(layout: nil, clusters: NPY.encode(Self.clusters)), rows: 12))
        let layoutOnly = try XCTUnwrap(
            SearchSetup.map(forIndex: try folder(layout: NPY.encode(Self.xy, shape: [12, 2]), clusters: nil), rows: 12))
        XCTAssertNil(layoutOnly.clusters)
        XCTAssertEqual(layoutOnly.clusterCount, 0)
    }

    func testBadMapFilesAreRefusedNamingTheFile() throws {
        let wrongRows = try folder(layout: NPY.encode(Self.xy, shape: [6, 4]), clusters: nil)
        assertThrows(CollectionFiles.layoutName, "expected <f4 [12, 2]") { try SearchSetup.map(forIndex: wrongRows, rows: 12) }
        let other = try folder(layout: NPY.encode(Self.xy, shape: [12, 2]), clusters: nil)
        assertThrows(CollectionFiles.layoutName, "expected <f4 [24, 2]") { try SearchSetup.map(forIndex: other, rows: 24) }
        var nan = Self.xy
        nan[5] = .nan
        let notFinite = try folder(layout: NPY.encode(nan, shape: [12, 2]), clusters: nil)
        assertThrows(CollectionFiles.layoutName, "NaN") { try SearchSetup.map(forIndex: notFinite, rows: 12) }
        let shortClusters = try folder(layout: NPY.encode(Self.xy, shape: [12, 2]), clusters: NPY.encode([0, 1, 2]))
        assertThrows(CollectionFiles.clustersName, "expected <i8 [12]") { try SearchSetup.map(forIndex: shortClusters, rows: 12) }
        let negative = try folder(
            layout: NPY.encode(Self.xy, shape: [12, 2]), clusters: NPY.encode(Self.clusters.map { $0 - 1 }))
        assertThrows(CollectionFiles.clustersName, "from 0 to 65534") { try SearchSetup.map(forIndex: negative, rows: 12) }
        let garbage = try folder(layout: Data("not numpy".utf8), clusters: nil)
        assertThrows(CollectionFiles.layoutName, "not a .npy") { try SearchSetup.map(forIndex: garbage, rows: 12) }
        assertThrows("/nowhere/xy.npy", "no such file") {
            try SearchSetup.map(forIndex: other, rows: 12, layout: "/nowhere/xy.npy")
        }
    }

    func testWebClientsSeeFileNamesButNeverTheServersFolders() async throws {
        let engine = try await Fixtures.engine()
        let map = try CollectionMap(xy: Self.xy, clusters: nil, source: "/srv/private/outputs/tsne-train.npy")
        try await Application(router: SearchAPI.router(engine: engine, map: map)).test(.router) { client in
            for uri in ["/api/info", "/"] {
                try await client.execute(uri: uri, method: .get) { response in
                    let body = String(decoding: response.body.readableBytesView, as: UTF8.self)
                    XCTAssertTrue(body.contains("tsne-train.npy"), uri)
                    XCTAssertFalse(body.contains("/srv/private"), "\(uri): \(body.prefix(300))")
                }
            }
        }
        XCTAssertEqual(SearchSetup.publicName("/srv/models/lite0.pth"), "lite0.pth")
        XCTAssertEqual(SearchSetup.publicName("../weights/r18.safetensors"), "r18.safetensors")
        XCTAssertEqual(SearchSetup.publicName("random weights (seed 7)"), "random weights (seed 7)")
    }

    func testMapRouteSendsFloat32PointsThenClassesThenClusters() async throws {
        let engine = try await Fixtures.engine()
        let map = try CollectionMap(xy: Self.xy, clusters: Self.clusters, source: "fixture.npy")
        try await Application(router: SearchAPI.router(engine: engine, map: map)).test(.router) { client in
            try await client.execute(uri: "/api/map", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertEqual(response.headers[.contentType], "application/octet-stream")
                let bytes = [UInt8](response.body.readableBytesView)
                XCTAssertEqual(bytes.count, 12 * 12)
                let floats = (0..<24).map { (i: Int) -> Float in
                    var word: UInt32 = 0
                    for byte in 0..<4 { word |= UInt32(bytes[4 * i + byte]) << UInt32(8 * byte) }
                    return Float(bitPattern: word)
                }
                let shorts = (0..<24).map { (i: Int) -> Int in Int(bytes[96 + 2 * i]) | Int(bytes[97 + 2 * i]) << 8 }
                XCTAssertEqual(floats, Self.xy)
                XCTAssertEqual(Array(shorts[0..<12]), Fixtures.dataset.labels)
                XCTAssertEqual(Array(shorts[12...]), Self.clusters)
            }
            try await client.execute(uri: "/api/info", method: .get) { response in
                let info = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                let mapInfo = info?["map"] as? [String: Any]
                XCTAssertEqual(mapInfo?["count"] as? Int, 12)
                XCTAssertEqual(mapInfo?["clusters"] as? Int, 4)
                XCTAssertNil(info?["mapHint"])
                XCTAssertEqual(info?["inputSide"] as? Int, 32)
            }
        }
    }

    func testUnclusteredMapMarksEveryClusterAsNone() {
        let map = try? CollectionMap(xy: [1, 2, 3, 4], clusters: nil, source: "two.npy")
        let bytes = map?.encoded(labels: nil) ?? []
        XCTAssertEqual(bytes.count, 24)
        XCTAssertEqual(Array(bytes[16...]), [UInt8](repeating: 0xFF, count: 8))
    }

    func testWithoutAMapTheAPISaysHowToMakeOne() async throws {
        try await Application(router: SearchAPI.router(engine: try await Fixtures.engine())).test(.router) { client in
            try await client.execute(uri: "/api/map", method: .get) { response in
                XCTAssertEqual(response.status, .notFound)
                let error = try decodeJSON(SearchAPITests.ErrorBody.self, response)
                XCTAssertTrue(error.error.contains("pic2vec tsne"), error.error)
                XCTAssertTrue(error.error.contains(CollectionFiles.layoutName), error.error)
            }
            try await client.execute(uri: "/api/info", method: .get) { response in
                let info = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                XCTAssertNil(info?["map"])
                XCTAssertEqual(info?["mapHint"] as? String, SearchSetup.mapHint)
            }
        }
    }

    func testThePageCarriesTheInfoAndNoStringInItClosesTheScript() async throws {
        let rows = try await Fixtures.model().embedder.embed(Fixtures.dataset, progress: false).l2Normalized()
        let index = try VectorIndex(dimension: rows.columns, kind: .flat, metric: .l2)
        try index.add(rows)
        let engine = try SearchEngine(
            index: index, dataset: Fixtures.dataset, model: nil, provenance: "weights </script><script>alert(1)</script>",
            limits: SearchLimits())
        try await Application(router: SearchAPI.router(engine: engine)).test(.router) { client in
            try await client.execute(uri: "/", method: .get) { response in
                let html = String(buffer: response.body)
                XCTAssertEqual(html.components(separatedBy: "</script>").count, 2, "one script element, closed once")
                XCTAssertTrue(html.contains("const info = {"))
                XCTAssertTrue(html.contains("\"count\":12"))
                XCTAssertTrue(html.contains("weights \\u003c\\/script>"), "the provenance, escaped")
            }
        }
    }

    func testThePagesScriptIsValidJavaScript() async throws {
        let node = ["/usr/bin/node", "/usr/bin/nodejs", "/usr/local/bin/node"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        guard let node else { throw XCTSkip("no node to check the script with (setup.sh installs nodejs)") }
        let map = try CollectionMap(xy: Self.xy, clusters: Self.clusters, source: "tsne-train.npy")
        let html = try await Application(router: SearchAPI.router(engine: try await Fixtures.engine(), map: map)).test(
            .router
        ) { client in
            try await client.execute(uri: "/", method: .get) { response in String(buffer: response.body) }
        }
        let start = try XCTUnwrap(html.range(of: "<script>")), end = try XCTUnwrap(html.range(of: "</script>"))
        let script = String(html[start.upperBound..<end.lowerBound])
        let file = try temporaryFolder() + "/page.js"
        try script.write(toFile: file, atomically: true, encoding: .utf8)
        let check = Process()
        check.executableURL = URL(fileURLWithPath: node)
        check.arguments = ["--check", file]
        let errors = Pipe()
        check.standardError = errors
        try check.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        check.waitUntilExit()
        XCTAssertEqual(check.terminationStatus, 0, "node --check: \(message)")
        XCTAssertGreaterThan(script.count, 1000, "the page's script was found")
    }

    func testEveryImageAndControlOnThePageIsLabelled() async throws {
        try await Application(router: SearchAPI.router(engine: try await Fixtures.engine())).test(.router) { client in
            try await client.execute(uri: "/", method: .get) { response in
                let html = String(buffer: response.body)
                let tags = { (name: String) in
                    html.components(separatedBy: "<" + name + " ").dropFirst().map { $0.prefix { $0 != ">" } }
                }
                XCTAssertFalse(tags("img").isEmpty)
                for img in tags("img") { XCTAssertTrue(img.contains("alt="), "<img \(img)> has no alt") }
                for input in tags("input") where !input.contains("type=\"radio\"") {
                    XCTAssertTrue(input.contains("aria-label="), "<input \(input)> has no aria-label")
                }
                XCTAssertTrue(tags("canvas").allSatisfy { $0.contains("aria-label=") })
                XCTAssertTrue(html.contains("fetch(\"/api/map\")"))
                XCTAssertTrue(html.contains("new Float32Array(buffer"))
            }
        }
    }
}
