import CollectionStore
import Common
import Foundation
import ImageData
import LabReport
import Networks
import Plots
import VectorSearch

/// Experiment 03: the notebook's FAISS index and its retrieval examples.
///
/// Saves what the notebook saves (`faiss_index.index`, `embeddings.npy` L2-normalized, `labels.npy`)
/// and draws retrieval grids: the query, then its k nearest other images with label and distance.
struct IndexAndGalleryExperiment: Experiment {
    let number = 3
    let title = "Index and retrieval gallery"

    func run(_ context: Context) async throws -> ReportSection {
        var section = ReportSection(number: number, title: title)
        let train = try context.dataset(.train)
        let embeddings = try await context.embeddings(.train).l2Normalized()
        let out = context.options.out
        let index = try VectorIndex(dimension: embeddings.columns, kind: .flat, metric: .l2)
        try index.add(embeddings)
        let weights = try await context.weights()
        let description = IndexDescription(
            data: context.options.data, split: .train, limit: context.options.limit, dataFingerprint: train.fingerprint,
            model: weights.model, weights: context.options.weights, seed: context.seed, weightsHash: weights.hash,
            preset: context.options.preset, normalized: true, rerank: RerankingPipeline.recommended.description,
            precision: weights.precision)
        // The index, its description and labels, and the notebook's embeddings and labels replace
        // the old ones as one unit: `pic2vec serve` never pairs a new index with an old description.
        let collection = context.collection
        try collection.write(index, description: description, labels: train.labels) { files in
            try files.add(
                NPY.encode(embeddings.values, shape: [embeddings.rows, embeddings.columns]), to: collection.notebookEmbeddingsPath
            )
            if let labels = train.labels {
                try files.add(NPY.encode(labels), to: collection.notebookLabelsPath)
            } else {
                files.remove(collection.notebookLabelsPath)
            }
        }
        section.paragraph(
            "Saved `\(collection.index)` (with `\(collection.descriptionPath)`, which tells `pic2vec serve` and `pic2vec search --image` how its rows were made, and its labels `\(collection.labelsPath)`; FAISS IndexFlatL2 over \(index.count) L2-normalized \(index.dimension)-d "
                + "train embeddings), `\(collection.notebookEmbeddingsPath)` and `\(collection.notebookLabelsPath)`, as the notebook does. The description "
                + "records the re-ranking that `pic2vec search` and `pic2vec serve` apply by default, `\(RerankingPipeline.recommended)` "
                + "(experiment 10 measures its gain and cost; `--rerank none` turns it off). The grids below are plain "
                + "exact search, the notebook's retrieval. Each grid "
                + "shows the query, then its nearest other images (the query itself, at distance 0, is left out) with "
                + "their class and squared L2 distance; green frames share the query's class, red frames do not.")

        var queries = [(id: 42, k: 5), (id: 999, k: 8)].filter { $0.id < train.count }
        queries += sampleIndices(count: train.count, take: 3, seed: context.seed).map { (id: $0, k: 8) }
        var rows: [[String]] = []
        for query in queries {
            let hits = try index.nearest(Array(embeddings.row(query.id)), k: query.k, excluding: query.id)
            let queryImage = try train.image(at: query.id)
            var tiles = [
                ImageGrid.Tile(
                    pixels: queryImage.pixels, width: queryImage.width, height: queryImage.height,
                    caption: "query #\(query.id)\n\(className(train, query.id))")
            ]
            var correct = 0
            for hit in hits {
                let image = try train.image(at: hit.id)
                let same = train.labels.map { $0[hit.id] == $0[query.id] }
                if same == true { correct += 1 }
                tiles.append(
                    ImageGrid.Tile(
                        pixels: image.pixels, width: image.width, height: image.height,
                        caption: "\(className(train, hit.id))\nd = \(String(format: "%.3f", hit.distance))",
                        frame: same.map { $0 ? Color.green : Color.red }))
            }
            try context.figure(
                ImageGrid(
                    title: "Query #\(query.id): top \(query.k)" + context.weightsTag, tiles: tiles,
                    columns: tiles.count, tileSide: 96, captionLines: 2),
                name: "03-retrieval-query-\(query.id)",
                caption: "Top-\(query.k) retrieval for image #\(query.id)"
                    + context.weightsTag, in: &section)
            rows.append([
                String(query.id), className(train, query.id), String(query.k),
                train.labels == nil ? "-" : String(format: "%.2f", Double(correct) / Double(query.k)),
            ])
        }
        section.table(Table(headers: ["query", "class", "k", "precision"], rows: rows))
        return section
    }

    private func className(_ dataset: any ImageDataset, _ id: Int) -> String {
        dataset.labels.map { dataset.classNames[$0[id]] } ?? "unlabeled"
    }
}
