import Common

/// Same-size images held in memory as one UInt8 NHWC block (CIFAR-10, small folders).
public struct InMemoryDataset: ImageDataset {
    public let name: String
    public let labels: [Int]?
    public let classNames: [String]
    public let ids: [String]
    public let fingerprint: String
    /// The width shared by every image.
    public let width: Int
    /// The height shared by every image.
    public let height: Int
    /// `count * height * width * 3` bytes: image after image, each row-major RGB.
    public let pixels: [UInt8]

    /// Wraps decoded pixels; `fingerprint` nil computes one over sizes, ids, labels and pixels.
    ///
    /// - Parameter fingerprintIDs: ids as they enter the fingerprint (paths relative to the
    ///   data root, so that the same data in another place has the same fingerprint);
    ///   nil uses `ids`.
    public init(
        name: String, width: Int, height: Int, pixels: [UInt8], ids: [String], labels: [Int]?, classNames: [String],
        fingerprintIDs: [String]? = nil, fingerprint: String? = nil
    ) {
        precondition(
            pixels.count == ids.count * height * width * 3, "\(pixels.count) bytes for \(ids.count) images of \(width)x\(height)")
        precondition(labels.map { $0.count == ids.count } ?? true, "\(labels?.count ?? 0) labels for \(ids.count) images")
        self.name = name
        self.width = width
        self.height = height
        self.pixels = pixels
        self.ids = ids
        self.labels = labels
        self.classNames = classNames
        self.fingerprint =
            fingerprint
            ?? Self.fingerprint(
                width: width, height: height, pixels: pixels, ids: fingerprintIDs ?? ids, labels: labels, classNames: classNames)
    }

    public var count: Int { ids.count }

    /// The bytes of one image.
    public var imageSize: Int { width * height * 3 }

    public func image(at index: Int) throws -> RGBImage {
        precondition(index >= 0 && index < count, "row \(index) outside 0..<\(count)")
        return RGBImage(width: width, height: height, pixels: Array(pixels[index * imageSize..<(index + 1) * imageSize]))
    }

    public func subset(_ rows: [Int]) -> any ImageDataset {
        var selected = [UInt8]()
        selected.reserveCapacity(rows.count * imageSize)
        for row in rows { selected += pixels[row * imageSize..<(row + 1) * imageSize] }
        return InMemoryDataset(
            name: name, width: width, height: height, pixels: selected, ids: rows.map { ids[$0] }, labels: labels(of: rows),
            classNames: classNames, fingerprint: Self.subsetFingerprint(fingerprint, rows: rows))
    }

    /// SHA-256 over the image size, class names, ids, labels and pixels.
    static func fingerprint(width: Int, height: Int, pixels: [UInt8], ids: [String], labels: [Int]?, classNames: [String])
        -> String
    {
        var print = Fingerprint()
        print.update("images \(ids.count)x\(height)x\(width)x3\nclasses \(classNames.joined(separator: "\t"))\n")
        print.update(ids.joined(separator: "\n"))
        if let labels { labels.map { Int64($0) }.withUnsafeBytes { print.update($0) } }
        print.update(pixels)
        return print.finalize()
    }
}
