import Foundation
import TestSupport
import XCTest

/// The scripts `docs/scale.md` links (`docs/slurm/*.sbatch`, the Kubernetes Job): valid shell, and
/// every `pic2vec` option they pass is one the command has, so the docs cannot drift from the tool.
/// (`benchmarks/slurm_check.sh` runs them on a real scheduler.)
final class ClusterScriptTests: XCTestCase {
    private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The `pic2vec` commands in `text` (continuation lines joined), as [subcommand, --option...].
    private func commands(in text: String) -> [[String]] {
        let joined = text.replacingOccurrences(of: "\\\n", with: " ")
        return joined.components(separatedBy: "pic2vec ").dropFirst().map { segment in
            let words = segment.split(whereSeparator: { $0 == " " || $0 == "\n" })
                .prefix { $0 != "&&" && $0 != "#" }.map(String.init)
            return [words.first ?? ""] + words.filter { $0.hasPrefix("--") }.map { String($0.prefix { $0 != "=" }) }
        }
    }

    func testTheScriptsAreValidShellAndUseOnlyRealOptions() throws {
        let scripts = ["train", "embed", "merge"].map { root.appendingPathComponent("docs/slurm/\($0).sbatch").path }
        let manifest = root.appendingPathComponent("docs/kubernetes/embed-job.yaml").path
        var help: [String: String] = [:]
        var checked = 0
        for path in scripts + [manifest] {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            if path.hasSuffix(".sbatch") {
                let syntax = Process()
                syntax.executableURL = URL(fileURLWithPath: "/bin/bash")
                syntax.arguments = ["-n", path]
                try syntax.run()
                syntax.waitUntilExit()
                XCTAssertEqual(syntax.terminationStatus, 0, "\(path) is not valid bash")
            }
            for command in commands(in: text) {
                let name = command[0]
                XCTAssertTrue(["embed", "index"].contains(name), "\(path): pic2vec \(name)")
                if help[name] == nil {
                    let outcome = try CommandRunner.run("pic2vec", [name, "--help"], in: NSTemporaryDirectory())
                    help[name] = outcome.stdout + outcome.stderr
                }
                for option in command.dropFirst() {
                    XCTAssertTrue(
                        help[name]?.contains(option + " ") == true || help[name]?.contains(option + "\n") == true,
                        "\(path): pic2vec \(name) has no \(option)")
                    checked += 1
                }
            }
        }
        XCTAssertGreaterThan(checked, 20, "the scripts' options were found")
    }
}
