import Common
import Foundation

extension RGBImage {
    /// A SHA-256 of the size and the decoded pixels: equal exactly when two images are identical
    /// pixel for pixel (whatever their files' formats or bytes).
    public var contentKey: String {
        var print = Fingerprint()
        print.update("\(width)x\(height)\n")
        pixels.withUnsafeBytes { print.update($0) }
        return print.finalize()
    }
}

extension ImageDataset {
    /// The content key of every image, decoded `batchSize` at a time (never all at once).
    public func contentKeys(batchSize: Int = 256) throws -> [String] {
        try mapImages(batchSize: batchSize) { [$0.contentKey] }
    }

    /// Raw pixels as features: each image resized and normalized by `preprocessing`, one row of
    /// `preprocessing.valuesPerImage` floats per image, decoded `batchSize` at a time.
    public func pixelFeatures(_ preprocessing: Preprocessing, batchSize: Int = 256) throws -> Matrix {
        let values = try mapImages(batchSize: batchSize) { image in
            [Float](unsafeUninitializedCapacity: preprocessing.valuesPerImage) { buffer, initialized in
                if let base = buffer.baseAddress { preprocessing.write(image, to: base) }
                initialized = preprocessing.valuesPerImage
            }
        }
        return Matrix(rows: count, columns: preprocessing.valuesPerImage, values: values)
    }

    /// The four `Thumbnail` variants of every image, one matrix per variant (as is, mirrored,
    /// cropped, cropped and mirrored), and every image's `contentKey`, from one decoding of each
    /// image, `batchSize` at a time.
    public func thumbnails(batchSize: Int = 256) throws -> (views: [Matrix], keys: [String]) {
        let pictures = try mapImages(batchSize: batchSize) { [(key: $0.contentKey, values: Thumbnail.variants(of: $0))] }
        let views = (0..<4).map { variant in
            Matrix(rows: count, columns: Thumbnail.values, values: pictures.flatMap { $0.values[variant] })
        }
        return (views, pictures.map(\.key))
    }

    /// `transform` of every image, concatenated in row order; images are decoded (in parallel)
    /// and transformed one batch at a time.
    private func mapImages<Element>(batchSize: Int, _ transform: @Sendable (RGBImage) -> [Element]) throws -> [Element] {
        precondition(batchSize > 0, "batch size must be positive")
        var out: [Element] = []
        for start in stride(from: 0, to: count, by: batchSize) {
            let images = try self.images(start..<min(start + batchSize, count))
            for part in parallelMap(images.count, { transform(images[$0]) }) { out.append(contentsOf: part) }
        }
        return out
    }
}
