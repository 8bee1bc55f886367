import Common
import Foundation
import ImageData

/// The files under `Fixtures/` (see its README) and the images they hold.
enum NetworkFixtures {
    static let folder = Bundle.module.resourcePath.map { $0 + "/Fixtures" } ?? "Fixtures"

    static func path(_ name: String) -> String { folder + "/" + name }

    static func array(_ name: String) throws -> NPY.Array { try NPY.read(path(name)) }

    /// The four 32x32 images and the 40x28 one, in fixture order.
    static func images() throws -> [RGBImage] {
        let square = try array("images.npy"), odd = try array("odd.npy")
        let pixels = square.floats.map { UInt8($0) }
        var images = (0..<square.shape[0]).map { i in
            RGBImage(width: 32, height: 32, pixels: Array(pixels[i * 3072..<(i + 1) * 3072]))
        }
        images.append(RGBImage(width: odd.shape[1], height: odd.shape[0], pixels: odd.floats.map { UInt8($0) }))
        return images
    }
}
