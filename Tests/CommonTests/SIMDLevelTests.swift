import Common
import Foundation
import XCTest

/// `PIC2VEC_SIMD` parsing and the CPU check: a bad level is a clear error, never an illegal instruction.
final class SIMDLevelTests: XCTestCase {
    func testResolveNamesLevelsUpToTheCPUs() throws {
        XCTAssertEqual(try SIMDLevel.resolve(nil, widest: .avx2), .avx2)
        XCTAssertEqual(try SIMDLevel.resolve("", widest: .avx512), .avx512)
        XCTAssertEqual(try SIMDLevel.resolve("avx2", widest: .avx512), .avx2)
        XCTAssertEqual(try SIMDLevel.resolve("AVX2", widest: .avx2), .avx2)
        XCTAssertEqual(try SIMDLevel.resolve("generic", widest: .generic), .generic)
        XCTAssertEqual(try SIMDLevel.resolve("avx512", widest: .avx512), .avx512)
    }

    func testResolveRejectsUnknownAndUnsupportedLevels() {
        XCTAssertThrowsError(try SIMDLevel.resolve("avx-512", widest: .avx512)) { error in
            XCTAssertEqual(error as? SIMDLevelError, .unknown("avx-512"))
            XCTAssertTrue("\(error)".contains("use one of generic, avx2, avx512"), "\(error)")
        }
        XCTAssertThrowsError(try SIMDLevel.resolve("avx512", widest: .avx2)) { error in
            XCTAssertEqual(error as? SIMDLevelError, .unsupported(.avx512, widest: .avx2))
            XCTAssertTrue("\(error)".contains("this CPU lacks avx512"), "\(error)")
        }
        XCTAssertThrowsError(try SIMDLevel.resolve("avx2", widest: .generic))
    }

    func testSupportedLevelsMatchTheCPU() throws {
        let flags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("flags") }.map { Set($0.split(separator: " ").map(String.init)) }
        XCTAssertEqual(SIMDLevel.supported.first, .generic)
        XCTAssertEqual(SIMDLevel.supported.last, SIMDLevel.widest)
        guard let flags else { throw XCTSkip("no CPU flags in /proc/cpuinfo to compare the chosen level with") }
        let expected: SIMDLevel =
            flags.contains("avx512f") ? .avx512 : flags.contains("avx2") && flags.contains("fma") ? .avx2 : .generic
        #if arch(x86_64)
            XCTAssertEqual(SIMDLevel.widest, expected)
        #else
            XCTAssertEqual(SIMDLevel.widest, .generic)
        #endif
    }

    /// The built `pic2vec` given a misspelled level exits with status 2 and a message (no crash, no output).
    func testBinaryRejectsBadLevelWithMessage() throws {
        let folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let binary = [folder, folder.deletingLastPathComponent()].map { $0.appendingPathComponent("pic2vec") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
        guard let binary else { throw XCTSkip("pic2vec is not built next to the tests (swift build --build-tests builds it)") }
        for value in ["avx1024", "sse9"] {
            let process = Process()
            process.executableURL = binary
            process.arguments = ["evaluate", "--help"]
            var environment = ProcessInfo.processInfo.environment
            environment["PIC2VEC_SIMD"] = value
            process.environment = environment
            let errors = Pipe(), output = Pipe()
            process.standardError = errors
            process.standardOutput = output
            try process.run()
            process.waitUntilExit()
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertEqual(process.terminationReason, .exit, value)
            XCTAssertEqual(process.terminationStatus, 2, value)
            XCTAssertTrue(message.contains("PIC2VEC_SIMD='\(value)' is not a kernel level"), message)
            XCTAssertTrue(output.fileHandleForReading.readDataToEndOfFile().isEmpty, value)
        }
    }
}
