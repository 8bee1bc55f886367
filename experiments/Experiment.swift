import LabReport

/// One numbered experiment: a notebook cell that reads what it needs from the context and
/// returns its section of the lab report.
///
/// Experiments never call each other: what one needs from another (embeddings, an index) comes
/// from the context, which builds it or reuses the cached artifact.
protocol Experiment: Sendable {
    /// The experiment's number, shown as two digits ("01").
    var number: Int { get }
    /// A short title for listings and the report.
    var title: String { get }
    /// Runs the experiment, writing figures and artifacts through the context.
    func run(_ context: Context) async throws -> ReportSection
    /// Whether `Experiments all` runs it (otherwise only when asked for by number).
    var inAll: Bool { get }
}

extension Experiment {
    var inAll: Bool { true }
}

/// Every experiment, in order.
let catalog: [any Experiment] = [
    DataExperiment(),
    EmbeddingsExperiment(),
    IndexAndGalleryExperiment(),
    NormalizationExperiment(),
    PrecisionSweepExperiment(),
    KMeansExperiment(),
    TSNEExperiment(),
    PreprocessingExperiment(),
    DataAuditExperiment(),
    RerankingExperiment(),
    ScaleExperiment(),
]
