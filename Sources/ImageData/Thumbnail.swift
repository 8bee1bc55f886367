/// Tiny normalized pictures of an image: the pixel evidence of near-duplicates.
///
/// The image is box-averaged down to `side x side` RGB (PIL's BOX filter), its mean subtracted
/// and the result L2-normalized, so that re-encoding, resizing and a change of brightness or
/// contrast barely move it. Four variants (as is, mirrored, the central crop that leaves out
/// `crop` of each side, and that crop mirrored) let a mirrored or slightly cropped copy meet its
/// original: compared against the other image as is, the nearest variant counts
/// (`benchmarks/thumbnail_evidence.py` chose the side and crop on planted copies).
public enum Thumbnail {
    /// Pixels per side. On the 10,000 CIFAR-10 test images with 500 planted copies, at the default fraction
    /// (0.15) both 8 and 16 found every copy, at link precision 0.95 (8) and 0.96 (16): the unplanted links
    /// of the coarser pictures are mostly different small objects on the same plain sky or grey background.
    public static let side = 16
    /// The share of each side the cropped variants leave out.
    public static let crop = 1.0 / 16

    /// Values per variant.
    public static var values: Int { side * side * 3 }

    /// The variants of `image`: as is, mirrored, cropped, cropped and mirrored.
    public static func variants(of image: RGBImage) -> [[Float]] {
        let dx = Int((Double(image.width) * crop).rounded())
        let dy = Int((Double(image.height) * crop).rounded())
        let fits = image.width - 2 * dx > 0 && image.height - 2 * dy > 0
        let center = fits ? (x: dx..<image.width - dx, y: dy..<image.height - dy) : (x: 0..<image.width, y: 0..<image.height)
        return [
            picture(image, x: 0..<image.width, y: 0..<image.height, mirrored: false),
            picture(image, x: 0..<image.width, y: 0..<image.height, mirrored: true),
            picture(image, x: center.x, y: center.y, mirrored: false),
            picture(image, x: center.x, y: center.y, mirrored: true),
        ].map(normalized)
    }

    /// The box average of the region `x`, `y` of `image` (read right to left when `mirrored`, as
    /// PIL resizes a mirrored image: its box taps are not symmetric), `side x side x 3` floats.
    private static func picture(_ image: RGBImage, x: Range<Int>, y: Range<Int>, mirrored: Bool) -> [Float] {
        let across = ResampleTaps(input: x.count, output: side, filter: .box)
        let down = ResampleTaps(input: y.count, output: side, filter: .box)
        var out = [Float](repeating: 0, count: values)
        for row in 0..<side {
            for column in 0..<side {
                for channel in 0..<3 {
                    out[(row * side + column) * 3 + channel] = down.apply(row) { j in
                        across.apply(column) { i in
                            let source = mirrored ? x.upperBound - 1 - i : x.lowerBound + i
                            return Float(image.pixels[((y.lowerBound + j) * image.width + source) * 3 + channel])
                        }
                    }
                }
            }
        }
        return out
    }

    /// `picture` minus its mean, scaled to length 1 (all zeros for a flat picture).
    private static func normalized(_ picture: [Float]) -> [Float] {
        let mean = picture.reduce(0, +) / Float(picture.count)
        let centered = picture.map { $0 - mean }
        let length = centered.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return length > 1e-6 ? centered.map { $0 / length } : centered.map { _ in 0 }
    }
}
