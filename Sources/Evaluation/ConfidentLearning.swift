/// The confident joint of given and likely true labels, and from it how many given labels are
/// wrong (Northcutt et al., "Confident Learning: Estimating Uncertainty in Dataset Labels",
/// JAIR 2021; the definitions of cleanlab's `compute_confident_joint` and `num_label_issues`).
///
/// Class `c`'s threshold is the mean probability of `c` over the images labelled `c`. An image is
/// confidently of class `j` when its probability of `j` reaches `j`'s threshold; when several
/// classes do, the most probable of all. The confident joint counts images by (given label,
/// confident class); an image off its diagonal whose most probable class is not its given label
/// is a label issue, and their number is the estimate of how many labels are wrong.
///
/// ```swift
/// let learning = ConfidentLearning(probabilities: probabilities, labels: labels)
/// print(learning.issueCount)
/// ```
public struct ConfidentLearning: Sendable {
    /// Per class, the mean probability of the class over the images given it (+∞ for a class no image has).
    public let thresholds: [Double]
    /// `joint[given][confident]`: images by given label and confident class (images confident of no class are left out).
    public let joint: [[Int]]
    /// Whether each image is a label issue: confidently of another class, and most probably of another class.
    public let isIssue: [Bool]

    /// The estimated number of wrong labels.
    public var issueCount: Int { isIssue.count { $0 } }

    /// Counts `probabilities` (out-of-sample, one row per label) against `labels` (each in `0..<classes`).
    public init(probabilities p: ClassProbabilities, labels: [Int]) {
        precondition(p.rows == labels.count, "\(p.rows) probability rows for \(labels.count) labels")
        let classes = p.classes
        var sums = [Double](repeating: 0, count: classes)
        var counts = [Int](repeating: 0, count: classes)
        for (i, label) in labels.enumerated() {
            sums[label] += p[i, label]
            counts[label] += 1
        }
        let thresholds = (0..<classes).map { counts[$0] > 0 ? sums[$0] / Double(counts[$0]) : .infinity }
        var joint = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        var isIssue = [Bool](repeating: false, count: labels.count)
        for (i, label) in labels.enumerated() {
            // cleanlab compares with a tolerance of 1e-6, so a class exactly at its threshold counts.
            let confident = (0..<classes).filter { p[i, $0] >= thresholds[$0] - 1e-6 }
            guard let first = confident.first else { continue }
            let guess = confident.count > 1 ? p.argmax(i) : first
            joint[label][guess] += 1
            isIssue[i] = guess != label && Self.mostProbableIsNot(label, row: i, in: p)
        }
        self.thresholds = thresholds
        self.joint = joint
        self.isIssue = isIssue
    }

    /// Whether some class is more probable than `label` for row `i` by more than a rounding error.
    private static func mostProbableIsNot(_ label: Int, row i: Int, in p: ClassProbabilities) -> Bool {
        (0..<p.classes).contains { $0 != label && p[i, $0] > p[i, label] + 1e-6 }
    }
}
