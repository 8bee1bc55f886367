/// Label-noise candidates: images most of whose nearest neighbors carry another label.
///
/// An image whose k nearest neighbors mostly disagree with its label is either mislabeled,
/// ambiguous, or an outlier of its class; ranking by the share of disagreeing neighbors is the
/// k-NN version of the "mistakenness" and "label issues" scores of FiftyOne Brain and cleanlab.
///
/// ```swift
/// let suspects = LabelNoise.candidates(neighbors: ids, width: 10, labels: labels)
/// ```
public enum LabelNoise {
    /// One suspect image.
    public struct Candidate: Sendable, Equatable {
        /// Its row.
        public let row: Int
        /// Its own label.
        public let label: Int
        /// The most frequent other label among its neighbors (ties: the smaller label).
        public let suggestedLabel: Int
        /// The share of its neighbors whose label differs from its own.
        public let disagreement: Double
    }

    /// The rows more than half of whose first `width` neighbors carry another label, highest
    /// disagreement first (ties: smaller row first). Neighbor lists are row-major, `width` per row;
    /// ids below 0 (missing neighbors) are skipped.
    public static func candidates(neighbors: [Int], width: Int, labels: [Int]) -> [Candidate] {
        precondition(
            width > 0 && neighbors.count == labels.count * width,
            "\(neighbors.count) neighbor ids for \(labels.count) rows of \(width)")
        var found: [Candidate] = []
        for (q, label) in labels.enumerated() {
            var counts: [Int: Int] = [:]
            var seen = 0
            for j in neighbors[q * width..<(q + 1) * width] where j >= 0 {
                counts[labels[j], default: 0] += 1
                seen += 1
            }
            let others = seen - counts[label, default: 0]
            guard seen > 0, 2 * others > seen else { continue }
            let suggested = counts.filter { $0.key != label }.max { ($0.value, -$0.key) < ($1.value, -$1.key) }?.key ?? label
            found.append(Candidate(row: q, label: label, suggestedLabel: suggested, disagreement: Double(others) / Double(seen)))
        }
        return found.sorted { ($0.disagreement, -$0.row) > ($1.disagreement, -$1.row) }
    }
}
