import Foundation

/// What `pic2vec search --json` prints: the query row (null for an image), k, and the neighbours.
struct SearchOutput: Encodable {
    struct Neighbor: Encodable {
        let id: Int
        /// The neighbour's label from the labels file, or null when none is known.
        let label: Int?
        /// The index's distance (squared L2, or the inner product).
        let distance: Float

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(label, forKey: .label)
            try container.encode(distance, forKey: .distance)
        }

        enum CodingKeys: String, CodingKey { case id, label, distance }
    }

    let query: Int?
    let k: Int
    let neighbors: [Neighbor]

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(query, forKey: .query)
        try container.encode(k, forKey: .k)
        try container.encode(neighbors, forKey: .neighbors)
    }

    enum CodingKeys: String, CodingKey { case query, k, neighbors }
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
