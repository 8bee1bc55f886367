import Common
import Foundation
import ImageData
import TestSupport
import XCTest

@testable import Networks

/// Parity with the reference package on the fixtures of `benchmarks/make_model_fixtures.py`:
/// a reduced EfficientNet-Lite (width 0.25, depth 0.5) saved in PyTorch's legacy format with
/// float16 tensors, and the features the reference computed for real CIFAR-10 images.
final class EfficientNetLiteTests: XCTestCase {
    static let tiny = EfficientNetLite.Architecture(widthMultiplier: 0.25, depthMultiplier: 0.5, resolution: 36)

    func tinyNetwork() throws -> EfficientNetLite {
        let path = NetworkFixtures.path("tiny-lite-legacy.pth")
        return try EfficientNetLite(stateDict: WeightFile.read(path), path: path, architecture: Self.tiny, model: "tiny Lite")
    }

    func checkParity(size: Int, level: SIMDLevel? = nil, file: StaticString = #filePath, line: UInt = #line) throws {
        let network = try tinyNetwork()
        let preprocessing = Preprocessing.cifar.resized(to: size)
        let images = try NetworkFixtures.images()
        var values: [Float] = []
        for image in images {
            var x = [Float](repeating: 0, count: preprocessing.valuesPerImage)
            preprocessing.write(image, to: &x)
            let input = Tensor(batch: 1, height: size, width: size, channels: 3, values: x)
            if let level {
                var y = network.stem(input, activation: .relu6, level: level)
                for block in network.blocks { y = block.fused(y, level: level) }
                values += globalAveragePool(network.head(y, activation: .relu6, level: level))
            } else {
                values += network(input)
            }
        }
        let expected = try NetworkFixtures.array("expected-lite-\(size).npy")
        XCTAssertEqual([images.count, network.outputDimension], expected.shape, file: file, line: line)
        assertClose(values, expected.floats, rtol: 1e-4, atol: 1e-4, "size \(size)", file: file, line: line)
    }

    func testLegacyFloat16CheckpointMatchesReferenceAt32() throws {
        try checkParity(size: 32)
    }

    func testSamePaddingOnOddMapsMatchesReferenceAt36() throws {
        try checkParity(size: 36)
    }

    func testEveryLevelOfTheFusedBlocksMatchesTheReference() throws {
        for level in SIMDLevel.supported {
            try checkParity(size: 36, level: level)
        }
    }

    func testTopologyTableMatchesTheReferenceStateDict() throws {
        let tensors = try WeightFile.read(NetworkFixtures.path("tiny-lite-legacy.pth"))
        let names = Set(Self.tiny.layers.flatMap { $0.tensors.map(\.name) })
        XCTAssertEqual(names, Set(tensors.keys), "the table names exactly the reference's tensors")
        XCTAssertEqual(
            Model.efficientnetLite0.layers.count, 1 + 16 * 3 - 1 + 1, "Lite0: stem, 16 blocks (the first without expansion), head"
        )
    }

    func testPresetsFollowTheModel() throws {
        XCTAssertEqual(Model.efficientnetLite0.preprocessing(preset: .imagenet).size, 224)
        XCTAssertEqual(Model.efficientnetLite1.preprocessing(preset: .imagenet).size, 240)
        XCTAssertEqual(Model.efficientnetLite2.preprocessing(preset: .imagenet).size, 260)
        XCTAssertEqual(Model.resnet50.preprocessing(preset: .imagenet), .imagenet)
        XCTAssertEqual(Model.efficientnetLite2.preprocessing(preset: .cifar), .cifar)
        var out = [Float](repeating: 0, count: 224 * 224 * 3)
        let white = RGBImage(width: 224, height: 224, pixels: [UInt8](repeating: 255, count: 224 * 224 * 3))
        Model.efficientnetLite0.preprocessing(preset: .imagenet).write(white, to: &out)
        XCTAssertEqual(out[0], (255 - 127) / 128, accuracy: 1e-6, "(x * 255 - 127) / 128")
    }

    func testEveryModelDeclaresItsDimension() throws {
        let dimensions: [Model: Int] = [
            .resnet18: 512, .resnet34: 512, .resnet50: 2048, .efficientnetLite0: 1280,
            .efficientnetLite1: 1280, .efficientnetLite2: 1280,
        ]
        for model in Model.allCases {
            XCTAssertEqual(model.layers.last?.outputChannels, dimensions[model], "\(model)")
            XCTAssertEqual(model.outputDimension, dimensions[model], "\(model)")
        }
        let lite2 = Model.efficientnetLite2.layers
        XCTAssertEqual(lite2.first?.outputChannels, 32, "Lite2's stem is not scaled")
        XCTAssertEqual(lite2.last?.inputChannels, 352, "Lite2's last stage: round_filters(320 * 1.1)")
        XCTAssertEqual(
            lite2.filter(\.depthwise).count, 1 + 3 + 3 + 4 + 4 + 5 + 1, "Lite2 blocks: repeats ceil(1.2 r), first and last fixed")
        XCTAssertEqual(Model.resnet50.layers.filter { $0.conv.hasSuffix("conv3") }.count, 16, "ResNet50: 16 bottleneck blocks")
    }

    func testResNetCheckpointGivenToLiteNamesTheFirstMissingTensor() throws {
        let path = NetworkFixtures.path("tiny.pth")
        XCTAssertThrowsError(try Weights.loadFile(path, model: .efficientnetLite0, label: path)) { error in
            XCTAssertTrue(
                "\(error)".contains("tiny.pth") && "\(error)".contains("missing tensor _conv_stem.weight")
                    && "\(error)".contains("EfficientNet-Lite0"), "\(error)")
        }
        let lite = NetworkFixtures.path("tiny-lite-legacy.pth")
        XCTAssertThrowsError(try Weights.loadFile(lite, model: .efficientnetLite0, label: lite)) { error in
            XCTAssertTrue(
                "\(error)".contains("tiny-lite-legacy.pth")
                    && "\(error)".contains(
                        "tensor _blocks.0._project_conv.weight has shape [8, 32, 1, 1], expected [16, 32, 1, 1]"),
                "\(error)")
        }
    }
}
