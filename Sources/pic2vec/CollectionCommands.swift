import ArgumentParser
import CollectionStore
import Common
import Foundation

/// `pic2vec add`: adds new images to an indexed collection without building it again.
struct AddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add images to an indexed collection: only those it does not hold yet, without rebuilding it.",
        discussion: """
            Embeds, with the network, weights and preprocessing of <index>.json, only the images (files, or folders \
            of them: class subfolders give labels) whose bytes the collection does not hold yet (SHA-256: a moved or \
            renamed file is not embedded again; its path is updated), and adds them as new rows. The labels, the \
            rows' file list (<index>.files.json), the saved re-ranking lists (updated) and the map (new points placed \
            into the t-SNE layout, the old ones unmoved) follow, all written as one unit with the next generation \
            number, which `pic2vec serve` notices.
            """)

    @Option(help: "The collection's index file.")
    var index: String

    @Option(parsing: .upToNextOption, help: "Image files or folders to add.")
    var data: [String]

    @OptionGroup var threading: ThreadOptions

    func validate() throws {
        guard !data.isEmpty else { throw ValidationError("give --data FILE_OR_FOLDER...") }
    }

    func run() async throws {
        let editor = try CollectionEditor(index: index, threads: threading.threads)
        let summary = try await editor.add(data)
        CollectionSummary.report(summary)
        print(CollectionSummary.line(summary, index: index, verb: "added \(summary.added)"))
    }
}

/// `pic2vec remove`: removes images from an indexed collection without building it again.
struct RemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Remove images from an indexed collection, by path or every one whose file is gone.",
        discussion: """
            Removes the rows of the given files (or, with --missing, of every file that no longer exists); later rows \
            move down. Flat and IVF indexes drop the rows in place; an HNSW graph is built again from its kept rows. \
            Labels, file list, re-ranking lists and map follow, written as one unit with the next generation number.
            """)

    @Option(help: "The collection's index file.")
    var index: String

    @Option(parsing: .upToNextOption, help: "Image files to remove (as the collection lists them, or relative to here).")
    var path: [String] = []

    @Flag(help: "Remove every image whose file no longer exists.")
    var missing = false

    @OptionGroup var threading: ThreadOptions

    func validate() throws {
        guard !path.isEmpty || missing else { throw ValidationError("give --path FILE... or --missing") }
    }

    func run() throws {
        let editor = try CollectionEditor(index: index, threads: threading.threads)
        let summary = try editor.remove(path, missing: missing)
        CollectionSummary.report(summary)
        print(CollectionSummary.line(summary, index: index, verb: "removed \(summary.removed)"))
    }
}

/// The line `add` and `remove` print.
enum CollectionSummary {
    static func line(_ summary: CollectionEditor.Summary, index: String, verb: String) -> String {
        var parts = ["\(index): \(verb)"]
        if summary.alreadyHeld > 0 { parts.append("\(summary.alreadyHeld) already held") }
        if summary.moved > 0 { parts.append("\(summary.moved) moved (paths updated)") }
        parts.append("\(summary.rows) images")
        parts.append(summary.generation.map { "generation \($0)" } ?? "nothing changed")
        return (parts + summary.notes).joined(separator: "; ")
    }

    /// Writes each stage's time to standard error.
    static func report(_ summary: CollectionEditor.Summary) {
        let lines = summary.stages.map { "  \($0.name): \(String(format: "%.2f", $0.seconds)) s\n" }
        FileHandle.standardError.write(Data(lines.joined().utf8))
    }
}
