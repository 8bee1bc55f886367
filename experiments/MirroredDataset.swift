import Common
import ImageData

/// Another data set's images mirrored left to right (same rows, labels and ids).
struct MirroredDataset: ImageDataset {
    let base: any ImageDataset

    var name: String { base.name + " (mirrored)" }
    var count: Int { base.count }
    var labels: [Int]? { base.labels }
    var classNames: [String] { base.classNames }
    var ids: [String] { base.ids }
    var fingerprint: String {
        var print = Fingerprint()
        print.update("mirrored:" + base.fingerprint)
        return print.finalize()
    }

    func image(at index: Int) throws -> RGBImage {
        let image = try base.image(at: index)
        var pixels = image.pixels
        for y in 0..<image.height {
            for x in 0..<image.width {
                for c in 0..<3 {
                    pixels[(y * image.width + x) * 3 + c] = image.pixels[(y * image.width + image.width - 1 - x) * 3 + c]
                }
            }
        }
        return RGBImage(width: image.width, height: image.height, pixels: pixels)
    }

    func subset(_ rows: [Int]) -> any ImageDataset { MirroredDataset(base: base.subset(rows)) }
}
