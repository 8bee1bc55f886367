import CollectionStore
import Foundation

/// The audit of a served collection and a person's marks on it: the audit is made once per
/// generation, on first use; the marks are kept by the images' full ids (file paths, as the
/// collection lists them, so that they survive `add` and `remove`) in one JSON file beside the
/// index, rewritten atomically on every change.
public final class AuditDesk: @unchecked Sendable {
    /// The collection whose marks file this desk reads and writes.
    public let files: CollectionFiles
    private let trainedWeights: Bool
    private let lock = NSLock()
    private var marks: [String: AuditMarks.Mark]
    private var audit: (generation: Int, audit: CollectionAudit)?

    /// A desk for the collection of `files`, its marks read now when there are any (a damaged file
    /// is an error naming it); `trainedWeights` picks the network's default duplicate fraction.
    public init(files: CollectionFiles, trainedWeights: Bool) throws {
        self.files = files
        self.trainedWeights = trainedWeights
        marks = try files.readAuditMarks()?.byPath ?? [:]
    }

    /// The audit of `state`, made on first use of its generation.
    func audit(of state: LiveCollection.State) throws -> CollectionAudit {
        if let cached = lock.withLock({ audit }), cached.generation == state.generation { return cached.audit }
        let made = try CollectionAudit(engine: state.engine, trainedWeights: trainedWeights)
        lock.withLock { audit = (state.generation, made) }
        return made
    }

    /// The mark of the image at `path`, if any.
    func mark(of path: String) -> AuditMarks.Mark? { lock.withLock { marks[path] } }

    /// Sets (or with nil clears) the mark of the image at `path` and saves every mark atomically.
    func setMark(_ mark: AuditMarks.Mark?, of path: String) throws {
        try lock.withLock {
            var changed = marks
            changed[path] = mark
            try files.writeAuditMarks(AuditMarks(changed))
            marks = changed
        }
    }

    /// Every mark, as saved.
    var saved: AuditMarks { lock.withLock { AuditMarks(marks) } }
}
