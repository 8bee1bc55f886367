import ImageData
import TestSupport
import XCTest

@testable import Plots

final class PlotsTests: XCTestCase {
    /// The width and height stored in a PNG's IHDR chunk.
    private func pngSize(_ path: String) throws -> (Int, Int) {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertEqual(Array(bytes[1...3]), Array("PNG".utf8))
        let be = { (o: Int) in (0..<4).reduce(0) { $0 << 8 | Int(bytes[o + $1]) } }
        return (be(16), be(20))
    }

    private func assertPDF(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("%PDF-"), file: file, line: line)
        XCTAssertTrue(text.contains("%%EOF"), file: file, line: line)
    }

    func testBarLabelsWrapAfterPlusOrSpaceToFitTheirSlot() {
        let measure = { (text: String) in Double(text.count) * 6 }
        let lines = BarChart.wrap("dba-10-3+qe-10-3+kr-20-6-0.3", width: 80, measure: measure)
        XCTAssertEqual(lines, ["dba-10-3+", "qe-10-3+", "kr-20-6-0.3"])
        XCTAssertEqual(BarChart.wrap("dba-10-3+qe-10-3", width: 200, measure: measure), ["dba-10-3+qe-10-3"])
        XCTAssertEqual(BarChart.wrap("random weights", width: 50, measure: measure), ["random", "weights"])
        XCTAssertEqual(BarChart.wrap("averylongsingleword", width: 10, measure: measure), ["averylongsingleword"])
    }

    func testTheLegendGoesToTheCornerWithTheLeastData() {
        let axes = Axes(x: 0, y: 0, width: 400, height: 300, xScale: Scale(lower: 0, upper: 1), yScale: Scale(lower: 0, upper: 1))
        let topRight = (right: 400.0, top: 0.0)
        XCTAssertTrue(legendCorner(width: 100, height: 60, in: axes, avoiding: []) == topRight, "top-right when free")
        // A line across the top: the legend goes to the bottom-right.
        let across = [[(0.0, 30.0), (400.0, 30.0)]]
        XCTAssertTrue(legendCorner(width: 100, height: 60, in: axes, avoiding: across) == (right: 400, top: 300 - 60 - 16))
        // A falling line from the top-left to the bottom-right leaves the top-right free.
        XCTAssertTrue(legendCorner(width: 100, height: 60, in: axes, avoiding: [[(0, 0), (400, 300)]]) == topRight)
    }

    func testALongTitleShrinksToFitANarrowFigure() throws {
        let tile = ImageGrid.Tile(pixels: [UInt8](repeating: 200, count: 4 * 4 * 3), width: 4, height: 4, caption: "cat")
        let title = "Images nearest each centroid (one row per cluster) (EfficientNet-Lite0, efficientnet-lite0-57934424.pth)"
        let (png, _) = try FigureFile.write(
            ImageGrid(title: title, tiles: [tile, tile, tile, tile], columns: 4), name: "grid", folder: try temporaryFolder())
        let image = try ImageDecoder.decode(file: png)
        // The title band (points 8-36, pixels 16-72) holds ink, but none in the outer 8 px of each side.
        var inked = Set<Int>()
        for y in 16..<72 {
            for x in 0..<image.width where image.pixels[(y * image.width + x) * 3] < 128 { inked.insert(x) }
        }
        XCTAssertFalse(inked.isEmpty, "the title is drawn")
        XCTAssertGreaterThanOrEqual(inked.min() ?? 0, 8, "the title starts inside the figure")
        XCTAssertLessThan(inked.max() ?? image.width, image.width - 8, "the title ends inside the figure")
    }

    func testEveryFigureKindWritesPNGAtTwicePointSizeAndPDF() throws {
        let folder = try temporaryFolder()
        let tile = ImageGrid.Tile(pixels: [UInt8](repeating: 200, count: 4 * 4 * 3), width: 4, height: 4, caption: "cat")
        let figures: [(String, any Figure)] = [
            ("bar", BarChart(title: "Counts", categories: ["a", "b"], values: [3, 5], yLabel: "images")),
            ("hist", Histogram(title: "Norms", values: [1, 2, 2, 3], bins: 3, xLabel: "norm")),
            (
                "line",
                LineChart(
                    title: "P@k", series: [.init(name: "s", points: [(1, 0.5), (10, 0.4)])],
                    xLabel: "k", yLabel: "precision", logarithmicX: true)
            ),
            ("grid", ImageGrid(title: "Samples", tiles: [tile, tile, tile], columns: 2)),
            ("scatter", ScatterPlot(title: "t-SNE", points: [(0, 0), (1, 1)], groups: [0, 1], groupNames: ["a", "b"])),
            (
                "heat",
                Heatmap(
                    title: "Clusters", rowLabels: ["0", "1"], columnLabels: ["a", "b"], values: [[1, 2], [3, 4]],
                    xLabel: "class", yLabel: "cluster")
            ),
        ]
        for (name, figure) in figures {
            let (png, pdf) = try FigureFile.write(figure, name: name, folder: folder)
            let (w, h) = try pngSize(png)
            XCTAssertEqual(w, Int(figure.size.width * 2), name)
            XCTAssertEqual(h, Int(figure.size.height * 2), name)
            try assertPDF(pdf)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder).count, figures.count * 2)
    }

    /// A folder below a regular file cannot be created, even by root (CI runs as root).
    func testUnwritableFolderThrowsNamingIt() throws {
        let folder = try temporaryFolder()
        try Data("x".utf8).write(to: URL(fileURLWithPath: folder + "/file"))
        let impossible = folder + "/file/figures"
        XCTAssertThrowsError(
            try FigureFile.write(
                BarChart(title: "x", categories: [], values: [], yLabel: ""), name: "x", folder: impossible)
        ) { error in
            XCTAssertTrue("\(error)".contains(impossible), "\(error)")
        }
    }

    func testHistogramCountsEveryValueOnce() {
        let h = Histogram(title: "", values: [0, 0.1, 0.5, 0.99, 1], bins: 2, xLabel: "")
        XCTAssertEqual(h.counts, [2, 3])
    }

    func testLinearTicksAreRoundAndCoverTheRange() {
        let scale = Scale.fitting([0.13, 0.87])
        XCTAssertEqual(scale.lower, 0.0, accuracy: 1e-12)
        XCTAssertEqual(scale.upper, 1.0, accuracy: 1e-12)
        XCTAssertEqual(scale.ticks.count, 6)
        XCTAssertEqual(scale.label(0.4), "0.4")
        XCTAssertEqual(Scale(lower: 1, upper: 100, logarithmic: true).ticks, [1, 2, 5, 10, 20, 50, 100])
    }
}
