import Common
import Foundation
import ImageData
import TestSupport
import XCTest

@testable import Networks

/// Parity with torch on the fixtures of `benchmarks/make_resnet_fixtures.py`: a width-4
/// network with ResNet18's topology and random batch-norm statistics, real CIFAR-10 images,
/// and the embeddings torch computed for them.
final class ResNetTests: XCTestCase {
    func fixture(_ name: String) -> String { NetworkFixtures.path(name) }

    func array(_ name: String) throws -> NPY.Array { try NetworkFixtures.array(name) }

    func images() throws -> [RGBImage] { try NetworkFixtures.images() }

    func network(_ file: String) throws -> any ImageNetwork { try Weights.loadFile(fixture(file), label: file).network }

    func checkParity(
        _ network: any ImageNetwork, preset: Preprocessing, batch: Int = 3, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let embedder = Embedder(network: network, preprocessing: preset, batchSize: batch, threads: 2)
        let result = embedder.embed(try images())
        let expected = try array("expected-\(preset.name).npy")
        XCTAssertEqual([result.rows, result.columns], expected.shape, file: file, line: line)
        assertClose(result.values, expected.floats, rtol: 1e-4, atol: 1e-4, "\(preset.name) preset", file: file, line: line)
    }

    func testTorchCheckpointMatchesTorchAtCifarPreset() throws {
        try checkParity(try network("tiny.pth"), preset: .cifar)
    }

    func testTorchCheckpointMatchesTorchAtImagenetPreset() throws {
        try checkParity(try network("tiny.pth"), preset: .imagenet, batch: 5)
    }

    func testHuggingFaceSafetensorsMatchTorch() throws {
        try checkParity(try network("tiny-hf.safetensors"), preset: .cifar)
    }

    func testPrefixedSafetensorsWithClassifierMatchTorch() throws {
        try checkParity(try network("tiny-prefixed.safetensors"), preset: .cifar, batch: 1)
    }

    func testEmbedderReadsDataSetsAndLimits() throws {
        let set = TinySet(pictures: try images())
        let embedder = Embedder(network: try network("tiny.pth"), preprocessing: .cifar, batchSize: 2)
        let all = try embedder.embed(set, progress: false)
        assertClose(all.values, try array("expected-cifar.npy").floats, rtol: 1e-4, atol: 1e-4)
        let some = try embedder.embed(set, limit: 2, progress: false)
        XCTAssertEqual(some.rows, 2)
        XCTAssertEqual(Array(some.row(1)), Array(all.row(set.count / 2)), "limit spreads rows over the set")
        XCTAssertThrowsError(try embedder.embed(TinySet(pictures: try images(), broken: 3), progress: false)) { error in
            XCTAssertTrue("\(error)".contains("image 3"), "\(error)")
        }
    }

    func testResizeMatchesTorchAntialiasedBilinear() throws {
        let odd = try array("odd.npy")
        let unit = odd.floats.map { $0 / 255 }
        for size in [20, 50] {
            let resized = Preprocessing.resize(unit, width: odd.shape[1], height: odd.shape[0], to: size, size)
            assertClose(resized, try array("resize-\(size).npy").floats, rtol: 1e-5, atol: 1e-6, "size \(size)")
        }
    }

    func testPresetsNormalize() throws {
        var out = [Float](repeating: 0, count: Preprocessing.cifar.valuesPerImage)
        Preprocessing.cifar.write(RGBImage(width: 32, height: 32, pixels: [UInt8](repeating: 255, count: 3072)), to: &out)
        XCTAssertEqual(Set(out), [1])
        XCTAssertEqual(Preprocessing.preset("imagenet")?.size, 224)
        XCTAssertNil(Preprocessing.preset("nope"))
    }

    func testForeignGlobalInCheckpointIsRejected() {
        XCTAssertThrowsError(try WeightFile.read(fixture("evil.pth"))) { error in
            XCTAssertTrue("\(error)".contains("evil.pth"), "\(error)")
            XCTAssertTrue("\(error)".contains("posix.system"), "\(error)")
        }
    }

    func testTruncatedCheckpointIsRejected() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: fixture("tiny.pth")))
        let path = try temporaryFolder() + "/cut.pth"
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path))
        assertThrows(kind: .truncated, "cut.pth", "truncated") { try WeightFile.read(path) }
    }

    func testSafetensorsHeaderLargerThanFileIsRejected() throws {
        let path = try temporaryFolder() + "/big.safetensors"
        try Data([0xFF, 0xFF, 0, 0, 0, 0, 0, 0] + Array("{}".utf8)).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try WeightFile.read(path)) { error in
            XCTAssertTrue("\(error)".contains("larger than the file"), "\(error)")
        }
    }

    /// A crafted safetensors file whose tensors share bytes, or whose shape overflows, is refused.
    func testSafetensorsOverlappingOrOverflowingTensorsAreRejected() throws {
        func file(_ header: String, dataBytes: Int) throws -> String {
            let json = Array(header.utf8)
            let length = UInt64(json.count)
            let prefix = (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * UInt64($0))) }
            let path = try temporaryFolder() + "/crafted-\(UUID().uuidString).safetensors"
            try Data(prefix + json + [UInt8](repeating: 0, count: dataBytes)).write(to: URL(fileURLWithPath: path))
            return path
        }
        let overlapping = try file(
            #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}"#,
            dataBytes: 24)
        XCTAssertThrowsError(try WeightFile.read(overlapping)) { error in
            XCTAssertTrue("\(error)".contains("overlap"), "\(error)")
        }
        let overflowing = try file(
            #"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,16]}}"#, dataBytes: 16)
        XCTAssertThrowsError(try WeightFile.read(overflowing)) { error in
            XCTAssertTrue("\(error)".contains("does not fill"), "\(error)")
        }
    }

    func testMissingMisshapedAndNaNTensorsAreNamed() throws {
        let tensors = try WeightFile.read(fixture("tiny.pth"))
        var missing = tensors
        missing["layer3.1.bn2.running_var"] = nil
        assertThrows(kind: .mismatch, "w.pth", "missing tensor layer3.1.bn2.running_var") {
            try ResNet(stateDict: missing, path: "w.pth")
        }
        var misshaped = tensors
        misshaped["layer2.0.conv1.weight"] = NamedTensor(shape: [8, 4, 3, 1], values: [Float](repeating: 0, count: 96))
        assertThrows(kind: .wrongShape, "layer2.0.conv1.weight has shape [8, 4, 3, 1], expected [8, 4, 3, 3]") {
            try ResNet(stateDict: misshaped, path: "w.pth")
        }
        var poisoned = tensors
        poisoned["bn1.bias"] = NamedTensor(shape: [4], values: [0, .nan, 0, 0])
        XCTAssertThrowsError(try ResNet(stateDict: poisoned, path: "w.pth")) { error in
            XCTAssertTrue("\(error)".contains("bn1.bias holds NaN"), "\(error)")
        }
    }

    func testRandomWeightsAreDeterministicAndLabeled() throws {
        let a = try ResNet(stateDict: ResNet.randomStateDict(seed: 7, width: 4), path: "random", isRandom: true)
        let b = try ResNet(stateDict: ResNet.randomStateDict(seed: 7, width: 4), path: "random", isRandom: true)
        let c = try ResNet(stateDict: ResNet.randomStateDict(seed: 8, width: 4), path: "random", isRandom: true)
        let pictures = Array(try images().prefix(2))
        let embed = { (network: ResNet) in Embedder(network: network, preprocessing: .cifar, batchSize: 2).embed(pictures).values
        }
        XCTAssertEqual(embed(a), embed(b))
        XCTAssertNotEqual(embed(a), embed(c))
        XCTAssertEqual(WeightsSource("random", seed: 3).description, "random weights (seed 3)")
        let std = ResNet.randomStateDict(seed: 1)["layer4.1.conv2.weight"].map { t in
            (t.values.map { $0 * $0 }.reduce(0, +) / Float(t.values.count)).squareRoot()
        }
        XCTAssertEqual(std ?? 0, (2 / Float(512 * 9)).squareRoot(), accuracy: 1e-3)
    }
}

/// A labeled in-memory data set for Embedder tests; image `broken` fails to decode.
struct TinySet: ImageDataset {
    let pictures: [RGBImage]
    var broken: Int?
    var name: String { "tiny" }
    var count: Int { pictures.count }
    var labels: [Int]? { Array(0..<pictures.count) }
    var classNames: [String] { pictures.indices.map { "class \($0)" } }
    var ids: [String] { pictures.indices.map { "image \($0)" } }
    var fingerprint: String { "tiny" }

    func image(at index: Int) throws -> RGBImage {
        if index == broken { throw FileError("image \(index)", "cannot decode") }
        return pictures[index]
    }

    func subset(_ rows: [Int]) -> any ImageDataset { TinySet(pictures: rows.map { pictures[$0] }) }
}
