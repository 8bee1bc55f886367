/// How unusual each image is: the distance to its k-th nearest other image.
///
/// An image far from even its k-th neighbour has no close company in the collection (an outlier,
/// a rare view, or a file that does not belong); a dense cluster's members score low. Taking the
/// k-th rather than the first neighbour keeps a pair of near-duplicates from hiding each other.
///
/// ```swift
/// let unusual = Uniqueness(distances: neighbors.distances, width: neighbors.k).ranked.prefix(16)
/// ```
public struct Uniqueness: Sendable {
    /// Per row, the distance to its farthest listed (k-th) neighbour; +∞ when it has none.
    public let scores: [Float]

    /// Scores rows from their neighbour distances, `width` per row, nearest first (non-finite
    /// distances, of missing neighbours, are skipped).
    public init(distances: [Float], width: Int) {
        precondition(width > 0 && distances.count % width == 0, "\(distances.count) distances in rows of \(width)")
        scores = stride(from: 0, to: distances.count, by: width).map { start in
            distances[start..<start + width].last(where: \.isFinite) ?? .infinity
        }
    }

    /// The rows, most unusual first (ties: smaller row first).
    public var ranked: [Int] { scores.indices.sorted { (scores[$0], -$0) > (scores[$1], -$1) } }
}
