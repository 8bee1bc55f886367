import CollectionStore
import Common
import Foundation
import Networks
import TestSupport
import XCTest

/// `pic2vec embed`'s files: written together, and the origin an index inherits read back.
final class EmbeddingOutputTests: XCTestCase {
    func testTheSidecarCarriesTheOriginAndTheLabelsGoBesideTheRows() async throws {
        let folder = try temporaryFolder()
        let output = EmbeddingOutput(path: folder + "/emb.npy")
        XCTAssertEqual(output.defaultLabelsPath, folder + "/emb.labels.npy")
        XCTAssertNil(try output.origin(), "no sidecar yet")
        let weights = try await Weights.load(.random(seed: 3), model: .resnet18)
        let origin = IndexDescription(
            data: "images", weights: "random", seed: 3, weightsHash: weights.hash, preset: .cifar, normalized: false,
            shard: try Shard(index: 0, count: 2), precision: .fp32)
        let rows = Matrix(rows: 2, columns: 3, values: [1, 2, 3, 4, 5, 6])
        try output.write(
            rows, labels: [4, 5],
            sidecar: EmbeddingSidecar(
                weights: weights, preprocessing: .cifar, data: "images", dataFingerprint: "f", embeddings: rows,
                labels: output.defaultLabelsPath, seconds: 0.5, origin: origin))
        XCTAssertEqual(try output.origin(), origin)
        XCTAssertEqual(try NPY.read(output.defaultLabelsPath).ints, [4, 5])
        XCTAssertEqual(try Matrix.read(npy: output.path).values, rows.values)
        let sidecar = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: output.sidecarPath))) as? [String: Any])
        XCTAssertEqual(sidecar["imagesPerSecond"] as? Double, 4)
        XCTAssertEqual(sidecar["shard"] as? String, "0/2")
        XCTAssertEqual(sidecar["model"] as? String, "resnet18")

        // Unlabeled rows take the old labels away with them.
        try output.write(
            rows, labels: nil,
            sidecar: EmbeddingSidecar(
                weights: weights, preprocessing: .cifar, data: "images", dataFingerprint: "f", embeddings: rows, labels: nil,
                seconds: 0.5, origin: origin))
        XCTAssertFalse(FileManager.default.fileExists(atPath: output.defaultLabelsPath))
    }

    func testASidecarWithoutAnOriginIsRefusedNamingIt() throws {
        let folder = try temporaryFolder()
        let output = EmbeddingOutput(path: folder + "/emb.npy")
        try Data(#"{"model": "resnet18", "labels": null}"#.utf8).write(to: URL(fileURLWithPath: output.sidecarPath))
        assertThrows(kind: .malformed, output.sidecarPath, "\"origin\" is missing") { try output.origin() }
        try Data(
            #"{"origin": {"split": "train", "weights": "random", "seed": 0, "preset": "cifar", "normalized": false, "limit": -1}}"#
                .utf8
        )
        .write(to: URL(fileURLWithPath: output.sidecarPath))
        assertThrows(kind: .malformed, output.sidecarPath, "\"limit\"") { try output.origin() }
    }
}
