import ArgumentParser
import CollectionStore
import Common
import Evaluation
import Foundation
import ImageData
import VectorSearch

/// `pic2vec label-issues`: images whose given label is probably wrong, from their embeddings alone.
struct LabelIssuesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "label-issues",
        abstract: "Rank images whose label is probably wrong, and estimate how many labels are wrong.",
        discussion: """
            L2-normalizes the embeddings and finds every image's --k nearest other images (exact all-pairs \
            search). Their labels, each weighted by cosine similarity, give the image out-of-sample class \
            probabilities; the score of an image is 1 - p(given label). Confident learning (cleanlab's \
            confident joint) estimates from the same probabilities how many labels are wrong, and that many \
            of the highest-scoring images are flagged, each with its suggested label and the neighbours that \
            carry it. JSON output (--json): {"flagged": N, "issues": [{"row", "path" (when known), "label", \
            "suggested", "score", "neighbors"}]}, most suspicious first.
            """)

    @Option(help: "Input .npy of float32 embeddings, one per row (or --data to embed images first).")
    var embeddings: String?

    @Option(help: "Input .npy of int64 labels, one per row (default: the embeddings' own labels, or the folder's classes).")
    var labels: String?

    @Option(help: "An image folder of <class>/ folders (or train/ and test/) to embed first, instead of --embeddings.")
    var data: String?

    @Option(help: "Which split of --data, when it has train and test.")
    var split: DataSplit = .train

    /// The network, weights and preset, with --data.
    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Nearest neighbours that vote for each image's class.")
    var k: Int = 20

    @Option(help: "List at most this many flagged images (the count flagged is not changed).")
    var limit: Int?

    @OptionGroup var format: JSONOption

    @OptionGroup var threading: ThreadOptions

    func validate() throws {
        guard (embeddings == nil) != (data == nil) else { throw ValidationError("give either --embeddings or --data") }
        if data != nil, modelOptions.weights == nil {
            throw ValidationError("--data needs --weights (torchvision, random or a weight file PATH)")
        }
        if embeddings != nil, modelOptions.weights != nil || modelOptions.model != nil {
            throw ValidationError("--model and --weights are used with --data, not with --embeddings")
        }
        guard k > 0 else { throw ValidationError("--k must be positive, got \(k)") }
        if let limit, limit < 0 { throw ValidationError("--limit must be at least 0") }
    }

    /// The rows to audit: L2-normalized embeddings, their labels, and their files when known.
    private struct Rows {
        let points: Matrix
        let labels: [Int]
        let paths: [String]?
        let description: String
    }

    func run() async throws {
        let rows = try await readRows()
        guard k < rows.points.rows else {
            throw ValidationError(
                "--k \(k) must be below the number of images (\(rows.points.rows)): an image never votes for itself")
        }
        let started = Date()
        let search = try LabelIssueSearch(points: rows.points, labels: rows.labels, k: k, threads: threading.threads)
        let issues = search.issues
        let listed = search.flagged.prefix(limit ?? .max).map { issue in
            LabelIssuesOutput.Issue(
                row: issue.row, path: rows.paths?[issue.row], label: issue.label, suggested: issue.suggested,
                score: issue.score, neighbors: search.supporters(of: issue))
        }
        if format.json {
            try printJSON(LabelIssuesOutput(flagged: issues.flagged, issues: listed))
            return
        }
        print(
            "\(issues.flagged) of \(rows.labels.count) labels flagged as probably wrong (\(rows.description); \(k) neighbours; \(String(format: "%.1f", Date().timeIntervalSince(started))) s)"
        )
        for issue in listed {
            let name = issue.path.map { "  \($0)" } ?? ""
            print(
                String(format: "row %d: label %d -> %d, score %.3f%@", issue.row, issue.label, issue.suggested, issue.score, name)
            )
            print("  neighbours with label \(issue.suggested): \(issue.neighbors.map(String.init).joined(separator: " "))")
        }
    }

    /// Reads (or embeds) the rows and their labels, refusing labels below 0.
    private func readRows() async throws -> Rows {
        let rows: Rows
        if let embeddings {
            let points = try EmbeddingFile.read(embeddings, normalize: true)
            let own = EmbeddingOutput(path: embeddings)
            let labels =
                try labels.map { try EmbeddingFile.readLabels($0, count: points.rows) } ?? own.readLabels(rows: points.rows)
            guard let labels else {
                throw FileError(embeddings, "has no labels beside it (\(own.defaultLabelsPath)): give --labels", kind: .missing)
            }
            rows = Rows(
                points: points, labels: labels, paths: try own.readFileList(rows: points.rows)?.files.map(\.path),
                description: embeddings)
        } else {
            let dataset = try DataSource.open(data ?? "", root: "cifar").dataset(split, of: data ?? "")
            let embedder = try await modelOptions.embedder(threads: threading.threads)
            let points = try embedder.embedder.embed(dataset, progress: !format.json).l2Normalized()
            let labels = try labels.map { try EmbeddingFile.readLabels($0, count: points.rows) } ?? dataset.labels
            guard let labels else { throw FileError(data ?? "", "has no class folders: give --labels", kind: .missing) }
            rows = Rows(points: points, labels: labels, paths: dataset.ids, description: embedder.description)
        }
        if let bad = rows.labels.firstIndex(where: { $0 < 0 }) {
            throw FileError(
                labels ?? embeddings ?? data ?? "", "label \(rows.labels[bad]) of row \(bad) is negative", kind: .malformed)
        }
        return rows
    }
}

/// What `pic2vec label-issues --json` prints: the estimated number of wrong labels and the flagged images.
struct LabelIssuesOutput: Encodable {
    struct Issue: Encodable {
        let row: Int
        /// The image's file, when known.
        let path: String?
        let label: Int
        let suggested: Int
        /// `1 - p(label)`: the out-of-sample probability that the label is wrong.
        let score: Double
        /// The image's neighbours that carry the suggested label, nearest first.
        let neighbors: [Int]
    }

    let flagged: Int
    let issues: [Issue]
}
