import Common
import Foundation

/// The marks a person made on the audit page of `pic2vec serve`, as `CollectionFiles.auditMarksPath`
/// holds them: schema `pic2vec-audit-marks/1`, `{"schema", "marks": [{"path", "mark"}]}`, sorted by path.
public struct AuditMarks: Codable, Sendable, Equatable {
    public static let schemaName = "pic2vec-audit-marks/1"
    /// The largest marks file read: about 100 bytes a mark, a million marks.
    static let maximumBytes = 128 << 20

    /// What a person decided about an image.
    public enum Mark: String, Codable, Sendable, CaseIterable {
        case keep
        case duplicate
        case wrongLabel = "wrong-label"
    }

    /// One marked image.
    public struct Entry: Codable, Sendable, Equatable {
        public let path: String
        public let mark: Mark
    }

    public let schema: String
    public let marks: [Entry]

    /// The file form of `marks` (image path to mark), sorted by path.
    public init(_ marks: [String: Mark]) {
        schema = Self.schemaName
        self.marks = marks.sorted { $0.key < $1.key }.map { Entry(path: $0.key, mark: $0.value) }
    }

    /// Each marked path's mark (the last one where a path repeats).
    public var byPath: [String: Mark] { Dictionary(marks.map { ($0.path, $0.mark) }) { _, last in last } }
}

extension CollectionFiles {
    /// The audit marks beside the index, or nil when none were made; a damaged file or another
    /// schema is an error naming the file.
    public func readAuditMarks() throws -> AuditMarks? {
        guard FileManager.default.fileExists(atPath: auditMarksPath) else { return nil }
        let kind = "audit marks file"
        let saved = try JSONFile.decode(
            AuditMarks.self, from: try RegularFile.contents(auditMarksPath, maxBytes: AuditMarks.maximumBytes, kind: kind),
            path: auditMarksPath, kind: kind)
        guard saved.schema == AuditMarks.schemaName else {
            throw FileError(auditMarksPath, "has schema '\(saved.schema)', expected \(AuditMarks.schemaName)", kind: .mismatch)
        }
        return saved
    }

    /// Replaces the audit marks beside the index atomically.
    public func writeAuditMarks(_ marks: AuditMarks) throws {
        try AtomicFile.write(try JSONFile.encode(marks), to: auditMarksPath)
    }
}
