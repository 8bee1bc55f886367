import ArgumentParser
import CollectionStore
import Common
import Foundation
import SearchService
import VectorSearch

/// `pic2vec search`: the nearest stored vectors of a query, from a saved FAISS index.
struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Find the k nearest neighbors of a query in a FAISS index file.",
        discussion: """
            --query-index N uses the index's own vector N as the query and leaves it out of the \
            results. Labels come from --labels, the index's <index>.labels.npy, or \
            labels.npy beside the index when it holds one label per row. --image FILE embeds a JPEG or PNG with \
            the weights, preset and normalization recorded in <index>.json (or given as options).
            """)

    @Option(help: "FAISS index file (pic2vec index, or faiss.write_index in Python).")
    var index: String

    @Option(help: "Use stored vector N as the query (excluded from the results).")
    var queryIndex: Int?

    @Option(help: "A JPEG or PNG to search with (any size; gray, RGBA and palette too).")
    var image: String?

    @OptionGroup var origin: IndexOriginOptions

    @Option(name: .customShort("k"), help: "Neighbors to return.")
    var k: Int

    @Option(help: "Labels .npy (int64, one per stored vector).")
    var labels: String?

    @OptionGroup var format: JSONOption

    @OptionGroup var threading: ThreadOptions

    /// Where the query vector comes from; an image query is one more case.
    private enum Query {
        case stored(Int)
        case image(String)
    }

    private var query: Query? { queryIndex.map(Query.stored) ?? image.map(Query.image) }

    func validate() throws {
        guard query != nil else { throw ValidationError("give a query: --query-index N or --image FILE") }
        guard queryIndex == nil || image == nil else { throw ValidationError("give one query: --query-index or --image") }
        if let queryIndex, queryIndex < 0 { throw ValidationError("--query-index must be non-negative") }
        guard k > 0 else { throw ValidationError("-k must be positive, got \(k)") }
    }

    func run() async throws {
        try CollectionFiles(index: index).recover()
        let loaded = try VectorIndex(contentsOf: index, mapped: true, threads: threading.threads)
        guard let query else { throw ValidationError("give a query: --query-index N") }
        let vector: [Float]
        let excluded: Int?
        switch query {
        case .stored(let id):
            vector = try loaded.vector(id)
            excluded = id
        case .image(let path):
            let description = try origin.description(forIndex: index, needsData: false)
            let model = try await SearchSetup.queryModel(description, index: loaded, indexPath: index).model
            vector = try SearchSetup.queryVector(imageFile: path, model: model)
            excluded = nil
        }
        let available = loaded.count - (excluded == nil ? 0 : 1)
        guard k <= available else {
            throw ValidationError("-k \(k) exceeds the \(available) vectors available in \(index)")
        }
        let pipeline = try origin.reranking(forIndex: index)
        let hits =
            pipeline == .baseline
            ? try loaded.nearest(vector, k: k, excluding: excluded)
            : try RerankedIndex(
                pipeline: pipeline, index: loaded, path: index, origin: origin.rerankOrigin
            ).nearest(vector, k: k, excluding: excluded)
        let labelValues = try labelsForIndex(count: loaded.count)
        if format.json {
            try printJSON(
                SearchOutput(
                    query: excluded, k: k,
                    neighbors: hits.map { .init(id: $0.id, label: labelValues?[$0.id], distance: $0.distance) }))
        } else {
            print("rank  id        label  distance")
            for (rank, hit) in hits.enumerated() {
                let label = labelValues.map { String($0[hit.id]) } ?? "-"
                print(
                    String(rank + 1).padding(toLength: 6, withPad: " ", startingAt: 0)
                        + String(hit.id).padding(toLength: 10, withPad: " ", startingAt: 0)
                        + label.padding(toLength: 7, withPad: " ", startingAt: 0) + String(hit.distance))
            }
        }
    }

    /// The labels of the indexed vectors, when a labels file is known.
    private func labelsForIndex(count: Int) throws -> [Int]? {
        if let labels { return try EmbeddingFile.readLabels(labels, count: count) }
        return try CollectionFiles(index: index).readLabels(rows: count)
    }
}
