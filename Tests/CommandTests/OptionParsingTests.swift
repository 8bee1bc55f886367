import ArgumentParser
import XCTest

@testable import pic2vec

/// Every command's options parsed in process, as swift-argument-parser's own tests do: what is
/// accepted, and the message for each usage error, without running anything.
final class OptionParsingTests: XCTestCase {
    /// The usage-error message for `arguments`, or nil when they parse and validate.
    private func message(_ arguments: [String]) -> String? {
        do {
            _ = try Pic2Vec.parseAsRoot(arguments)
            return nil
        } catch {
            return Pic2Vec.message(for: error)
        }
    }

    private let commands: [(name: String, required: [String])] = [
        ("embed", ["--data", "d", "--weights", "random", "--output", "e.npy"]),
        ("index", ["--embeddings", "e.npy", "--output", "x.index"]),
        ("search", ["--index", "x.index", "--query-index", "0", "-k", "3"]),
        ("evaluate", ["--embeddings", "e.npy", "--labels", "l.npy"]),
        ("kmeans", ["--embeddings", "e.npy", "--k", "3"]),
        ("tsne", ["--embeddings", "e.npy", "--output", "xy.npy"]),
        ("duplicates", ["--data", "d", "--weights", "random"]),
    ]

    func testEveryCommandParsesItsRequiredOptionsAndSharesThreadsJSONAndNormalize() {
        for (name, required) in commands {
            XCTAssertNil(message([name] + required), name)
            XCTAssertNil(message([name] + required + ["--threads", "2"]), name)
            for threads in ["0", "-1", "5000"] {
                XCTAssertEqual(
                    message([name] + required + ["--threads=\(threads)"]), "--threads must be from 1 to 1024, got \(threads)",
                    name)
            }
        }
        for name in ["search", "evaluate", "kmeans", "duplicates"] {
            let required = commands.first { $0.name == name }!.required
            XCTAssertNil(message([name] + required + ["--json"]), name)
        }
        for name in ["index", "evaluate", "kmeans", "tsne"] {
            let required = commands.first { $0.name == name }!.required
            XCTAssertNil(message([name] + required + ["--normalize"]), name)
        }
    }

    func testUsageErrorsNameTheOption() {
        XCTAssertEqual(message(["search", "--index", "x.index", "-k", "3"]), "give a query: --query-index N or --image FILE")
        XCTAssertEqual(message(["search", "--index", "x.index", "--query-index", "0", "-k", "0"]), "-k must be positive, got 0")
        XCTAssertEqual(message(["serve", "--limit", "0"]), "--limit must be positive, got 0")
        XCTAssertEqual(message(["serve", "--port", "70000"]), "--port must be from 0 to 65535, got 70000")
        XCTAssertEqual(
            message(["kmeans", "--embeddings", "e.npy", "--k", "0"]), "--k, --iterations and --restarts must be positive")
        XCTAssertNotNil(message(["embed", "--data", "d", "--weights", "random", "--output", "e.txt"]))
    }
}
