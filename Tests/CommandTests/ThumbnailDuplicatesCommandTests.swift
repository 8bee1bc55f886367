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

    /// Four smooth pictures (a gradient and a blob, so that each has a shape its thumbnail keeps) in
    /// class0, a mirrored copy of blob0 in class1 and a cropped copy of blob3 in class2.
    private func makeCopies() throws {
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
    }

    /// The file names of each group's members, sorted.
    private func groupNames(_ report: [String: Any]) throws -> [[String]] {
        try XCTUnwrap(report["groups"] as? [[String: Any]]).map { group in
            ((group["members"] as? [[String: Any]]) ?? []).compactMap {
                ($0["path"] as? String).map { URL(fileURLWithPath: $0).lastPathComponent }
            }
            .sorted()
        }
    }

    func testMirroredAndCroppedCopiesAreGroupedWithTheirOriginals() throws {
        try makeCopies()
        let run = try pic2vec("duplicates", "--data", "images", "--features", "thumbnails", "--json")
        succeeds(run)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let names = try groupNames(report)
        XCTAssertTrue(names.contains(["blob0.png", "mirror.png"]), "\(names)")
        XCTAssertTrue(names.contains(["blob3.png", "crop.png"]), "\(names)")
        XCTAssertTrue(names.allSatisfy { $0.count == 2 }, "nothing else is grouped: \(names)")
        fails(
            try pic2vec("duplicates", "--data", "images", "--features", "thumbnails", "--weights", "random"), saying: "--weights")
    }

    /// With a network, pixel links are near-duplicates and network-only links similar; every pair carries both distances.
    func testTiersJoinPixelAndNetworkEvidence() throws {
        try makeCopies()
        // Every network neighbor within 4 (the largest squared distance) is linked: all other pairs are similar.
        let run = try pic2vec(
            "duplicates", "--data", "images", "--weights", "random", "--similar-threshold", "4", "--k", "3", "--json")
        succeeds(run)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(report["schema"] as? String, "pic2vec-duplicates/2")
        XCTAssertTrue((report["features"] as? String)?.hasPrefix("thumbnails") == true)
        let similar = try XCTUnwrap(report["similar"] as? [String: Any])
        XCTAssertEqual(similar["threshold"] as? Double, 4)
        XCTAssertEqual(similar["threshold_rule"] as? String, "given")
        let names = try groupNames(report)
        XCTAssertTrue(names.contains(["blob0.png", "mirror.png"]) && names.contains(["blob3.png", "crop.png"]), "\(names)")
        let pairs = try XCTUnwrap(report["pairs"] as? [[String: Any]])
        let name = { (image: Any?) in
            ((image as? [String: Any])?["path"] as? String).map { URL(fileURLWithPath: $0).lastPathComponent } ?? ""
        }
        var tiers: [String: [[String]]] = [:]
        for pair in pairs {
            XCTAssertNotNil(pair["pixel_distance"] as? Double)
            XCTAssertNotNil(pair["network_distance"] as? Double)
            tiers[pair["tier"] as? String ?? "", default: []].append([name(pair["a"]), name(pair["b"])].sorted())
        }
        XCTAssertEqual(Set(tiers["near-duplicate"] ?? []), [["blob0.png", "mirror.png"], ["blob3.png", "crop.png"]])
        XCTAssertGreaterThan(tiers["similar"]?.count ?? 0, 10, "every image's 3 network neighbors")
        XCTAssertEqual(Array(tiers.keys).sorted(), ["near-duplicate", "similar"])
        let order = pairs.compactMap { $0["tier"] as? String }
        XCTAssertEqual(
            order, order.sorted { ($0 == "near-duplicate" ? 0 : 1) < ($1 == "near-duplicate" ? 0 : 1) }, "near-duplicates first")
        fails(
            try pic2vec("duplicates", "--data", "images", "--features", "pixels", "--similar-threshold", "1"),
            saying: "--similar-threshold")
    }
}
