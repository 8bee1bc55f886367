import Common
import ImageData
import Networks
import SearchService
import VectorSearch

/// A tiny search setup built in the test: 12 solid-color 8x8 images in 3 classes, embedded
/// with a random-weight ResNet18 (preset cifar), L2-normalized, in a FAISS flat L2 index.
enum Fixtures {
    static let classNames = ["reddish", "greenish", "bluish"]
    static let count = 12

    /// Row i has class i % 3: its color leans red, green or blue.
    static func color(_ row: Int) -> [UInt8] {
        var color: [UInt8] = [40, UInt8(30 + row * 5), 60]
        color[row % 3] = UInt8(120 + row * 10)
        return color
    }

    static func image(color: [UInt8], width: Int = 8, height: Int = 8) -> RGBImage {
        RGBImage(width: width, height: height, pixels: Array((0..<width * height).map { _ in color }.joined()))
    }

    static let dataset = InMemoryDataset(
        name: "fixture", width: 8, height: 8, pixels: Array((0..<count).map { image(color: color($0)).pixels }.joined()),
        ids: (0..<count).map { "fixture/\(classNames[$0 % 3])/\($0).png" }, labels: (0..<count).map { $0 % 3 },
        classNames: classNames)

    /// The query model: random weights, seed 7, preset cifar, normalized.
    static func model() async throws -> QueryModel {
        let weights = try await Weights.load(.random(seed: 7))
        return QueryModel(
            embedder: Embedder(network: weights.network, preprocessing: .cifar, batchSize: 4, threads: 1), normalize: true)
    }

    /// An engine over the fixture set; `withModel` false disables image queries.
    static func engine(limits: SearchLimits = SearchLimits(), withModel: Bool = true) async throws -> SearchEngine {
        let model = try await model()
        let rows = try model.embedder.embed(dataset, progress: false).l2Normalized()
        let index = try VectorIndex(dimension: rows.columns, kind: .flat, metric: .l2)
        try index.add(rows)
        return try SearchEngine(
            index: index, dataset: dataset, model: withModel ? model : nil, provenance: "fixture, random weights",
            limits: limits)
    }

    /// The PNG bytes of row `row`'s image.
    static func png(row: Int) throws -> [UInt8] {
        try PNGEncoder.encode(try dataset.image(at: row))
    }
}
