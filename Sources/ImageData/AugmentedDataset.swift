public import Common

/// `copies` seeded augmentations of every image of another data set: a realistic large
/// collection (near-duplicates and variants of real photos, not i.i.d. noise).
///
/// Row `r` is augmentation `r % copies` of base row `r / copies`: a random crop keeping 60-100%
/// of each side, a left-right flip half of the time, and colour jitter (brightness, contrast and
/// saturation each scaled by 0.8-1.2), drawn from a generator seeded by `seed` and `r` alone, so
/// any row is the same image whenever and wherever it is made. (`pic2vec embed --augmentations`
/// and experiment 11 make such sets; an index of one records `copies` and `seed` so that
/// `pic2vec serve` can show its rows.)
public struct AugmentedDataset: ImageDataset {
    public let base: any ImageDataset
    public let copies: Int
    public let seed: UInt64
    /// The rows of the full augmented set this one holds (nil: all of them).
    var rows: [Int]?

    /// `copies` augmentations of every image of `base`, drawn by `seed`.
    public init(base: any ImageDataset, copies: Int, seed: UInt64) {
        precondition(copies > 0, "at least one augmentation per image")
        self.base = base
        self.copies = copies
        self.seed = seed
    }

    private init(base: any ImageDataset, copies: Int, seed: UInt64, rows: [Int]) {
        self.init(base: base, copies: copies, seed: seed)
        self.rows = rows
    }

    public var name: String { base.name + " (\(copies) augmentations each)" }
    public var count: Int { rows?.count ?? base.count * copies }
    public var labels: [Int]? { base.labels.map { labels in (0..<count).map { labels[row($0) / copies] } } }
    public var classNames: [String] { base.classNames }
    public var ids: [String] {
        let baseIDs = base.ids
        return (0..<count).map { baseIDs[row($0) / copies] + "#\(row($0) % copies)" }
    }
    public var fingerprint: String {
        var print = Fingerprint()
        print.update("augmented \(copies) seed \(seed) crop 0.6-1 flip jitter 0.8-1.2: " + base.fingerprint)
        if let rows { rows.map { Int64($0) }.withUnsafeBytes { print.update($0) } }
        return print.finalize()
    }

    /// The row of the full augmented set that row `i` of this one is.
    private func row(_ i: Int) -> Int { rows?[i] ?? i }

    public func image(at index: Int) throws -> RGBImage {
        let r = row(index)
        let image = try base.image(at: r / copies)
        var generator = SeededGenerator(seed: seed &+ UInt64(r) &* 0x9E37_79B9_7F4A_7C15)
        let width = max(1, Int(Double(image.width) * Double.random(in: 0.6...1, using: &generator)))
        let height = max(1, Int(Double(image.height) * Double.random(in: 0.6...1, using: &generator)))
        let left = Int.random(in: 0...(image.width - width), using: &generator)
        let top = Int.random(in: 0...(image.height - height), using: &generator)
        let flip = Bool.random(using: &generator)
        let brightness = Float.random(in: 0.8...1.2, using: &generator)
        let contrast = Float.random(in: 0.8...1.2, using: &generator)
        let saturation = Float.random(in: 0.8...1.2, using: &generator)
        var mean: Float = 0
        for value in image.pixels { mean += Float(value) }
        mean /= Float(image.pixels.count)
        let centre = mean * brightness
        /// A brightened channel value with saturation (around the pixel's gray) and contrast
        /// (around the image's mean) applied.
        func jittered(_ value: Float, gray: Float) -> UInt8 {
            let saturated = gray + (value - gray) * saturation
            return UInt8(max(0, min(255, (centre + (saturated - centre) * contrast).rounded())))
        }
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let sourceX = left + (flip ? width - 1 - x : x)
                let at = ((top + y) * image.width + sourceX) * 3
                let r = Float(image.pixels[at]) * brightness
                let g = Float(image.pixels[at + 1]) * brightness
                let b = Float(image.pixels[at + 2]) * brightness
                let gray = 0.299 * r + 0.587 * g + 0.114 * b
                let out = (y * width + x) * 3
                pixels[out] = jittered(r, gray: gray)
                pixels[out + 1] = jittered(g, gray: gray)
                pixels[out + 2] = jittered(b, gray: gray)
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    public func subset(_ rows: [Int]) -> any ImageDataset {
        AugmentedDataset(base: base, copies: copies, seed: seed, rows: rows.map { row($0) })
    }
}
