import Common
import Foundation
import ImageData
import LabReport
import Plots
import VectorSearch

/// Experiment 10: re-ranking on top of the embeddings. The test images query the train images;
/// PCA whitening, database-side augmentation, alpha query expansion and k-reciprocal re-ranking,
/// each with parameters chosen on a validation split of train, then the best combination.
struct RerankingExperiment: Experiment {
    let number = 10
    let title = "Re-ranking"
    let ks = [1, 5, 10, 100]
    /// The share of train rows that query the rest during validation.
    let validationShare = 10

    /// One evaluated pipeline.
    struct Outcome {
        var pipeline: RerankingPipeline
        var scores: QueryScores
        var millisecondsPerQuery: Double
        var prepareSeconds: Double
        /// The first 10 results of each query (for the gallery).
        var lists: Neighbors
    }

    func run(_ context: Context) async throws -> ReportSection {
        var section = ReportSection(number: number, title: title)
        let trainSet = try context.dataset(.train)
        guard let trainLabels = trainSet.labels, let testSet = try context.data().test, let testLabels = testSet.labels else {
            section.paragraph("Re-ranking is measured with labeled train and test splits; this data lacks one.")
            return section
        }
        let train = try await context.embeddings(.train).l2Normalized()
        let test = try await context.embeddings(.test).l2Normalized()

        // Validation: a seeded tenth of train queries the other nine tenths.
        let validationRows = Set(sampleIndices(count: train.rows, take: train.rows / validationShare, seed: context.seed))
        let queryRows = (0..<train.rows).filter { validationRows.contains($0) }
        let databaseRows = (0..<train.rows).filter { !validationRows.contains($0) }
        let validation = Split(
            queries: rows(train, queryRows), queryLabels: queryRows.map { trainLabels[$0] },
            database: rows(train, databaseRows), databaseLabels: databaseRows.map { trainLabels[$0] })
        let full = Split(queries: test, queryLabels: testLabels, database: train, databaseLabels: trainLabels)

        let search = try chooseOnValidation(validation, dimension: train.columns)
        describeValidation(search, queries: queryRows.count, database: databaseRows.count, seed: context.seed, in: &section)
        var outcomes: [Outcome] = []
        for pipeline in search.candidates {
            let outcome = try evaluate(pipeline, on: full)
            log("   test \(pipeline): mAP@R \(score(outcome.scores.mapAtR))")
            outcomes.append(outcome)
        }
        try reportTest(outcomes, queries: test.rows, database: train.rows, context: context, in: &section)
        guard let base = outcomes.first, let winner = outcomes.first(where: { $0.pipeline == search.chosen }) else {
            return section
        }
        conclude(search.chosen, base: base, winner: winner, in: &section)
        try gallery(base: base, winner: winner, context: context, testSet: testSet, trainSet: trainSet, section: &section)
        return section
    }

    /// What the validation search tried and chose.
    struct ValidationSearch {
        /// Every pipeline evaluated on validation, in order.
        var tried: [Outcome]
        /// The pipelines the test queries run: the baseline, each method's best, their combination.
        var candidates: [RerankingPipeline]
        /// The candidate with the best validation mAP@R.
        var chosen: RerankingPipeline
        /// Whitening sizes not tried (more dimensions than the database's covariance has).
        var skipped: [Int]
    }

    /// Tries each method's settings on `validation`, then the combination of every method's best
    /// setting that beats the baseline, and chooses the best candidate by validation mAP@R.
    private func chooseOnValidation(_ validation: Split, dimension: Int) throws -> ValidationSearch {
        var tried: [Outcome] = []
        func tryOn(_ pipeline: RerankingPipeline) throws -> Outcome {
            let outcome = try evaluate(pipeline, on: validation)
            tried.append(outcome)
            log("   validation \(pipeline): mAP@R \(score(outcome.scores.mapAtR))")
            return outcome
        }
        let baseline = try tryOn(.baseline)
        var whitenings: [Outcome] = []
        var skipped: [Int] = []
        for d in [dimension / 8, dimension / 4, dimension / 2, dimension] where d >= 8 && d < validation.database.rows {
            do {
                whitenings.append(try tryOn(RerankingPipeline(whitening: d)))
            } catch VectorSearchError.invalidArgument(let message) {
                log("   validation whiten-\(d): skipped, \(message)")
                skipped.append(d)
            }
        }
        let expansions = try [(1, 0), (2, 0), (2, 3), (5, 3), (10, 3)].map { n, a in
            try tryOn(RerankingPipeline(expansion: QueryExpansion(depth: n, alpha: Float(a))))
        }
        let augmentations = try [(1, 0), (2, 3), (5, 3), (10, 3)].map { n, a in
            try tryOn(RerankingPipeline(augmentation: QueryExpansion(depth: n, alpha: Float(a))))
        }
        let reciprocals = try [(20, 6, 0.3), (10, 3, 0.3)].filter { $0.0 < validation.database.rows }.map { k1, k2, l in
            try tryOn(RerankingPipeline(kReciprocal: KReciprocalReranking(k1: k1, k2: k2, lambda: Float(l))))
        }
        func best(_ outcomes: [Outcome]) -> Outcome? { outcomes.max { $0.scores.mapAtR < $1.scores.mapAtR } }
        let winners = [best(whitenings), best(augmentations), best(expansions), best(reciprocals)].compactMap { $0 }
        var combined = RerankingPipeline.baseline
        for winner in winners where winner.scores.mapAtR > baseline.scores.mapAtR {
            combined.whitening = combined.whitening ?? winner.pipeline.whitening
            combined.augmentation = combined.augmentation ?? winner.pipeline.augmentation
            combined.expansion = combined.expansion ?? winner.pipeline.expansion
            combined.kReciprocal = combined.kReciprocal ?? winner.pipeline.kReciprocal
        }
        var candidates = [baseline.pipeline] + winners.map(\.pipeline)
        if !candidates.contains(combined) { candidates.append(try tryOn(combined).pipeline) }
        let chosen =
            tried.filter { candidates.contains($0.pipeline) }.max { $0.scores.mapAtR < $1.scores.mapAtR }?.pipeline ?? .baseline
        return ValidationSearch(tried: tried, candidates: candidates, chosen: chosen, skipped: skipped)
    }

    /// The validation paragraph and the table of every pipeline tried.
    private func describeValidation(
        _ search: ValidationSearch, queries: Int, database: Int, seed: UInt64, in section: inout ReportSection
    ) {
        section.paragraph(
            "Validation (parameters are chosen here, never on the test queries): a seeded random \(queries) train images "
                + "(1 in \(validationShare), seed \(seed)) query the other \(database) train images; everything "
                + "learned from a database (whitening, DBA, k-reciprocal neighborhoods) is learned on that database only. Vectors "
                + "are L2-normalized embeddings ranked by inner product (the same order as L2 distance). Names: `whiten-D` PCA "
                + "whitening to D dimensions (Jégou and Chum 2012), `dba-N-A` database-side augmentation and `qe-N-A` alpha "
                + "query expansion with N neighbors and alpha A (Radenović, Tolias and Chum 2018; alpha 0 is plain averaging), "
                + "`kr-K1-K2-L` k-reciprocal re-ranking of the first 100 results (Zhong et al. 2017)."
                + (search.skipped.isEmpty
                    ? ""
                    : " Not tried: whitening to \(search.skipped.map(String.init).joined(separator: ", ")) dimensions "
                        + "(the database's covariance has fewer non-zero eigenvalues)."))
        section.table(
            Table(
                headers: ["pipeline (validation)"] + ks.map { "P@\($0)" } + ["mAP@R", "ms/query", "prepare s"],
                rows: search.tried.map(row)))

    }

    /// The test paragraph, table and bar chart of the candidates' outcomes.
    private func reportTest(
        _ outcomes: [Outcome], queries: Int, database: Int, context: Context, in section: inout ReportSection
    ) throws {
        section.paragraph(
            "Test: the \(queries) test images query the \(database) train images (database-side steps learned on train). "
                + "Rows: the baseline, the best setting of each method on validation, and the combination of every method that "
                + "beat the baseline on validation. ms/query is the query-side cost (search, expansion, re-ranking) on "
                + "\(ThreadPools.cores) cores; prepare is the one-off database-side cost." + context.weightsTag)
        section.table(
            Table(
                headers: ["pipeline (test)"] + ks.map { "P@\($0)" } + ["mAP@R", "ms/query", "prepare s"],
                rows: outcomes.map(row)))
        try context.figure(
            BarChart(
                title: "mAP@R on the test queries" + context.weightsTag, categories: outcomes.map { "\($0.pipeline)" },
                values: outcomes.map(\.scores.mapAtR), yLabel: "mAP@R"),
            name: "10-reranking-map", caption: "mAP@R of each re-ranking method, test queries against train" + context.weightsTag,
            in: &section)

    }

    /// What the chosen pipeline gains on the test queries, and how it relates to the recommended one.
    private func conclude(
        _ chosen: RerankingPipeline, base: Outcome, winner: Outcome, in section: inout ReportSection
    ) {
        let gain = winner.scores.mapAtR - base.scores.mapAtR
        section.paragraph(
            chosen == .baseline
                ? "No method beat the baseline on validation, so the baseline stays: test mAP@R \(score(base.scores.mapAtR))."
                : "Chosen on validation: `\(chosen)`. On the test queries it moves mAP@R from \(score(base.scores.mapAtR)) to "
                    + "\(score(winner.scores.mapAtR)) (\(String(format: "%+.4f", gain)), \(String(format: "%+.1f", 100 * gain / max(base.scores.mapAtR, 1e-9)))%) "
                    + "and P@10 from \(score(base.scores.precision[10])) to \(score(winner.scores.precision[10])), at "
                    + String(format: "%.2f ms per query against %.2f ms", winner.millisecondsPerQuery, base.millisecondsPerQuery)
                    + String(format: " and %.1f s of database preparation.", winner.prepareSeconds)
                    + (gain > 0 ? "" : " It does not help on the test queries."))
        let recommended = RerankingPipeline.recommended
        section.paragraph(
            "The re-ranking that experiment 03 and `pic2vec index` record for `pic2vec search` and `pic2vec serve` by default is "
                + "`\(recommended)`, chosen by this experiment with the pretrained EfficientNet-Lite0"
                + (chosen == recommended
                    ? "; this run chose the same pipeline."
                    : "; this run chose `\(chosen)` instead: pass `--rerank \(chosen)` to `pic2vec search` or `serve` to use it.")
                + " The first search of an index prepares the database once and saves its neighbor lists beside the index "
                + "(`<index>.rerank*`); later starts reuse them.")
    }

    /// Queries and database of one evaluation.
    struct Split {
        var queries: Matrix
        var queryLabels: [Int]
        var database: Matrix
        var databaseLabels: [Int]
    }

    private func evaluate(_ pipeline: RerankingPipeline, on split: Split) throws -> Outcome {
        let start = Date()
        let prepared = try pipeline.prepare(split.database)
        let prepareSeconds = Date().timeIntervalSince(start)
        let depth = QueryScores.depth(ks: ks, databaseLabels: split.databaseLabels)
        let searchStart = Date()
        let lists = try pipeline.search(split.queries, in: prepared, depth: depth)
        let seconds = Date().timeIntervalSince(searchStart)
        return Outcome(
            pipeline: pipeline,
            scores: QueryScores(lists, queryLabels: split.queryLabels, databaseLabels: split.databaseLabels, ks: ks),
            millisecondsPerQuery: 1000 * seconds / Double(max(split.queries.rows, 1)), prepareSeconds: prepareSeconds,
            lists: lists.prefix(10))
    }

    private func row(_ outcome: Outcome) -> [String] {
        ["`\(outcome.pipeline)`"] + ks.map { score(outcome.scores.precision[$0]) }
            + [
                score(outcome.scores.mapAtR), String(format: "%.2f", outcome.millisecondsPerQuery),
                String(format: "%.1f", outcome.prepareSeconds),
            ]
    }

    private func rows(_ matrix: Matrix, _ rows: [Int]) -> Matrix {
        Matrix(rows: rows.count, columns: matrix.columns, values: rows.flatMap { matrix.row($0) })
    }

    /// A few test queries with their top 8 before (baseline) and after (the chosen pipeline).
    private func gallery(
        base: Outcome, winner: Outcome, context: Context, testSet: any ImageDataset, trainSet: any ImageDataset,
        section: inout ReportSection
    ) throws {
        guard let testLabels = testSet.labels, let trainLabels = trainSet.labels else { return }
        let shown = 8
        var tiles: [ImageGrid.Tile] = []
        for q in sampleIndices(count: testSet.count, take: 3, seed: context.seed &+ 10) {
            let query = try testSet.image(at: q)
            for (name, outcome) in [("baseline", base), ("re-ranked", winner)] {
                tiles.append(
                    ImageGrid.Tile(
                        pixels: query.pixels, width: query.width, height: query.height,
                        caption: "test #\(q) \(testSet.classNames[testLabels[q]])\n\(name)"))
                for id in outcome.lists.ids(of: q).prefix(shown) {
                    let image = try trainSet.image(at: id)
                    tiles.append(
                        ImageGrid.Tile(
                            pixels: image.pixels, width: image.width, height: image.height,
                            caption: "\(trainSet.classNames[trainLabels[id]])\ntrain #\(id)",
                            frame: trainLabels[id] == testLabels[q] ? Color.green : Color.red))
                }
            }
        }
        try context.figure(
            ImageGrid(
                title: "Top \(shown) before and after re-ranking" + context.weightsTag, tiles: tiles, columns: shown + 1,
                tileSide: 84, captionLines: 2),
            name: "10-reranking-gallery",
            caption: "Three test queries: baseline row, then the row re-ranked by `\(winner.pipeline)` (green: same class)"
                + context.weightsTag, in: &section)
    }
}
