import CollectionStore
import Common
import Foundation
import ImageData
import Networks
import TestSupport
import VectorSearch
import XCTest

/// The collection's files: named once, written as one unit, labels found the same way by every reader.
final class CollectionFilesTests: XCTestCase {
    private func smallIndex(rows: Int = 6) throws -> VectorIndex {
        let index = try VectorIndex(dimension: 4, kind: .flat, metric: .l2)
        try index.add(Matrix(rows: rows, columns: 4, values: (0..<rows * 4).map { Float($0 % 7) }))
        return index
    }

    private let description = IndexDescription(
        data: "photos", split: .test, model: .efficientnetLite0, weights: "lite0.pth", preset: .imagenet,
        normalized: true, shard: try! Shard(index: 1, count: 4), precision: .bf16)

    func testTheLayoutIsNamedFromTheIndex() {
        let files = CollectionFiles(index: "/srv/out/x.index")
        XCTAssertEqual(files.descriptionPath, "/srv/out/x.index.json")
        XCTAssertEqual(files.labelsPath, "/srv/out/x.index.labels.npy")
        XCTAssertEqual(files.notebookLabelsPath, "/srv/out/labels.npy")
        XCTAssertEqual(files.rerankHeaderPath, "/srv/out/x.index.rerank.json")
        XCTAssertEqual(files.layoutPath, "/srv/out/tsne-train.npy")
        XCTAssertEqual(files.clustersPath, "/srv/out/kmeans-assignments.npy")
        // Relative paths stay relative: they are printed in the report.
        let notebook = CollectionFiles.notebook(in: "outputs")
        XCTAssertEqual(notebook.index, "outputs/faiss_index.index")
        XCTAssertEqual(notebook.layoutPath, "outputs/tsne-train.npy")
        XCTAssertEqual(notebook.notebookEmbeddingsPath, "outputs/embeddings.npy")
        XCTAssertEqual(CollectionFiles(index: "x.index").notebookLabelsPath, "labels.npy")
    }

    func testWriteReplacesIndexDescriptionAndLabelsTogether() throws {
        let folder = try temporaryFolder()
        let files = CollectionFiles(index: folder + "/x.index")
        try files.write(try smallIndex(), description: description, labels: [0, 1, 2, 0, 1, 2])
        XCTAssertEqual(try files.readDescription(), description)
        XCTAssertEqual(try files.readLabels(rows: 6), [0, 1, 2, 0, 1, 2])
        XCTAssertEqual(try VectorIndex(contentsOf: files.index).count, 6)

        try files.write(try smallIndex(rows: 3), description: nil, labels: nil)
        XCTAssertNil(try files.readDescription(), "a description the new index has no use for is removed")
        XCTAssertFalse(FileManager.default.fileExists(atPath: files.labelsPath), "so are old labels")
        XCTAssertEqual(try VectorIndex(contentsOf: files.index).count, 3)
    }

    func testAFailedWriteLeavesThePreviousFiles() throws {
        let folder = try temporaryFolder()
        let files = CollectionFiles(index: folder + "/x.index")
        try files.write(try smallIndex(), description: description, labels: [0, 1, 2, 0, 1, 2])
        struct Interrupted: Error {}
        XCTAssertThrowsError(
            try files.write(try smallIndex(rows: 2), description: nil, labels: [5, 5]) { _ in throw Interrupted() })
        XCTAssertEqual(try VectorIndex(contentsOf: files.index).count, 6)
        XCTAssertEqual(try files.readDescription(), description)
        XCTAssertEqual(try files.readLabels(rows: 6), [0, 1, 2, 0, 1, 2])
    }

    func testTheIndexsOwnLabelsComeFirstThenTheNotebooks() throws {
        let folder = try temporaryFolder()
        let files = CollectionFiles(index: folder + "/faiss_index.index")
        XCTAssertNil(try files.readLabels(rows: 3), "no labels anywhere")
        try NPY.encode([7, 8, 9]).write(to: URL(fileURLWithPath: files.notebookLabelsPath))
        XCTAssertEqual(try files.readLabels(rows: 3), [7, 8, 9], "the notebook's labels.npy, as experiment 03 writes it")
        XCTAssertNil(try files.readLabels(rows: 4), "a folder's labels of another length belong to other rows")
        try NPY.encode([1, 2, 3]).write(to: URL(fileURLWithPath: files.labelsPath))
        XCTAssertEqual(try files.readLabels(rows: 3), [1, 2, 3], "the index's own labels win")
        assertThrows(kind: .wrongShape, files.labelsPath, "one label per index row") { try files.readLabels(rows: 4) }
    }

    func testDescriptionsStoreTypedValuesAndReadOldOnes() throws {
        let encoded = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: description.encoded()) as? [String: Any])
        XCTAssertEqual(encoded["model"] as? String, "efficientnet-lite0")
        XCTAssertEqual(encoded["preset"] as? String, "imagenet")
        XCTAssertEqual(encoded["split"] as? String, "test")
        XCTAssertEqual(encoded["shard"] as? String, "1/4")
        XCTAssertEqual(encoded["precision"] as? String, "bf16")

        // Written before models and precisions could be chosen: ResNet18 at fp32.
        let old = Array(
            #"{"data": "cifar10", "split": "train", "weights": "random", "seed": 0, "preset": "cifar", "normalized": true}"#.utf8)
        let decoded = try IndexDescription.decode(old, path: "old.json")
        XCTAssertEqual(decoded.network, .resnet18)
        XCTAssertEqual(decoded.arithmetic, .fp32)
        XCTAssertEqual(decoded.preprocessing, .cifar)
        XCTAssertNil(decoded.shard)
    }

    func testUnknownValuesAreRefusedNamingTheField() throws {
        for (field, value) in [
            ("model", "resnet19"), ("preset", "tiny"), ("split", "validation"), ("precision", "fp8"), ("shard", "4/4"),
        ] {
            var object: [String: Any] = [
                "split": "train", "weights": "random", "seed": 0, "preset": "cifar", "normalized": true,
            ]
            object[field] = value
            let json = try JSONSerialization.data(withJSONObject: object)
            assertThrows(kind: .malformed, "d.json", "\"\(field)\"") {
                try IndexDescription.decode(Array(json), path: "d.json")
            }
        }
    }
}
