/// A vertical bar chart: one labeled bar per category, values printed above the bars.
public struct BarChart: Figure {
    public var title: String
    public var categories: [String]
    public var values: [Double]
    public var yLabel: String
    public var size: (width: Double, height: Double) = (720, 420)

    public init(title: String, categories: [String], values: [Double], yLabel: String) {
        precondition(categories.count == values.count, "\(categories.count) categories for \(values.count) values")
        self.title = title
        self.categories = categories
        self.values = values
        self.yLabel = yLabel
    }

    public func draw(on canvas: Canvas) {
        drawTitle(title, on: canvas)
        let slot = (size.width - 95) / Double(max(categories.count, 1))
        let labels = categories.map { Self.wrap($0, width: slot - 6) { canvas.textWidth($0, size: 10) } }
        let extraLines = Double((labels.map(\.count).max() ?? 1) - 1)
        let axes = Axes(
            x: 70, y: 50, width: size.width - 95, height: size.height - 90 - 12 * extraLines,
            xScale: Scale(lower: 0, upper: Double(max(categories.count, 1))),
            yScale: Scale.fitting(values.map { $0 * 1.08 }, includingZero: true))
        axes.draw(on: canvas, xLabel: "", yLabel: yLabel, xTicks: false)
        for (i, value) in values.enumerated() {
            let (left, top) = axes.point(Double(i) + 0.15, value)
            let (_, bottom) = axes.point(0, 0)
            canvas.fill(x: left, y: top, width: slot * 0.7, height: bottom - top, .category(0))
            canvas.text(Scale.compact(value), x: left + slot * 0.35, y: top - 4, size: 9, align: .center)
            for (line, text) in labels[i].enumerated() {
                canvas.text(
                    text, x: left + slot * 0.35, y: axes.y + axes.height + 16 + 12 * Double(line), size: 10, align: .center)
            }
        }
    }

    /// Splits a category label into lines no wider than `width`, breaking after a space or a
    /// `+` (so "a+b+c" reads "a+", "b+", "c"); a single word wider than `width` keeps its line.
    public static func wrap(_ label: String, width: Double, measure: (String) -> Double) -> [String] {
        var words: [String] = [], word = ""
        for character in label {
            word.append(character)
            if character == " " || character == "+" {
                words.append(word)
                word = ""
            }
        }
        if !word.isEmpty { words.append(word) }
        var lines: [String] = [], line = ""
        for word in words {
            let joined = line + word
            if !line.isEmpty && measure(joined.trimmingSuffixSpaces()) > width {
                lines.append(line.trimmingSuffixSpaces())
                line = word
            } else {
                line = joined
            }
        }
        lines.append(line.trimmingSuffixSpaces())
        return lines
    }
}

extension String {
    /// The string without its trailing spaces.
    fileprivate func trimmingSuffixSpaces() -> String {
        var result = self
        while result.last == " " { result.removeLast() }
        return result
    }
}

extension Scale {
    /// A short value label: integers as is, other values with three significant digits.
    static func compact(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e9 ? String(Int(value)) : String(format: "%.3g", value)
    }
}
