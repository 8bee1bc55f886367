import XCTest

@testable import ImageData

/// `Thumbnail`: box averages as PIL's BOX filter takes them, normalized, and its four variants.
final class ThumbnailTests: XCTestCase {
    /// A 32x32 image with smooth gradients in each channel and some texture.
    private func image(width: Int = 32, height: Int = 32) -> RGBImage {
        let pixels = (0..<width * height * 3).map { p -> UInt8 in
            let (pixel, channel) = p.quotientAndRemainder(dividingBy: 3)
            let (y, x) = pixel.quotientAndRemainder(dividingBy: width)
            return UInt8((x * 5 + y * 3 + channel * 40 + (x * y) % 17) % 200)
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    private func length(_ values: [Float]) -> Float { values.reduce(0) { $0 + $1 * $1 }.squareRoot() }

    func testWholeIsTheNormalizedMeanOfSquareBlocks() {
        let picture = image()
        let block = 32 / Thumbnail.side
        var blocks = [Float](repeating: 0, count: Thumbnail.values)
        for y in 0..<32 {
            for x in 0..<32 {
                for c in 0..<3 {
                    blocks[((y / block) * Thumbnail.side + x / block) * 3 + c] +=
                        Float(picture.pixels[(y * 32 + x) * 3 + c]) / Float(block * block)
                }
            }
        }
        let mean = blocks.reduce(0, +) / Float(blocks.count)
        let centered = blocks.map { $0 - mean }
        let expected = centered.map { $0 / length(centered) }
        let variants = Thumbnail.variants(of: picture)
        XCTAssertEqual(variants.count, 4)
        for (a, b) in zip(variants[0], expected) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        XCTAssertEqual(length(variants[0]), 1, accuracy: 1e-5)
        XCTAssertEqual(variants[0].reduce(0, +), 0, accuracy: 1e-4)
    }

    func testMirroredVariantsAreTheMirroredImagesThumbnails() {
        let picture = image(width: 30, height: 26)
        var flipped = picture
        for y in 0..<26 {
            for x in 0..<30 {
                for c in 0..<3 { flipped.pixels[(y * 30 + x) * 3 + c] = picture.pixels[(y * 30 + 29 - x) * 3 + c] }
            }
        }
        let original = Thumbnail.variants(of: picture)
        let mirror = Thumbnail.variants(of: flipped)
        for (a, b) in zip(original[1], mirror[0]) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        for (a, b) in zip(original[3], mirror[2]) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    func testBrightnessAndContrastDoNotCountAndTheCropSeesTheCenter() {
        let picture = image()
        let brighter = RGBImage(width: 32, height: 32, pixels: picture.pixels.map { UInt8(Int($0) + 30) })
        for (a, b) in zip(Thumbnail.variants(of: picture)[0], Thumbnail.variants(of: brighter)[0]) {
            XCTAssertEqual(a, b, accuracy: 1e-5)
        }
        // The crop leaves out 2 of 32 pixels on every side: the 28x28 center, like the original's crop.
        var center = [UInt8]()
        for y in 2..<30 { center += picture.pixels[(y * 32 + 2) * 3..<(y * 32 + 30) * 3] }
        let cropped = Thumbnail.variants(of: RGBImage(width: 28, height: 28, pixels: center))[0]
        for (a, b) in zip(Thumbnail.variants(of: picture)[2], cropped) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        let flat = Thumbnail.variants(of: RGBImage(width: 4, height: 4, pixels: Array(repeating: 9, count: 48)))
        XCTAssertTrue(flat.allSatisfy { $0.allSatisfy { $0 == 0 } }, "a flat image has no shape to compare")
    }

    func testADatasetsThumbnailsAndKeysComeFromOneDecodingOfEachImage() throws {
        let base = image()
        let pictures = [0, 7, 91].map { shift in RGBImage(width: 32, height: 32, pixels: base.pixels.map { ($0 &+ shift) % 251 })
        }
        let dataset = InMemoryDataset(
            name: "three", width: 32, height: 32, pixels: pictures.flatMap(\.pixels), ids: ["a", "b", "c"], labels: nil,
            classNames: [])
        let (views, keys) = try dataset.thumbnails(batchSize: 2)
        XCTAssertEqual(keys, try dataset.contentKeys())
        XCTAssertEqual(views.count, 4)
        for (row, picture) in pictures.enumerated() {
            for (variant, expected) in Thumbnail.variants(of: picture).enumerated() {
                XCTAssertEqual(Array(views[variant].row(row)), expected, "row \(row), variant \(variant)")
            }
        }
    }
}
