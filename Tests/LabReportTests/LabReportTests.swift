import LabReport
import TestSupport
import XCTest

final class LabReportTests: XCTestCase {
    private func sampleReport() -> LabReport {
        var data = ReportSection(number: 1, title: "Data")
        data.paragraph("50000 images.")
        data.table(Table(headers: ["class", "images"], rows: [["cat", "5000"], ["a|b", "7"]]))
        data.figure(png: "../figures/01-class-counts.png", pdf: "../figures/01-class-counts.pdf", caption: "Images per class")
        data.seconds = 1.25
        var later = ReportSection(number: 3, title: "Retrieval")
        later.paragraph("P@5 = 0.5")
        let header = LabReport.Header(
            date: "2026-11-26", commit: "abc1234", machine: "2 cores", dataset: "cifar10-jpeg/train",
            fingerprint: "0123456789abcdef0123", weights: "random weights (seed 0)",
            packages: "swift-argument-parser 1.8.2", commandLine: "Experiments all")
        return LabReport(header: header, sections: [later, data])
    }

    func testReportMatchesSnapshot() {
        let expected = """
            # Pic2Vec lab report

            |  |  |
            | --- | --- |
            | Date | 2026-11-26 |
            | Commit | abc1234 |
            | Machine | 2 cores |
            | Data | cifar10-jpeg/train |
            | Data fingerprint | `0123456789abcdef` |
            | Weights | random weights (seed 0) |
            | Swift packages | swift-argument-parser 1.8.2 |
            | Command | `Experiments all` |

            Sections: 01 Data, 03 Retrieval.

            ## 01. Data

            50000 images.

            | class | images |
            | --- | ---: |
            | cat | 5000 |
            | a\\|b | 7 |

            ![Images per class](../figures/01-class-counts.png)

            *Images per class* ([PDF](../figures/01-class-counts.pdf))

            Time: 1.2 s.

            ## 03. Retrieval

            P@5 = 0.5

            Time: 0.0 s.

            """
        XCTAssertEqual(sampleReport().markdown, expected)
    }

    func testWriteIsAtomicAndReadable() throws {
        let folder = try temporaryFolder()
        try sampleReport().write(to: folder + "/report.md")
        let text = try String(contentsOfFile: folder + "/report.md", encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("# Pic2Vec lab report"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["report.md"])
    }

    func testCacheReusesOnlyMatchingInputs() throws {
        let cache = ArtifactCache(folder: try temporaryFolder())
        let inputs = ["data": "f00", "seed": "0"]
        XCTAssertNil(cache.lookup("a.bin", inputs: inputs))
        try cache.store("a.bin", inputs: inputs) { try Data([1, 2]).write(to: URL(fileURLWithPath: $0)) }
        XCTAssertEqual(cache.lookup("a.bin", inputs: ["seed": "0", "data": "f00"]), cache.path("a.bin"))
        XCTAssertNil(cache.lookup("a.bin", inputs: ["data": "f00", "seed": "1"]))
        try FileManager.default.removeItem(atPath: cache.path("a.bin"))
        XCTAssertNil(cache.lookup("a.bin", inputs: inputs))
    }

    func testFailedStoreLeavesNoArtifact() throws {
        let cache = ArtifactCache(folder: try temporaryFolder())
        struct Boom: Error {}
        XCTAssertThrowsError(try cache.store("b.bin", inputs: [:]) { _ in throw Boom() })
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cache.folder), [])
    }

    func testSectionStoreKeepsOnlySectionsOfTheSameInputs() throws {
        let store = SectionStore(folder: try temporaryFolder())
        var section = ReportSection(number: 4, title: "Normalized")
        section.table(Table(headers: ["k", "P@k"], rows: [["1", "0.5"]]))
        section.figure(png: "a.png", pdf: "a.pdf", caption: "c")
        section.seconds = 2
        try store.save(section, runKey: "run-a")
        XCTAssertEqual(store.load([4, 5], runKey: "run-a"), [section])
        XCTAssertEqual(store.load([4], runKey: "run-b"), [])
    }
}
