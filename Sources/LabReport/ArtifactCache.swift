import Common
import Foundation

/// Artifacts under one folder, each with a sidecar that records the inputs it was made from.
///
/// An artifact is reused only when its sidecar's key (a SHA-256 over the inputs) matches and the
/// file is still there; otherwise it is rebuilt. Both files are written atomically, the artifact
/// first, so a crash never leaves a sidecar that vouches for a half-written file.
public struct ArtifactCache: Sendable {
    /// The folder that holds the artifacts.
    public let folder: String

    public init(folder: String) {
        self.folder = folder
    }

    /// The key for a set of named inputs (order does not matter).
    public static func key(_ inputs: [String: String]) -> String {
        var print = Fingerprint()
        for (name, value) in inputs.sorted(by: { $0.key < $1.key }) { print.update("\(name)=\(value)\n") }
        return print.finalize()
    }

    /// The path of artifact `name`.
    public func path(_ name: String) -> String { folder + "/" + name }

    /// The path of `name` if a valid artifact made from `inputs` is there: its sidecar's
    /// key matches and the file still has the SHA-256 recorded when it was stored (a file
    /// damaged or replaced since is rebuilt, not trusted).
    public func lookup(_ name: String, inputs: [String: String]) -> String? {
        let target = path(name)
        guard FileManager.default.fileExists(atPath: target),
            let data = FileManager.default.contents(atPath: sidecar(name)),
            let stored = try? JSONDecoder().decode(Sidecar.self, from: data),
            stored.key == Self.key(inputs), let sha256 = stored.sha256,
            (try? Fingerprint.ofFile(target)) == sha256
        else { return nil }
        return target
    }

    /// Writes artifact `name` through `write` (which fills a temporary path), then its sidecar.
    @discardableResult
    public func store(_ name: String, inputs: [String: String], _ write: (String) throws -> Void) throws -> String {
        let target = path(name)
        try? FileManager.default.removeItem(atPath: sidecar(name))
        try AtomicFile.write(to: target, write)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let record = Sidecar(key: Self.key(inputs), inputs: inputs, sha256: try Fingerprint.ofFile(target))
        try AtomicFile.write(try encoder.encode(record), to: sidecar(name))
        return target
    }

    private func sidecar(_ name: String) -> String { path(name) + ".inputs.json" }

    private struct Sidecar: Codable {
        var key: String
        var inputs: [String: String]
        /// The artifact's SHA-256 when stored (absent in sidecars of older versions: rebuilt).
        var sha256: String?
    }
}
