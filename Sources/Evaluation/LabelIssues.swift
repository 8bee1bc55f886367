/// Images whose given label is probably wrong, most suspicious first, and how many to flag.
///
/// Every image gets a score, `1 - p(given label)`, from out-of-sample class probabilities
/// (``NeighborVotes``); ``ConfidentLearning`` estimates from the same probabilities how many labels
/// are wrong, and that many of the highest-scoring images are flagged: no threshold or share is
/// fixed in advance. Each carries the class it most probably belongs to.
///
/// ```swift
/// let issues = LabelIssues(probabilities: probabilities, labels: labels)
/// for issue in issues.ranked.prefix(issues.flagged) { print(issue.row, issue.label, "->", issue.suggested) }
/// ```
public struct LabelIssues: Sendable {
    /// One image whose label is in doubt.
    public struct Issue: Sendable, Equatable {
        /// Its row.
        public let row: Int
        /// Its given label.
        public let label: Int
        /// Its most probable class other than the given label.
        public let suggested: Int
        /// `1 - p(given label)`: the out-of-sample probability that the label is wrong.
        public let score: Double
    }

    /// How many of `ranked` are flagged (the confident-learning estimate of wrong labels).
    public let flagged: Int
    /// Every image whose most probable class is not its given label, highest score first (ties: smaller row first).
    public let ranked: [Issue]

    /// Ranks the images of `labels` by `probabilities` and flags the estimated number of wrong labels.
    public init(probabilities p: ClassProbabilities, labels: [Int]) {
        let learning = ConfidentLearning(probabilities: p, labels: labels)
        var ranked: [Issue] = []
        for (i, label) in labels.enumerated() where p.classes > 1 {
            var suggested = label == 0 ? 1 : 0
            for c in 0..<p.classes where c != label && p[i, c] > p[i, suggested] { suggested = c }
            guard p[i, suggested] > p[i, label] else { continue }
            ranked.append(Issue(row: i, label: label, suggested: suggested, score: 1 - p[i, label]))
        }
        ranked.sort { ($0.score, -$0.row) > ($1.score, -$1.row) }
        self.ranked = ranked
        self.flagged = min(learning.issueCount, ranked.count)
    }
}
