import Common
import ImageData
import SearchService

/// A tiny search setup: 12 solid-color 4x4 images in 3 classes, embedded as mean colors.
enum Fixtures {
    /// The class of row i is i % 3; its color leans red, green or blue by class.
    static let classNames = ["reddish", "greenish", "bluish"]
    static let count = 12

    static func color(_ row: Int) -> [UInt8] {
        var color: [UInt8] = [40, 40, 40]
        color[row % 3] = UInt8(120 + row * 10)
        return color
    }

    static func image(color: [UInt8], width: Int = 4, height: Int = 4) -> RGBImage {
        RGBImage(width: width, height: height, pixels: Array((0..<width * height).map { _ in color }.joined()))
    }

    static var dataset: InMemoryDataset {
        InMemoryDataset(
            name: "fixture", width: 4, height: 4, pixels: Array((0..<count).map { image(color: color($0)).pixels }.joined()),
            ids: (0..<count).map { "fixture/\(classNames[$0 % 3])/\($0).png" }, labels: (0..<count).map { $0 % 3 },
            classNames: classNames)
    }

    static func engine(limits: SearchLimits = SearchLimits(), embedder: Bool = true) -> SearchEngine {
        let vectors = Matrix(rows: count, columns: 3, values: (0..<count).flatMap { MeanColor.vector(image(color: color($0))) })
        let data = dataset
        return SearchEngine(
            index: BruteForceIndex(vectors: vectors), vectors: vectors,
            catalog: Catalog(ids: data.ids, labels: data.labels, classNames: classNames, provenance: "fixture, mean colors"),
            embedder: embedder ? MeanColor() : nil, images: data, limits: limits)
    }
}

/// Embeds an image as its mean R, G, B in [0, 1].
struct MeanColor: QueryEmbedder {
    static func vector(_ image: RGBImage) -> [Float] {
        var sums: [Float] = [0, 0, 0]
        for (i, byte) in image.pixels.enumerated() { sums[i % 3] += Float(byte) }
        return sums.map { $0 / Float(image.width * image.height) / 255 }
    }

    func embed(_ image: RGBImage) throws -> [Float] { Self.vector(image) }
}

/// Exact squared-L2 search by scanning every row.
struct BruteForceIndex: NeighborIndex {
    let vectors: Matrix
    var count: Int { vectors.rows }

    func nearest(to query: [Float], k: Int) throws -> [(row: Int, distance: Float)] {
        let all = (0..<vectors.rows).map { row in
            (row: row, distance: zip(vectors.row(row), query).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) })
        }
        return Array(all.sorted { ($0.distance, $0.row) < ($1.distance, $1.row) }.prefix(k))
    }
}
