/// Retrieval scores of ranked neighbor lists against class labels (leave-one-out: the
/// lists never contain the query itself).
///
/// Neighbor lists are flat and row-major: `neighbors[q * width + j]` is the j-th nearest
/// item of query `q`. An item is relevant to a query when it has the query's label.
///
/// ```swift
/// let p10 = RetrievalMetrics.precision(at: 10, neighbors: ids, width: 100, labels: labels)
/// ```
public enum RetrievalMetrics {
    /// Precision@k: the mean over queries of the fraction of their first k neighbors that are relevant.
    public static func precision(at k: Int, neighbors: [Int], width: Int, labels: [Int]) -> Double {
        let hits = relevantCounts(at: k, neighbors: neighbors, width: width, labels: labels)
        return Double(hits.reduce(0, +)) / Double(max(labels.count * k, 1))
    }

    /// Precision@k of the queries of each class, keyed by label.
    public static func perClassPrecision(at k: Int, neighbors: [Int], width: Int, labels: [Int]) -> [Int: Double] {
        let hits = relevantCounts(at: k, neighbors: neighbors, width: width, labels: labels)
        var sums = [Int: (hits: Int, queries: Int)]()
        for (q, label) in labels.enumerated() {
            let old = sums[label, default: (0, 0)]
            sums[label] = (old.hits + hits[q], old.queries + 1)
        }
        return sums.mapValues { Double($0.hits) / Double($0.queries * k) }
    }

    /// Recall@k: the mean over queries of the fraction of their relevant items (the other
    /// members of their class) found among their first k neighbors; queries alone in their
    /// class are skipped.
    public static func recall(at k: Int, neighbors: [Int], width: Int, labels: [Int]) -> Double {
        let hits = relevantCounts(at: k, neighbors: neighbors, width: width, labels: labels)
        let sizes = classSizes(labels)
        var total = 0.0
        var counted = 0
        for (q, label) in labels.enumerated() {
            let relevant = (sizes[label] ?? 1) - 1
            guard relevant > 0 else { continue }
            total += Double(hits[q]) / Double(relevant)
            counted += 1
        }
        return counted == 0 ? 0 : total / Double(counted)
    }

    /// AP@R of one query: `relevance` flags its R nearest neighbors, where R is the number
    /// of items relevant to it; the score is `(1/R) Σ_{i ≤ R, relevant i} Precision@i`
    /// (Musgrave et al., "A Metric Learning Reality Check", ECCV 2020).
    public static func averagePrecisionAtR(_ relevance: [Bool]) -> Double {
        var hits = 0
        var sum = 0.0
        for (i, relevant) in relevance.enumerated() where relevant {
            hits += 1
            sum += Double(hits) / Double(i + 1)
        }
        return relevance.isEmpty ? 0 : sum / Double(relevance.count)
    }

    /// mAP@R: the mean of `averagePrecisionAtR` over queries with at least one relevant item.
    public static func meanAveragePrecisionAtR(queries: Int, relevance: (Int) -> [Bool]) -> Double {
        var total = 0.0
        var counted = 0
        for q in 0..<queries {
            let flags = relevance(q)
            guard !flags.isEmpty else { continue }
            total += averagePrecisionAtR(flags)
            counted += 1
        }
        return counted == 0 ? 0 : total / Double(counted)
    }

    /// The relevance flags of each query's first `R` neighbors from full-enough neighbor
    /// lists (`width` at least the largest class size minus one).
    public static func relevanceAtR(neighbors: [Int], width: Int, labels: [Int]) -> (Int) -> [Bool] {
        let sizes = classSizes(labels)
        return { q in
            let r = (sizes[labels[q]] ?? 1) - 1
            precondition(r <= width, "mAP@R needs \(r) neighbors per query, the lists hold \(width)")
            return (0..<r).map { labels[neighbors[q * width + $0]] == labels[q] }
        }
    }

    /// How many items share each label.
    static func classSizes(_ labels: [Int]) -> [Int: Int] {
        labels.reduce(into: [:]) { $0[$1, default: 0] += 1 }
    }

    /// For each query, how many of its first k neighbors are relevant.
    private static func relevantCounts(at k: Int, neighbors: [Int], width: Int, labels: [Int]) -> [Int] {
        precondition(k > 0 && k <= width, "k = \(k) must be in 1...\(width) (neighbors per query)")
        precondition(
            neighbors.count == labels.count * width, "\(neighbors.count) neighbor ids for \(labels.count) queries x \(width)")
        return labels.indices.map { q in
            var hits = 0
            for j in 0..<k where labels[neighbors[q * width + j]] == labels[q] { hits += 1 }
            return hits
        }
    }
}
