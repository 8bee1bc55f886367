import Foundation

/// Class probabilities of every image from the labels of its nearest other images, each vote
/// weighted by similarity.
///
/// Neighbour `j` of image `i` votes for its label with weight `exp((s_ij - s_i1) / temperature)`,
/// where `s` is the cosine similarity and `s_i1` that of the nearest neighbour; every class also
/// gets `smoothing` (a share of the weight of the nearest vote), so no probability is exactly 0.
/// The image itself never votes, so the probabilities are out-of-sample, as confident learning
/// needs (Northcutt et al., "Confident Learning", JAIR 2021).
///
/// ```swift
/// let probabilities = NeighborVotes().probabilities(ids: ids, similarities: s, width: 20, labels: labels, classes: 10)
/// ```
public struct NeighborVotes: Sendable {
    /// How fast a vote's weight falls with similarity (cosine units).
    public var temperature: Double
    /// The weight every class gets before the votes.
    public var smoothing: Double

    /// The defaults were chosen by planting 2% random label flips into pretrained EfficientNet-Lite0
    /// embeddings of CIFAR-10 (benchmarks/bench_label_issues.py).
    public init(temperature: Double = 0.05, smoothing: Double = 0.001) {
        self.temperature = temperature
        self.smoothing = smoothing
    }

    /// The probabilities of every row, from `width` neighbour ids and cosine similarities per row
    /// (nearest first; ids below 0, missing neighbours, are skipped).
    public func probabilities(ids: [Int], similarities: [Float], width: Int, labels: [Int], classes: Int)
        -> ClassProbabilities
    {
        precondition(
            width > 0 && ids.count == labels.count * width && similarities.count == ids.count,
            "\(ids.count) neighbour ids and \(similarities.count) similarities for \(labels.count) rows of \(width)")
        var values = [Double](repeating: 0, count: labels.count * classes)
        for i in labels.indices {
            let row = i * classes
            let nearest = Double(similarities[i * width])
            for c in 0..<classes { values[row + c] = smoothing }
            for slot in i * width..<(i + 1) * width where ids[slot] >= 0 {
                values[row + labels[ids[slot]]] += exp((Double(similarities[slot]) - nearest) / temperature)
            }
            let total = values[row..<row + classes].reduce(0, +)
            for c in 0..<classes { values[row + c] /= total }
        }
        return ClassProbabilities(classes: classes, values: values)
    }
}
