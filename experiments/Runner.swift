import ArgumentParser
import Common
import Foundation
import ImageData
import LabReport
import Networks

/// The options every experiment sees.
struct RunOptions: Sendable {
    var data: String
    var limit: Int?
    var skipBad: Bool
    var seed: UInt64
    var out: String
    var figures: String
    var model: Model
    var weights: String
    var preset: Preset
    var precision: Precision
    var batch: Int
    var threads: Int
}

/// `Experiments list | all | N...`: runs numbered experiments and writes the lab report.
@main
struct Experiments: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "Experiments",
        abstract: "Run Pic2Vec's numbered experiments and write outputs/report.md.",
        discussion: "Examples: `Experiments list`, `Experiments all`, `Experiments 1 --data ../shared/data/cifar10-jpeg`.")

    @Argument(help: "`list`, `all`, or experiment numbers (1 or 01).")
    var selection: [String] = ["all"]

    @Option(help: "`cifar10` (official archives under cifar/, downloaded if missing) or an image folder.")
    var data = "cifar10"

    @Option(help: "Use N images of each split, spread evenly over it (rows i * count / N), not the first N.")
    var limit: Int?

    @Flag(help: "Skip images that cannot be decoded (with a warning and a count) instead of failing.")
    var skipBad = false

    @Option(help: "Seed for every random choice.")
    var seed: UInt64 = 0

    @Option(help: "Folder for artifacts and report.md.")
    var out = "outputs"

    @Option(help: "Folder for figures (PNG and PDF).")
    var figures = "figures"

    @Option(help: "The network: \(Model.allCases.map(\.rawValue).joined(separator: ", ")).")
    var model = Model.resnet18

    @Option(help: "The model's weights: `torchvision` (ResNets), `random`, or a file (.pth zip or legacy, .safetensors).")
    var weights = "torchvision"

    @Option(help: "Preprocessing: `cifar` (32x32, mean/std 0.5) or `imagenet` (the model's native size and normalization).")
    var preset = Preset.cifar

    @Option(
        help:
            "Arithmetic of the network's matrix products: `fp32` (exact) or `bf16` (AVX512-BF16 CPUs: faster, slightly less exact)."
    )
    var precision = Precision.fp32

    @Option(help: "Images per embedding batch (peak memory grows with it and with the preset's input size).")
    var batch = 128

    @Option(help: "Embedding worker threads.")
    var threads = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        if let limit, limit <= 0 { throw ValidationError("--limit must be positive, got \(limit)") }
        guard (1...4096).contains(batch) else { throw ValidationError("--batch must be from 1 to 4096, got \(batch)") }
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be from 1 to 256, got \(threads)") }
        do { _ = try precision.checked() } catch { throw ValidationError("\(error)") }
        guard selection == ["list"] || selection == ["all"] || selection.allSatisfy({ Int($0) != nil }) else {
            throw ValidationError("expected `list`, `all`, or experiment numbers; got \(selection.joined(separator: " "))")
        }
        for text in selection where Int(text) != nil {
            guard let n = Int(text), catalog.contains(where: { $0.number == n }) else {
                throw ValidationError(
                    "unknown experiment \(text); known: "
                        + catalog.map { String(format: "%02d", $0.number) }.joined(separator: ", "))
            }
        }
    }

    func run() async throws {
        if selection == ["list"] {
            for experiment in catalog {
                print(
                    String(format: "%02d  ", experiment.number) + experiment.title
                        + (experiment.inAll ? "" : "  (by number only)"))
            }
            return
        }
        let chosen =
            selection == ["all"] ? catalog.filter(\.inAll) : catalog.filter { e in selection.contains { Int($0) == e.number } }
        let options = RunOptions(
            data: data, limit: limit, skipBad: skipBad, seed: seed, out: out, figures: figures, model: model, weights: weights,
            preset: preset, precision: precision, batch: batch, threads: threads)
        for folder in [out, figures] { try Self.prepareWritable(folder) }
        let context = Context(options: options)
        let commit = Provenance.commit(outputs: [out, figures])
        var sections: [ReportSection] = []
        var failures: [String] = []
        for experiment in chosen {
            log("== \(String(format: "%02d", experiment.number)) \(experiment.title)")
            let start = Date()
            do {
                var section = try await experiment.run(context)
                section.seconds = Date().timeIntervalSince(start)
                log("   done in \(String(format: "%.1f", section.seconds)) s")
                sections.append(section)
            } catch {
                // One experiment failing (e.g. too few images for t-SNE) must not lose the
                // others' results: its section says what went wrong, and the run fails at the end.
                log("   failed: \(error)")
                var section = ReportSection(number: experiment.number, title: experiment.title)
                section.paragraph("**Failed:** \(error)")
                section.seconds = Date().timeIntervalSince(start)
                sections.append(section)
                failures.append(String(format: "%02d", experiment.number))
            }
        }
        let store = SectionStore(folder: out + "/sections")
        let runKey = try runKey(context)
        for section in sections where !failures.contains(String(format: "%02d", section.number)) {
            try store.save(section, runKey: runKey)
        }
        let others = catalog.map(\.number).filter { number in !chosen.contains { $0.number == number } }
        let kept = store.load(others, runKey: runKey)
        if !kept.isEmpty {
            log(
                "   kept sections " + kept.map { String(format: "%02d", $0.number) }.joined(separator: ", ")
                    + " of an earlier run with the same inputs")
        }
        let report = LabReport(header: try header(context, commit: commit), sections: sections + kept)
        let path = out + "/report.md"
        try report.write(to: path)
        log("wrote \(path)")
        guard failures.isEmpty else {
            throw ExperimentsFailed(numbers: failures, report: path)
        }
    }

    /// Experiments that failed in a run: not a usage error, so no usage is printed and the exit status is 1.
    struct ExperimentsFailed: Error, CustomStringConvertible {
        let numbers: [String]
        let report: String

        var description: String { "experiment \(numbers.joined(separator: ", ")) failed (see above and \(report))" }
    }

    /// Creates `folder` if needed and checks that files can be written there, before any work starts.
    static func prepareWritable(_ folder: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw FileError(folder, "cannot create the output folder")
        }
        guard access(folder, W_OK) == 0 else { throw FileError(folder, "the output folder is not writable") }
    }

    /// What the results depend on: every option and the data's fingerprint. Sections stored
    /// under another key are not put in the report.
    private func runKey(_ context: Context) throws -> String {
        ArtifactCache.key(["options": String(describing: context.options), "data": try context.data().train.fingerprint])
    }

    private func header(_ context: Context, commit: String) throws -> LabReport.Header {
        let splits = try context.data()
        let formatter = ISO8601DateFormatter()
        return LabReport.Header(
            date: formatter.string(from: Date()),
            commit: commit,
            machine: Machine.description,
            dataset: splits.description,
            fingerprint: splits.train.fingerprint,
            weights: context.weightsDescription,
            packages: Provenance.packages,
            commandLine: (["Experiments"] + CommandLine.arguments.dropFirst()).joined(separator: " "))
    }
}

/// Prints a progress message to standard error.
func log(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

extension Model: ExpressibleByArgument {}

extension Precision: ExpressibleByArgument {}

extension Preset: ExpressibleByArgument {}
