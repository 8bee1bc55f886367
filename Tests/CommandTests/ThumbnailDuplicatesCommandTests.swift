import Foundation
import ImageData
import TestSupport
import XCTest

/// `pic2vec duplicates --features thumbnails`: mirrored and cropped copies found without a network.
final class ThumbnailDuplicatesCommandTests: Pic2VecFolderTestCase {
    /// `image` mirrored left to right.
    private func mirrored(_ image: RGBImage) -> RGBImage {
        var out = image
        for y in 0..<image.height {
            for x in 0..<image.width {
                for c in 0..<3 {
                    out.pixels[(y * image.width + x) * 3 + c] = image.pixels[(y * image.width + image.width - 1 - x) * 3 + c]
                }
            }
        }
        return out
    }

    /// `image` without 2 pixels on every side.
    private func cropped(_ image: RGBImage) -> RGBImage {
        var pixels: [UInt8] = []
        for y in 2..<image.height - 2 {
            pixels += image.pixels[(y * image.width + 2) * 3..<(y * image.width + image.width - 2) * 3]
        }
        return RGBImage(width: image.width - 4, height: image.height - 4, pixels: pixels)
    }

    func testMirroredAndCroppedCopiesAreGroupedWithTheirOriginals() throws {
        // Smooth pictures (a gradient and a blob) so that each has a shape its thumbnail keeps.
        for (number, (cx, cy)) in [(8, 8), (24, 10), (12, 24), (20, 20)].enumerated() {
            let pixels = (0..<32 * 32 * 3).map { p -> UInt8 in
                let (pixel, c) = p.quotientAndRemainder(dividingBy: 3)
                let (y, x) = pixel.quotientAndRemainder(dividingBy: 32)
                let blob = max(0, 120 - 12 * (abs(x - cx) + abs(y - cy)))
                return UInt8(clamping: 30 + x * 3 + c * 20 + blob)
            }
            try Data(PNGEncoder.encode(RGBImage(width: 32, height: 32, pixels: pixels)))
                .write(to: URL(fileURLWithPath: folder + "/images/class0/blob\(number).png"))
        }
        let original = try ImageDecoder.decode(file: folder + "/images/class0/blob0.png")
        try Data(PNGEncoder.encode(mirrored(original))).write(to: URL(fileURLWithPath: folder + "/images/class1/mirror.png"))
        try Data(PNGEncoder.encode(cropped(try ImageDecoder.decode(file: folder + "/images/class0/blob3.png"))))
            .write(to: URL(fileURLWithPath: folder + "/images/class2/crop.png"))
        let run = try pic2vec("duplicates", "--data", "images", "--features", "thumbnails", "--json")
        succeeds(run)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let groups = try XCTUnwrap(report["groups"] as? [[String: Any]])
        let names = groups.map { group in
            ((group["members"] as? [[String: Any]]) ?? []).compactMap {
                ($0["path"] as? String).map { URL(fileURLWithPath: $0).lastPathComponent }
            }
            .sorted()
        }
        XCTAssertTrue(names.contains(["blob0.png", "mirror.png"]), "\(names)")
        XCTAssertTrue(names.contains(["blob3.png", "crop.png"]), "\(names)")
        XCTAssertTrue(names.allSatisfy { $0.count == 2 }, "nothing else is grouped: \(names)")
        fails(
            try pic2vec("duplicates", "--data", "images", "--features", "thumbnails", "--weights", "random"), saying: "--weights")
    }
}
