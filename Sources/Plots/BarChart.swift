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
        let axes = Axes(
            x: 70, y: 50, width: size.width - 95, height: size.height - 90,
            xScale: Scale(lower: 0, upper: Double(max(categories.count, 1))),
            yScale: Scale.fitting(values.map { $0 * 1.08 }, includingZero: true))
        axes.draw(on: canvas, xLabel: "", yLabel: yLabel, xTicks: false)
        let slot = axes.width / Double(max(categories.count, 1))
        for (i, value) in values.enumerated() {
            let (left, top) = axes.point(Double(i) + 0.15, value)
            let (_, bottom) = axes.point(0, 0)
            canvas.fill(x: left, y: top, width: slot * 0.7, height: bottom - top, .category(0))
            canvas.text(Scale.compact(value), x: left + slot * 0.35, y: top - 4, size: 9, align: .center)
            canvas.text(categories[i], x: left + slot * 0.35, y: axes.y + axes.height + 16, size: 10, align: .center)
        }
    }
}

extension Scale {
    /// A short value label: integers as is, other values with three significant digits.
    static func compact(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e9 ? String(Int(value)) : String(format: "%.3g", value)
    }
}
