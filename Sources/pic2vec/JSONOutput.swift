import Foundation

/// What `pic2vec search --json` prints; keys whose value is unknown are left out.
struct SearchOutput: Encodable {
    struct Neighbor: Encodable {
        let id: Int
        /// The neighbour's label from the labels file, when one is known.
        let label: Int?
        /// The index's distance (squared L2, or the inner product).
        let distance: Float
    }

    /// The stored row used as the query (absent for an image query).
    let query: Int?
    let k: Int
    let neighbors: [Neighbor]
}

/// What `pic2vec evaluate --json` prints: Precision@k keyed by k, and mAP@R with `--map-at-r`.
struct EvaluateOutput: Encodable {
    let n: Int
    let precision: [String: Double]
    let mapAtR: Double?

    enum CodingKeys: String, CodingKey {
        case n, precision
        case mapAtR = "map_at_r"
    }
}

/// What `pic2vec kmeans --json` prints.
struct KMeansOutput: Encodable {
    let n: Int
    let k: Int
    let inertia: Double
    let seconds: Double
}

/// Prints `value` as one line of JSON (keys sorted) on standard output.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
