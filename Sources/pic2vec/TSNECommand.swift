import ArgumentParser
import Common
import Foundation
import TSNE

/// `pic2vec tsne`: a 2-D t-SNE projection of an embedding file.
struct TSNECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tsne",
        abstract: "Project N x d float32 embeddings to 2-D with t-SNE (FFT-accelerated, openTSNE defaults).",
        discussion: """
            Writes the N x 2 float32 coordinates to --output (.npy), atomically. Affinities come from \
            each point's 3 x perplexity exact nearest neighbors; the layout starts from PCA (or \
            random noise from --seed) and runs early exaggeration (12) then the normal phase.
            """)

    @Option(help: "Input .npy of float32 embeddings, one per row.")
    var embeddings: String

    @OptionGroup var normalization: NormalizeOption

    @Option(help: "Perplexity (effective neighbors); 3 x perplexity must be below the number of rows.")
    var perplexity: Double = 30

    @Option(help: "Seed for --initialization random.")
    var seed: UInt64 = 0

    @Option(help: "Total iterations, early exaggeration included.")
    var iterations: Int = TSNE().iterations

    @Option(help: "Early exaggeration iterations.")
    var earlyIterations: Int = TSNE().earlyExaggerationIterations

    @Option(help: "Starting layout: pca or random.")
    var initialization: Initialization = .pca

    @OptionGroup var threading: ThreadOptions

    @Flag(help: "Also print the exact KL divergence (an O(n^2) pass).")
    var exactKL = false

    @Option(help: "Output .npy of float32 N x 2 coordinates.")
    var output: String

    enum Initialization: String, ExpressibleByArgument, CaseIterable {
        case pca, random
    }

    func validate() throws {
        guard iterations >= 1 else { throw ValidationError("--iterations must be positive") }
        guard (0...iterations).contains(earlyIterations) else {
            throw ValidationError("--early-iterations must be between 0 and --iterations")
        }
    }

    func run() throws {
        let started = Date()
        let data = try EmbeddingFile.read(embeddings, normalize: normalization.normalize)
        let tsne = TSNE(
            perplexity: perplexity, iterations: iterations, earlyExaggerationIterations: earlyIterations,
            initialization: initialization == .pca ? .pca : .random, seed: seed, threads: threading.threads)
        let result: TSNEResult
        do {
            result = try tsne.embed(data, progress: true)
        } catch {
            throw FileError(embeddings, error.description)
        }
        try result.embedding.write(npy: output)
        var summary = String(
            format: "t-SNE of %d x %d in %.1f s, KL %.4f", data.rows, data.columns, Date().timeIntervalSince(started),
            result.klDivergence)
        if exactKL {
            summary += String(
                format: " (exact %.4f)", result.affinities.klDivergence(of: result.embedding, threads: threading.threads))
        }
        FileHandle.standardError.write(Data("\(summary); wrote \(output)\n".utf8))
    }
}
