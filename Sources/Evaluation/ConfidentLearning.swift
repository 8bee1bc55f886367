/// The confident joint of given and likely true labels, and from it how many given labels are
/// wrong (Northcutt et al., "Confident Learning: Estimating Uncertainty in Dataset Labels",
/// JAIR 2021; the definitions of cleanlab's `compute_confident_joint` and of `num_label_issues`
/// with `estimation_method="off_diagonal_calibrated"`, the count cleanlab suggests as the cut-off
/// of a ranking).
///
/// Class `c`'s threshold is the mean probability of `c` over the images labelled `c`. An image is
/// confidently of class `j` when its probability of `j` reaches `j`'s threshold; when several
/// classes do, the most probable of all. The confident joint counts images by (given label,
/// confident class). Calibrated, each row is scaled to the number of images given that label and
/// the whole to the number of images (rounded to whole counts, row totals kept); its off-diagonal
/// share of all images is the estimated share of wrong labels.
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
    /// The joint calibrated to the given labels' counts, in whole images.
    public let calibrated: [[Int]]
    /// The estimated number of wrong labels: the calibrated joint's off-diagonal share of all images.
    public let issueCount: Int

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
        for (i, label) in labels.enumerated() {
            // cleanlab compares with a tolerance of 1e-6, so a class exactly at its threshold counts.
            let confident = (0..<classes).filter { p[i, $0] >= thresholds[$0] - 1e-6 }
            guard let first = confident.first else { continue }
            joint[label][confident.count > 1 ? p.argmax(i) : first] += 1
        }
        let calibrated = Self.calibrate(joint, counts: counts)
        let total = calibrated.joined().reduce(0, +)
        let diagonal = (0..<classes).map { calibrated[$0][$0] }.reduce(0, +)
        self.thresholds = thresholds
        self.joint = joint
        self.calibrated = calibrated
        issueCount =
            total > 0 ? Int((Double(total - diagonal) / Double(total) * Double(labels.count)).rounded(.toNearestOrEven)) : 0
    }

    /// Scales each row of `joint` to its label's count and the whole to the number of images, then
    /// rounds each row to whole counts keeping its total (cleanlab's `calibrate_confident_joint`).
    static func calibrate(_ joint: [[Int]], counts: [Int]) -> [[Int]] {
        let rows = zip(joint, counts).map { row, count in
            let sum = Double(row.reduce(0, +))
            return row.map { sum > 0 ? Double($0) / sum * Double(count) : 0 }
        }
        let total = rows.joined().reduce(0, +)
        let images = Double(counts.reduce(0, +))
        return rows.map { row in roundedKeepingSum(row.map { total > 0 ? $0 / total * images : 0 }).map { Int($0) } }
    }

    /// `values` rounded half to even, then moved by 1 where rounding lost the most until they sum
    /// to their rounded total (cleanlab's `round_preserving_sum`).
    static func roundedKeepingSum(_ values: [Double]) -> [Double] {
        var rounded = values.map { $0.rounded(.toNearestOrEven) }
        let target = values.reduce(0, +).rounded(.toNearestOrEven)
        while abs(rounded.reduce(0, +) - target) > 1e-6 {
            let step: Double = target < rounded.reduce(0, +) ? -1 : 1
            let changes = min(Int(abs(target - rounded.reduce(0, +)).rounded()), values.count)
            let lost = values.indices.map { values[$0] - rounded[$0] }
            // numpy's ascending argsort, reversed when adding: among equal losses the last index goes first.
            let ascending = values.indices.sorted { (lost[$0], $0) < (lost[$1], $1) }
            for i in (step > 0 ? Array(ascending.reversed()) : ascending).prefix(changes) { rounded[i] += step }
        }
        return rounded
    }
}
