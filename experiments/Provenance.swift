import Foundation

/// What the report header says about the code that ran: the commit and the Swift packages.
enum Provenance {
    /// The short commit hash, with " + uncommitted changes" when tracked files other than the
    /// run's own outputs (`outputs`, `figures`) differ from it. Read when the run starts.
    static func commit(outputs: [String]) -> String {
        guard let hash = Shell.output("git", "rev-parse", "--short", "HEAD") else { return "unknown (not a git checkout)" }
        let excluded = outputs.map { ":(exclude)" + $0 }
        let changes = Shell.output(["git", "status", "--porcelain", "--untracked-files=no", "--", "."] + excluded) ?? ""
        return changes.isEmpty ? hash : hash + " + uncommitted changes"
    }

    /// "name version" of every package pinned in `Package.resolved` (written by `swift build`).
    static var packages: String {
        guard let data = FileManager.default.contents(atPath: "Package.resolved"),
            let resolved = try? JSONDecoder().decode(Resolved.self, from: data)
        else { return "unknown (no Package.resolved in the working folder)" }
        return resolved.pins.map { "\($0.identity) \($0.state.version ?? $0.state.revision ?? "?")" }.joined(separator: ", ")
    }

    private struct Resolved: Decodable {
        struct Pin: Decodable {
            struct State: Decodable {
                var version: String?
                var revision: String?
            }
            var identity: String
            var state: State
        }
        var pins: [Pin]
    }
}
