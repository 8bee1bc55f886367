/// A histogram of values in equal-width bins, with the count axis on the left.
public struct Histogram: Figure {
    public var title: String
    public var values: [Double]
    public var bins: Int
    public var xLabel: String
    public var size: (width: Double, height: Double) = (720, 420)

    public init(title: String, values: [Double], bins: Int = 40, xLabel: String) {
        precondition(bins > 0, "a histogram needs at least one bin")
        self.title = title
        self.values = values
        self.bins = bins
        self.xLabel = xLabel
    }

    /// The bin counts over [min, max] of the values.
    public var counts: [Int] {
        guard let low = values.min(), let high = values.max() else { return Array(repeating: 0, count: bins) }
        let width = high > low ? (high - low) / Double(bins) : 1
        var out = Array(repeating: 0, count: bins)
        for v in values { out[min(bins - 1, Int((v - low) / width))] += 1 }
        return out
    }

    public func draw(on canvas: Canvas) {
        drawTitle(title, on: canvas)
        let low = values.min() ?? 0
        let high = max(values.max() ?? 1, low + 1e-9)
        let counts = self.counts
        let axes = Axes(
            x: 80, y: 50, width: size.width - 105, height: size.height - 110,
            xScale: Scale(lower: low, upper: high),
            yScale: Scale.fitting(counts.map { Double($0) * 1.05 }, includingZero: true))
        axes.draw(on: canvas, xLabel: xLabel, yLabel: "count")
        let binWidth = (high - low) / Double(bins)
        for (i, count) in counts.enumerated() where count > 0 {
            let (left, top) = axes.point(low + Double(i) * binWidth, Double(count))
            let (right, bottom) = axes.point(low + Double(i + 1) * binWidth, 0)
            canvas.fill(x: left, y: top, width: max(right - left - 0.5, 0.5), height: bottom - top, .category(0))
        }
    }
}
