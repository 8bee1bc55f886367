/// How two vectors are compared.
public enum Metric: String, Sendable, CaseIterable {
    /// Squared Euclidean distance: smaller is closer.
    case l2
    /// Inner product (cosine on L2-normalized rows): larger is closer.
    case innerProduct

    /// FAISS's `MetricType` value (METRIC_INNER_PRODUCT = 0, METRIC_L2 = 1).
    var faissValue: Int32 { self == .l2 ? 1 : 0 }
}
