/// Out-of-sample class probabilities: one row of `classes` values summing to 1 per image.
///
/// "Out-of-sample" means no image voted for itself: each row comes from the image's nearest
/// other images (``NeighborVotes``), the input of ``ConfidentLearning``.
public struct ClassProbabilities: Sendable, Equatable {
    /// Images.
    public let rows: Int
    /// Classes (labels are `0..<classes`).
    public let classes: Int
    /// Row-major, `classes` values per row.
    public let values: [Double]

    /// Wraps `values`, `classes` per row.
    public init(classes: Int, values: [Double]) {
        precondition(classes > 0 && values.count % classes == 0, "\(values.count) values for rows of \(classes)")
        self.classes = classes
        self.rows = values.count / classes
        self.values = values
    }

    /// The probability row `i` gives class `c`.
    public subscript(i: Int, c: Int) -> Double { values[i * classes + c] }

    /// The most probable class of row `i` (ties: the smaller class).
    public func argmax(_ i: Int) -> Int {
        var best = 0
        for c in 1..<classes where self[i, c] > self[i, best] { best = c }
        return best
    }
}
