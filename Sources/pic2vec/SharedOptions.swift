import ArgumentParser
import VectorSearch

/// `--threads N`: the worker threads of a command (every core by default), checked once for all.
struct ThreadOptions: ParsableArguments {
    @Option(help: "Worker threads (default: every core).")
    var threads = ThreadPools.cores

    func validate() throws {
        guard (1...1024).contains(threads) else { throw ValidationError("--threads must be from 1 to 1024, got \(threads)") }
    }
}

/// `--json`: print the result as JSON instead of a table or text.
struct JSONOption: ParsableArguments {
    @Flag(help: "Print JSON instead of a table or text.")
    var json = false
}

/// `--normalize`: L2-normalize each row of the embeddings read.
struct NormalizeOption: ParsableArguments {
    @Flag(help: "L2-normalize each row first.")
    var normalize = false
}
