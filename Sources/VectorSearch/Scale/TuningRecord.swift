/// What `pic2vec index --type auto` chose and measured, kept in the index description.
public struct TuningRecord: Codable, Sendable, Equatable {
    /// Recall is recall@k.
    public var k: Int
    /// The recall asked for.
    public var targetRecall: Double
    /// The memory budget in bytes, or nil for none.
    public var memoryBudget: Int?
    /// The chosen index's estimated size in memory, in bytes.
    public var estimatedBytes: Int
    /// Rows of the data used as queries to tune the search parameter.
    public var tuningQueries: Int
    /// Other rows of the data, used only to measure the chosen index's recall.
    public var validationQueries: Int
    /// Recall@k of the chosen index on the tuning queries.
    public var tuningRecall: Double
    /// Recall@k of the chosen index on the validation queries (what the target is judged by).
    public var validationRecall: Double
    /// The seed that drew the query rows.
    public var seed: UInt64
    /// Every candidate tried, in order, with its search parameter and tuning recall.
    public var tried: [String]

    public init(
        k: Int, targetRecall: Double, memoryBudget: Int?, estimatedBytes: Int, tuningQueries: Int, validationQueries: Int,
        tuningRecall: Double, validationRecall: Double, seed: UInt64, tried: [String]
    ) {
        self.k = k
        self.targetRecall = targetRecall
        self.memoryBudget = memoryBudget
        self.estimatedBytes = estimatedBytes
        self.tuningQueries = tuningQueries
        self.validationQueries = validationQueries
        self.tuningRecall = tuningRecall
        self.validationRecall = validationRecall
        self.seed = seed
        self.tried = tried
    }
}
