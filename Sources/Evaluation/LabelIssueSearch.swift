public import Common
public import VectorSearch

/// Label issues of L2-normalized embeddings: each row's nearest other rows (one exact all-pairs
/// pass, cosine) vote for its class (``NeighborVotes``), and ``LabelIssues`` ranks and flags.
///
/// The search that `pic2vec label-issues`, experiment 09 and the audit page of `pic2vec serve` run.
///
/// ```swift
/// let search = try LabelIssueSearch(points: embeddings.l2Normalized(), labels: labels, k: 20)
/// for issue in search.flagged { print(issue.row, issue.label, "->", issue.suggested, search.supporters(of: issue)) }
/// ```
public struct LabelIssueSearch: Sendable {
    /// Each row's nearest other rows, by cosine similarity.
    public let neighbors: Neighbors
    /// The labels that were checked.
    public let labels: [Int]
    /// The ranked and flagged issues.
    public let issues: LabelIssues

    /// The issues of `labels` given each row's `neighbors` (reused for several sets of labels).
    public init(neighbors: Neighbors, labels: [Int]) {
        precondition(neighbors.queries == labels.count, "\(labels.count) labels for \(neighbors.queries) rows")
        self.neighbors = neighbors
        self.labels = labels
        issues = LabelIssues(
            probabilities: NeighborVotes().probabilities(
                ids: neighbors.ids, similarities: neighbors.distances, width: neighbors.k, labels: labels,
                classes: (labels.max() ?? 0) + 1),
            labels: labels)
    }

    /// The issues of `labels` of the L2-normalized rows of `points`, each voted on by its `k` nearest others.
    public init(points: Matrix, labels: [Int], k: Int, threads: Int = ThreadPools.cores) throws(VectorSearchError) {
        self.init(neighbors: try Self.neighbors(of: points, k: k, threads: threads), labels: labels)
    }

    /// The `k` nearest other rows of every row of `points` by cosine similarity: one exact all-pairs pass.
    public static func neighbors(of points: Matrix, k: Int, threads: Int = ThreadPools.cores) throws(VectorSearchError)
        -> Neighbors
    {
        try AllPairsSearch(metric: .innerProduct, threads: threads).run(points, k: k).neighbors
    }

    /// The flagged issues, most suspicious first.
    public var flagged: ArraySlice<LabelIssues.Issue> { issues.ranked.prefix(issues.flagged) }

    /// The neighbors of `issue`'s row that carry its suggested label: the images that argue for it.
    public func supporters(of issue: LabelIssues.Issue) -> [Int] {
        neighbors.ids(of: issue.row).filter { $0 >= 0 && labels[$0] == issue.suggested }
    }
}
