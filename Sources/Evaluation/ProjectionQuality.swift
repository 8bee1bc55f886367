import Common

/// How faithfully a 2-D projection keeps the neighborhoods of the points it projects.
///
/// k-NN preservation is the neighborhood-preservation measure of Kobak & Berens (2019), "The
/// art of using t-SNE for single-cell transcriptomics" (Nature Communications 10): the share of
/// each point's `k` nearest neighbors in the original space that are also among its `k` nearest
/// in 2-D. k-NN class agreement is the share of each point's `k` nearest 2-D neighbors that carry
/// its class, as in van der Maaten (2009), "Learning a parametric embedding by preserving local
/// structure" (1-NN generalization, extended to `k`).
///
/// ```swift
/// let nearest = try AllPairsSearch().run(embeddings, k: 10).neighbors
/// let kept = ProjectionQuality.neighborPreservation(original: nearest.ids, originalK: 10, projection: xy, k: 10)
/// let agreement = ProjectionQuality.classAgreement(projection: xy, labels: labels, k: 10)
/// ```
public enum ProjectionQuality {
    /// The exact `k` nearest other points of every 2-D point, nearest first, ties by lower index.
    ///
    /// A sweep over the points sorted by x: from each point, candidates are scanned outward to the
    /// left and right until their x distance alone exceeds the current k-th distance.
    ///
    /// - Returns: `n * k` indices, row `i` for point `i`.
    public static func nearestNeighbors2D(_ points: Matrix, k: Int) -> [Int] {
        let n = points.rows
        precondition(points.columns == 2, "expected n x 2 points, got \(points.rows)x\(points.columns)")
        precondition(k >= 1 && k < n, "k = \(k) needs 1 <= k < n = \(n)")
        let xy = points.values
        let order = (0..<n).sorted { (xy[2 * $0], $0) < (xy[2 * $1], $1) }
        var result = [Int](repeating: 0, count: n * k)
        var best = [(distance: Float, index: Int)]()
        best.reserveCapacity(k + 1)
        for position in 0..<n {
            let i = order[position]
            let (xi, yi) = (xy[2 * i], xy[2 * i + 1])
            best.removeAll(keepingCapacity: true)
            /// Offers candidate `j`; returns false once its x distance alone rules out it and all beyond it.
            func consider(_ j: Int) -> Bool {
                let dx = xy[2 * j] - xi, dy = xy[2 * j + 1] - yi
                if best.count == k, let worst = best.last, dx * dx > worst.distance { return false }
                let candidate = (distance: dx * dx + dy * dy, index: j)
                if best.count == k, let worst = best.last, (candidate.distance, j) >= (worst.distance, worst.index) {
                    return true
                }
                let slot = best.firstIndex { (candidate.distance, j) < ($0.distance, $0.index) } ?? best.count
                best.insert(candidate, at: slot)
                if best.count > k { best.removeLast() }
                return true
            }
            var right = position + 1
            while right < n, consider(order[right]) { right += 1 }
            var left = position - 1
            while left >= 0, consider(order[left]) { left -= 1 }
            for (slot, neighbor) in best.enumerated() { result[i * k + slot] = neighbor.index }
        }
        return result
    }

    /// The mean share of each point's `k` nearest original neighbors that stay among its `k` nearest in 2-D.
    ///
    /// - Parameters:
    ///   - original: `n * originalK` neighbor indices in the original space, nearest first, self excluded.
    ///   - originalK: neighbors per row of `original`; at least `k`.
    ///   - projection: `n x 2` projected points.
    ///   - k: neighborhood size.
    public static func neighborPreservation(original: [Int], originalK: Int, projection: Matrix, k: Int = 10) -> Double {
        let n = projection.rows
        precondition(originalK >= k && original.count == n * originalK, "need \(n) rows of at least \(k) original neighbors")
        let projected = nearestNeighbors2D(projection, k: k)
        var kept = 0
        for i in 0..<n {
            let mine = Set(projected[i * k..<(i + 1) * k])
            kept += original[i * originalK..<i * originalK + k].filter { mine.contains($0) }.count
        }
        return Double(kept) / Double(n * k)
    }

    /// The mean share of each point's `k` nearest 2-D neighbors that have its label.
    ///
    /// - Parameters:
    ///   - projection: `n x 2` projected points.
    ///   - labels: `n` class labels.
    ///   - k: neighborhood size.
    public static func classAgreement(projection: Matrix, labels: [Int], k: Int = 10) -> Double {
        let n = projection.rows
        precondition(labels.count == n, "\(labels.count) labels for \(n) points")
        let projected = nearestNeighbors2D(projection, k: k)
        var agree = 0
        for i in 0..<n {
            agree += projected[i * k..<(i + 1) * k].filter { labels[$0] == labels[i] }.count
        }
        return Double(agree) / Double(n * k)
    }
}
