import Common
import Foundation

/// The audit of a served collection and a person's marks on it: the audit is made once per
/// generation, on first use; the marks are kept by the images' full ids (file paths, as the
/// collection lists them, so that they survive `add` and `remove`) in one JSON file beside the
/// index, rewritten atomically on every change.
public final class AuditDesk: @unchecked Sendable {
    /// What a person decided about an image.
    public enum Mark: String, Codable, Sendable, CaseIterable {
        case keep
        case duplicate
        case wrongLabel = "wrong-label"
    }

    /// The marks file, schema `pic2vec-audit-marks/1`: `{"schema", "marks": [{"path", "mark"}]}`, sorted by path.
    public struct Marks: Codable, Sendable, Equatable {
        public static let schemaName = "pic2vec-audit-marks/1"

        /// One marked image.
        public struct Entry: Codable, Sendable, Equatable {
            public let path: String
            public let mark: Mark
        }

        public let schema: String
        public let marks: [Entry]
    }

    /// The largest marks file read: about 100 bytes a mark, a million marks.
    static let maximumBytes = 128 << 20

    /// Where the marks are saved.
    public let marksPath: String
    private let trainedWeights: Bool
    private let lock = NSLock()
    private var marks: [String: Mark]
    private var audit: (generation: Int, audit: CollectionAudit)?

    /// A desk whose marks live at `marksPath` (read now when the file exists: a damaged one is an
    /// error naming it); `trainedWeights` picks the network's default duplicate fraction.
    public init(marksPath: String, trainedWeights: Bool) throws {
        self.marksPath = marksPath
        self.trainedWeights = trainedWeights
        marks = [:]
        if FileManager.default.fileExists(atPath: marksPath) {
            let kind = "audit marks file"
            let saved = try JSONFile.decode(
                Marks.self, from: try RegularFile.contents(marksPath, maxBytes: Self.maximumBytes, kind: kind), path: marksPath,
                kind: kind)
            guard saved.schema == Marks.schemaName else {
                throw FileError(marksPath, "has schema '\(saved.schema)', expected \(Marks.schemaName)", kind: .mismatch)
            }
            marks = Dictionary(saved.marks.map { ($0.path, $0.mark) }) { _, last in last }
        }
    }

    /// The audit of `state`, made on first use of its generation.
    func audit(of state: LiveCollection.State) throws -> CollectionAudit {
        if let cached = lock.withLock({ audit }), cached.generation == state.generation { return cached.audit }
        let made = try CollectionAudit(engine: state.engine, trainedWeights: trainedWeights)
        lock.withLock { audit = (state.generation, made) }
        return made
    }

    /// The mark of the image at `path`, if any.
    func mark(of path: String) -> Mark? { lock.withLock { marks[path] } }

    /// Sets (or with nil clears) the mark of the image at `path` and saves every mark atomically.
    func setMark(_ mark: Mark?, of path: String) throws {
        try lock.withLock {
            var changed = marks
            changed[path] = mark
            try AtomicFile.write(try JSONFile.encode(Self.file(changed)), to: marksPath)
            marks = changed
        }
    }

    /// Every mark, as saved.
    var saved: Marks { lock.withLock { Self.file(marks) } }

    private static func file(_ marks: [String: Mark]) -> Marks {
        Marks(schema: Marks.schemaName, marks: marks.sorted { $0.key < $1.key }.map { Marks.Entry(path: $0.key, mark: $0.value) })
    }
}
