import Common
import Foundation
import ImageData
import TestSupport
import XCTest

/// What one run of a built executable did.
struct CommandOutcome {
    let status: Int32
    /// Whether a signal ended the run (a trap or abort) instead of an exit.
    let signaled: Bool
    let stdout: String
    let stderr: String
}

/// Runs the package's executables (`pic2vec`, `Experiments`) as subprocesses, as a user would.
enum CommandRunner {
    /// The folder holding the built products (beside the test bundle).
    static var productsFolder: URL {
        let bundle = Bundle.main.bundleURL
        return bundle.pathExtension == "xctest" ? bundle.deletingLastPathComponent() : bundle
    }

    /// Runs `executable` with `arguments` in `folder`, waiting for it to end; a run still going
    /// after `timeout` seconds (a hang) is terminated, which shows as a signal.
    ///
    /// Output goes to two files read after the exit, so a child filling one stream while the
    /// other is being read can never block (as two pipes read one after the other could).
    /// `environment` adds variables to this process's.
    static func run(
        _ executable: String, _ arguments: [String], in folder: String, timeout: Double = 300,
        environment: [String: String] = [:]
    ) throws -> CommandOutcome {
        let process = Process()
        process.executableURL = productsFolder.appendingPathComponent(executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let streams = FileManager.default.temporaryDirectory.appendingPathComponent("pic2vec-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: streams, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: streams) }
        let outURL = streams.appendingPathComponent("stdout"), errURL = streams.appendingPathComponent("stderr")
        for url in [outURL, errURL] { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let pid = process.processIdentifier
        let watchdog = DispatchWorkItem { kill(pid, SIGTERM) }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
        process.waitUntilExit()
        watchdog.cancel()
        try out.close()
        try err.close()
        return CommandOutcome(
            status: process.terminationStatus, signaled: process.terminationReason == .uncaughtSignal,
            stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
            stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }

    /// A running `pic2vec serve` and the address it printed.
    struct Server {
        let process: Process
        /// `http://127.0.0.1:PORT/`.
        let base: String
        /// Its standard output and error.
        let log: String

        func stop() {
            process.terminate()
            process.waitUntilExit()
        }
    }

    /// Starts `pic2vec serve` with `arguments` (on any free port) in `folder`, as a user would,
    /// and waits (up to a minute) for its first line, which says where it listens.
    static func startServer(_ arguments: [String], in folder: String) async throws -> Server {
        let process = Process()
        process.executableURL = productsFolder.appendingPathComponent("pic2vec")
        process.arguments = ["serve", "--port", "0"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        let log = folder + "/serve.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = output
        process.standardError = output
        try process.run()
        var address: String?
        for _ in 0..<600 where address == nil && process.isRunning {
            let text = try String(contentsOfFile: log, encoding: .utf8)
            address = text.range(of: #"http://127\.0\.0\.1:\d+/"#, options: .regularExpression).map { String(text[$0]) }
            if address == nil { try await Task.sleep(nanoseconds: 100_000_000) }
        }
        guard let address else {
            process.terminate()
            process.waitUntilExit()
            throw FileError(log, "pic2vec serve did not start: " + (try String(contentsOfFile: log, encoding: .utf8)))
        }
        return Server(process: process, base: address, log: log)
    }

    /// Writes `perClass` PNGs of 32x32 for each of `classes` classes under `folder/<split>/<class>/`:
    /// each class a distinct colour with seeded noise, so neighbours mostly share a class.
    static func makeImageFolder(_ folder: String, classes: Int, perClass: Int, split: String? = nil) throws {
        var generator = SeededGenerator(seed: UInt64(perClass * 131 + classes))
        for c in 0..<classes {
            let classFolder = folder + (split.map { "/" + $0 } ?? "") + "/class\(c)"
            try FileManager.default.createDirectory(atPath: classFolder, withIntermediateDirectories: true)
            let base = [UInt8(40 + 20 * c), UInt8(200 - 15 * c), UInt8((97 * c) % 256)]
            for i in 0..<perClass {
                let pixels = (0..<32 * 32 * 3).map { p in
                    UInt8(clamping: Int(base[p % 3]) + Int(generator.next() % 41) - 20)
                }
                let png = PNGEncoder.encode(RGBImage(width: 32, height: 32, pixels: pixels))
                try Data(png).write(to: URL(fileURLWithPath: classFolder + String(format: "/%03d.png", i)))
            }
        }
    }
}

/// A test case that runs `pic2vec` as a user would, in a fresh folder holding `images/`: a
/// small image folder of `classes x perClass` seeded PNGs.
class Pic2VecFolderTestCase: XCTestCase {
    /// The folder the commands run in.
    var folder = ""
    /// The image folder's classes and images per class.
    var imageCounts: (classes: Int, perClass: Int) { (3, 8) }

    override func setUpWithError() throws {
        folder = try temporaryFolder()
        try CommandRunner.makeImageFolder(folder + "/images", classes: imageCounts.classes, perClass: imageCounts.perClass)
    }

    /// Runs `pic2vec` with `arguments` in `folder`.
    func pic2vec(_ arguments: String...) throws -> CommandOutcome {
        try CommandRunner.run("pic2vec", arguments, in: folder)
    }

    /// Asserts a run that exited with status 0.
    func succeeds(_ outcome: CommandOutcome, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(outcome.status, 0, outcome.stderr, file: file, line: line)
    }

    /// Asserts an exit (not a signal) with a non-zero status and every one of `parts` in the message.
    func fails(_ outcome: CommandOutcome, saying parts: String..., file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(outcome.signaled, "ended by signal \(outcome.status): \(outcome.stderr)", file: file, line: line)
        XCTAssertNotEqual(outcome.status, 0, file: file, line: line)
        for part in parts {
            XCTAssertTrue(outcome.stderr.contains(part), "expected \"\(part)\" in: \(outcome.stderr)", file: file, line: line)
        }
    }
}
