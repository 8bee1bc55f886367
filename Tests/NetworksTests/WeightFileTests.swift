import Common
import Foundation
import PythonPickle
import TestSupport
import XCTest

@testable import Networks

/// Weight files made by the tests: legacy checkpoints crafted byte by byte, broken views,
/// and invalid values; each must fail with an error naming the file and the problem.
final class WeightFileTests: XCTestCase {
    func write(_ bytes: [UInt8], _ name: String) throws -> String {
        let path = try temporaryFolder() + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    func assertFails(
        _ path: String, _ phrases: String..., kind: FileError.Kind? = nil, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try WeightFile.read(path), file: file, line: line) { error in
            let text = "\(error)"
            if let kind { XCTAssertEqual((error as? FileError)?.kind, kind, text, file: file, line: line) }
            XCTAssertTrue(
                text.contains(URL(fileURLWithPath: path).lastPathComponent), "names the file: \(text)", file: file, line: line)
            for phrase in phrases {
                XCTAssertTrue(text.contains(phrase), "mentions '\(phrase)': \(text)", file: file, line: line)
            }
        }
    }

    func testCraftedLegacyCheckpointReads() throws {
        var builder = LegacyCheckpointBuilder()
        builder.add("a", shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        builder.add("b", shape: [1], values: [-0.5])
        let tensors = try WeightFile.read(try write(builder.bytes, "ok.pth"))
        XCTAssertEqual(tensors["a"]?.shape, [2, 3])
        XCTAssertEqual(tensors["a"]?.values, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(tensors["b"]?.values, [-0.5])
    }

    func testTruncatedLegacyCheckpointIsNamed() throws {
        var builder = LegacyCheckpointBuilder()
        builder.add("weight", shape: [64], values: (0..<64).map(Float.init))
        let bytes = builder.bytes
        assertFails(try write(Array(bytes.dropLast(10)), "cut.pth"), "truncated", "storage 0", kind: .truncated)
        assertFails(try write(Array(bytes.prefix(bytes.count / 3)), "cut-pickle.pth"), "truncated", kind: .truncated)
        // The real fixture, cut in its storages.
        let fixture = try Data(contentsOf: URL(fileURLWithPath: NetworkFixtures.path("tiny-lite-legacy.pth")))
        assertFails(try write(Array(fixture.prefix(fixture.count - 1000)), "cut-lite.pth"), "truncated", kind: .truncated)
    }

    func testLegacyPickleNamingAForeignGlobalIsRefused() throws {
        var builder = LegacyCheckpointBuilder()
        builder.add("weight", shape: [1], values: [1])
        builder.dictGlobal = ("os", "system")
        assertFails(try write(builder.bytes, "evil-legacy.pth"), "os.system is not allowed")
    }

    func testStorageShorterThanItsTensorIsRefused() throws {
        var builder = LegacyCheckpointBuilder()
        builder.add("weight", shape: [8], values: [1, 2])
        builder.entries[0].declaredCount = 2
        assertFails(try write(builder.bytes, "short.pth"), "tensor weight", "needs 8 elements", "holds 2")
        // A storage that declares more elements than it stores.
        var lying = LegacyCheckpointBuilder()
        lying.add("weight", shape: [2], values: [1, 2])
        lying.entries[0].declaredCount = 1000
        assertFails(try write(lying.bytes, "lying.pth"), "truncated: storage 0 needs 1000 elements", kind: .truncated)
    }

    func testOverflowingAndBroadcastViewsAreRefusedBeforeAllocating() throws {
        let storage = TorchCheckpoint.Storage(key: "0", type: "F32")
        let bytes = [UInt8](repeating: 0, count: 64)
        try bytes.withUnsafeBytes { raw in
            let overflow = TorchCheckpoint.View(storage: storage, offset: 0, shape: [2, 2], strides: [Int.max / 2 + 1, 1])
            XCTAssertThrowsError(try TorchCheckpoint.gather(overflow, from: raw, path: "w.pth", name: "x")) { error in
                XCTAssertTrue("\(error)".contains("w.pth") && "\(error)".contains("tensor x"), "\(error)")
            }
            let broadcast = TorchCheckpoint.View(storage: storage, offset: 0, shape: [1 << 36], strides: [0])
            XCTAssertThrowsError(try TorchCheckpoint.gather(broadcast, from: raw, path: "w.pth", name: "y")) { error in
                XCTAssertTrue("\(error)".contains("tensor y") && "\(error)".contains("holds 16"), "\(error)")
            }
            let huge = TorchCheckpoint.View(storage: storage, offset: 0, shape: [1 << 40, 1 << 40], strides: [1, 1])
            XCTAssertThrowsError(try TorchCheckpoint.gather(huge, from: raw, path: "w.pth", name: "z")) { error in
                XCTAssertTrue("\(error)".contains("tensor z"), "\(error)")
            }
            let transposed = TorchCheckpoint.View(storage: storage, offset: 0, shape: [2, 3], strides: [1, 2])
            XCTAssertEqual(try TorchCheckpoint.gather(transposed, from: raw, path: "w.pth", name: "t").shape, [2, 3])
        }
    }

    func testTruncatedZipCheckpointFailsFast() throws {
        let fixture = try Data(contentsOf: URL(fileURLWithPath: NetworkFixtures.path("tiny.pth")))
        let path = try write(Array(fixture.prefix(fixture.count - 30)), "cut-zip.pth")
        let start = Date()
        assertFails(path, "truncated", kind: .truncated)
        XCTAssertLessThan(Date().timeIntervalSince(start), 1, "reported at once")
    }

    func testNegativeVarianceAndNaNWeightsAreNamed() throws {
        let architecture = EfficientNetLiteTests.tiny
        let original = try WeightFile.read(NetworkFixtures.path("tiny-lite-legacy.pth"))
        var tensors = original
        tensors["_blocks.3._bn1.running_var"] = tensors["_blocks.3._bn1.running_var"].map {
            NamedTensor(shape: $0.shape, values: $0.values.map { -$0 })
        }
        XCTAssertThrowsError(try EfficientNetLite(stateDict: tensors, path: "neg.pth", architecture: architecture, model: "tiny"))
        { error in
            XCTAssertTrue(
                "\(error)".contains("neg.pth") && "\(error)".contains("_blocks.3._bn1.running_var holds a negative variance"),
                "\(error)")
        }
        tensors = original
        tensors["_conv_head.weight"] = tensors["_conv_head.weight"].map {
            NamedTensor(shape: $0.shape, values: $0.values.map { _ in .nan })
        }
        XCTAssertThrowsError(try EfficientNetLite(stateDict: tensors, path: "nan.pth", architecture: architecture, model: "tiny"))
        { error in
            XCTAssertTrue("\(error)".contains("nan.pth") && "\(error)".contains("_conv_head.weight holds NaN"), "\(error)")
        }
    }

    func testNonFiniteEmbeddingsAreAnError() throws {
        var tensors = ResNet.randomStateDict(seed: 0, width: 4)
        // Finite tensors whose folded bias overflows: beta - mean * gamma / sqrt(var + eps) = 3e39 -> infinity.
        tensors["layer4.1.bn2.weight"] = NamedTensor(shape: [32], values: [Float](repeating: 10, count: 32))
        tensors["layer4.1.bn2.running_mean"] = NamedTensor(shape: [32], values: [Float](repeating: -3e38, count: 32))
        let network = try ResNet(stateDict: tensors, path: "huge.pth")
        let embedder = Embedder(network: network, preprocessing: .cifar, batchSize: 2, threads: 1)
        XCTAssertThrowsError(try embedder.embed(TinySet(pictures: try NetworkFixtures.images()), progress: false)) { error in
            XCTAssertTrue("\(error)".contains("NaN or infinity") && "\(error)".contains("image 0"), "\(error)")
        }
    }

    func testModelProblemsAreNetworksErrors() async throws {
        do {
            _ = try await Weights.load(.torchvision, model: .efficientnetLite0, cacheFolder: try temporaryFolder())
            XCTFail("torchvision has no EfficientNet-Lite checkpoint")
        } catch NetworksError.noTorchvisionCheckpoint(let model) {
            XCTAssertEqual(model, .efficientnetLite0)
        }
    }
}
