import Foundation

extension VectorIndex.Kind {
    /// About how many bytes an index of this structure takes in memory (and on disk) for
    /// `count` vectors of `dimension` floats: stored codes and ids, centroids, codebooks,
    /// rotation, IVF-PQ's precomputed distance table, and HNSW's level-0 links.
    public func estimatedBytes(count: Int, dimension: Int) -> Int {
        let vector = 4 * dimension
        switch self {
        case .flat:
            return count * vector
        case .ivfFlat(let lists, _):
            return count * (vector + 8) + lists * vector
        case .ivfPQ(let lists, _, let codes, let bits, let rotated, let refinement):
            let centroids = 1 << bits
            // FAISS precomputes a lists x codes x centroids float table when it stays under 2 GiB.
            let table = lists * codes * centroids * 4
            return count * ((codes * bits + 7) / 8 + refinement + 8) + lists * vector + centroids * vector
                + (refinement > 0 ? 256 * vector : 0)
                + (table <= 1 << 31 ? table : 0) + (rotated ? dimension * dimension * 4 : 0)
        case .hnsw(let links, _):
            return count * (vector + 8 * links + 12)
        }
    }
}

/// A byte count written for people ("1.5 GB", "640 MB", "12 kB"; powers of 1000).
public func formattedBytes(_ bytes: Int) -> String {
    let units = [(1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB")]
    for (scale, unit) in units where Double(bytes) >= scale {
        let value = Double(bytes) / scale
        return (value < 10 ? String(format: "%.1f", value) : String(format: "%.0f", value)) + " " + unit
    }
    return "\(bytes) B"
}
