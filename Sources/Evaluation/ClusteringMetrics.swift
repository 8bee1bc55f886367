import Foundation

/// Counts of points per (cluster, class) pair: rows are clusters, columns classes.
public struct ContingencyTable: Sendable, Equatable {
    /// Cluster ids, sorted: the row order.
    public let clusters: [Int]
    /// Class labels, sorted: the column order.
    public let classes: [Int]
    /// `counts[row][column]`.
    public let counts: [[Int]]

    /// Tallies `assignments[i]` against `labels[i]`.
    public init(assignments: [Int], labels: [Int]) {
        precondition(assignments.count == labels.count, "\(assignments.count) assignments for \(labels.count) labels")
        clusters = Set(assignments).sorted()
        classes = Set(labels).sorted()
        let row = Dictionary(uniqueKeysWithValues: clusters.enumerated().map { ($1, $0) })
        let column = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        var table = [[Int]](repeating: [Int](repeating: 0, count: classes.count), count: clusters.count)
        for (a, l) in zip(assignments, labels) {
            if let r = row[a], let c = column[l] { table[r][c] += 1 }
        }
        counts = table
    }

    /// How many points.
    public var total: Int { counts.joined().reduce(0, +) }
}

/// Agreement between a clustering and class labels.
///
/// NMI uses the arithmetic mean of the two entropies (scikit-learn's default); ARI is
/// Hubert & Arabie's adjusted Rand index (J. Classification, 1985).
public enum ClusteringMetrics {
    /// Purity: the fraction of points that belong to their cluster's most common class.
    public static func purity(_ table: ContingencyTable) -> Double {
        Double(table.counts.map { $0.max() ?? 0 }.reduce(0, +)) / Double(max(table.total, 1))
    }

    /// Normalized mutual information, `I(U; V) / ((H(U) + H(V)) / 2)`.
    public static func normalizedMutualInformation(_ table: ContingencyTable) -> Double {
        let n = Double(table.total)
        let rowSums = table.counts.map { Double($0.reduce(0, +)) }
        let columnSums = table.classes.indices.map { c in Double(table.counts.reduce(0) { $0 + $1[c] }) }
        if rowSums.count == 1, columnSums.count == 1 { return 1 }
        if rowSums.count <= 1 || columnSums.count <= 1 { return 0 }
        var mutual = 0.0
        for (r, row) in table.counts.enumerated() {
            for (c, count) in row.enumerated() where count > 0 {
                let joint = Double(count)
                mutual += joint / n * log(joint * n / (rowSums[r] * columnSums[c]))
            }
        }
        let mean = (entropy(rowSums, n) + entropy(columnSums, n)) / 2
        return mean > 0 ? max(0, mutual) / mean : 0
    }

    /// The adjusted Rand index: the Rand index corrected for chance (1 = identical, about 0 = random).
    public static func adjustedRandIndex(_ table: ContingencyTable) -> Double {
        func pairs(_ x: Int) -> Double { Double(x) * Double(x - 1) / 2 }
        let index = table.counts.joined().reduce(0.0) { $0 + pairs($1) }
        let rows = table.counts.reduce(0.0) { $0 + pairs($1.reduce(0, +)) }
        let columns = table.classes.indices.reduce(0.0) { sum, c in sum + pairs(table.counts.reduce(0) { $0 + $1[c] }) }
        let all = pairs(table.total)
        let expected = all > 0 ? rows * columns / all : 0
        let maximum = (rows + columns) / 2
        return maximum == expected ? 1 : (index - expected) / (maximum - expected)
    }

    private static func entropy(_ sums: [Double], _ n: Double) -> Double {
        -sums.reduce(0) { $1 > 0 ? $0 + $1 / n * log($1 / n) : $0 }
    }
}
