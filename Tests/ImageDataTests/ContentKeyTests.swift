import XCTest

@testable import ImageData

final class ContentKeyTests: XCTestCase {
    /// Five 2x2 images: 0 and 3 identical, 4 differing from 0 in one byte.
    private func dataset() -> InMemoryDataset {
        var pixels: [UInt8] = []
        for image in 0..<5 {
            var block = (0..<12).map { UInt8(($0 * 7 + [0, 1, 2, 0, 0][image] * 40) % 256) }
            if image == 4 { block[11] &+= 1 }
            pixels += block
        }
        return InMemoryDataset(
            name: "keys", width: 2, height: 2, pixels: pixels, ids: (0..<5).map { "#\($0)" }, labels: nil, classNames: [])
    }

    func testKeysAreEqualExactlyForIdenticalPixels() throws {
        let keys = try dataset().contentKeys(batchSize: 2)
        XCTAssertEqual(keys[0], keys[3])
        XCTAssertEqual(Set(keys).count, 4)
        let same = RGBImage(width: 4, height: 1, pixels: try dataset().image(at: 0).pixels)
        XCTAssertNotEqual(same.contentKey, keys[0], "the size is part of the key")
    }

    func testPixelFeaturesAreThePreprocessedImages() throws {
        let data = dataset()
        let preprocessing = Preprocessing.cifar.resized(to: 2)
        let features = try data.pixelFeatures(preprocessing, batchSize: 3)
        XCTAssertEqual(features.rows, 5)
        XCTAssertEqual(features.columns, 12)
        for row in 0..<5 {
            let expected = try data.image(at: row).pixels.map { (Float($0) / 255 - 0.5) / 0.5 }
            XCTAssertEqual(Array(features.row(row)), expected, "row \(row)")
        }
    }
}
