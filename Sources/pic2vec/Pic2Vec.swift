import ArgumentParser
import Common

/// The `pic2vec` command: embed images, index embeddings, search, evaluate, project, serve.
@main
struct Pic2Vec: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pic2vec",
        abstract: "Unsupervised image search with pretrained-network embeddings (ResNet, EfficientNet-Lite) and FAISS.",
        subcommands: [
            EmbedCommand.self, TSNECommand.self, IndexCommand.self, SearchCommand.self, EvaluateCommand.self,
            LabelIssuesCommand.self,
            KMeansCommand.self, DuplicatesCommand.self, ServeCommand.self, AddCommand.self, RemoveCommand.self,
        ])

    /// Checks `PIC2VEC_SIMD` before any work (an invalid level exits with a message), then runs the command.
    static func main() async {
        _ = SIMDLevel.current
        await main(nil)
    }
}
