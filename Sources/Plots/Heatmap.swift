import Foundation

/// A heatmap of a matrix of counts or scores with row and column labels, each cell annotated.
public struct Heatmap: Figure {
    public var title: String
    public var rowLabels: [String]
    public var columnLabels: [String]
    /// rows x columns values, row-major.
    public var values: [[Double]]
    public var xLabel: String
    public var yLabel: String

    public init(title: String, rowLabels: [String], columnLabels: [String], values: [[Double]], xLabel: String, yLabel: String) {
        precondition(
            values.count == rowLabels.count && values.allSatisfy { $0.count == columnLabels.count },
            "values must be \(rowLabels.count) x \(columnLabels.count)")
        self.title = title
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
        self.values = values
        self.xLabel = xLabel
        self.yLabel = yLabel
    }

    private let cell = 52.0
    private var left: Double { 150 }
    private var top: Double { 60 }

    public var size: (width: Double, height: Double) {
        (left + Double(columnLabels.count) * cell + 40, top + Double(rowLabels.count) * cell + 90)
    }

    public func draw(on canvas: Canvas) {
        drawTitle(title, on: canvas)
        let maximum = max(values.flatMap { $0 }.max() ?? 1, 1e-12)
        for (r, row) in values.enumerated() {
            for (c, value) in row.enumerated() {
                let t = value / maximum
                let color = Color(1 - 0.85 * t, 1 - 0.6 * t, 1 - 0.25 * t)
                let x = left + Double(c) * cell
                let y = top + Double(r) * cell
                canvas.fill(x: x, y: y, width: cell, height: cell, color)
                canvas.stroke(x: x, y: y, width: cell, height: cell, .white)
                canvas.text(
                    Scale.compact(value), x: x + cell / 2, y: y + cell / 2 + 4, size: 9, align: .center,
                    color: t > 0.55 ? .white : .black)
            }
            canvas.text(rowLabels[r], x: left - 8, y: top + Double(r) * cell + cell / 2 + 4, size: 10, align: .right)
        }
        let bottom = top + Double(rowLabels.count) * cell
        for (c, label) in columnLabels.enumerated() {
            canvas.text(label, x: left + Double(c) * cell + cell / 2, y: bottom + 16, size: 9, align: .center)
        }
        canvas.text(xLabel, x: left + Double(columnLabels.count) * cell / 2, y: bottom + 42, size: 11, align: .center)
        canvas.text(yLabel, x: 18, y: top + Double(rowLabels.count) * cell / 2, size: 11, align: .center, rotated: true)
    }
}
