/// A line chart of one or more named series with markers, optional log x axis, and a legend.
public struct LineChart: Figure {
    /// One named curve.
    public struct Series {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public var dashed: Bool

        public init(name: String, points: [(x: Double, y: Double)], dashed: Bool = false) {
            self.name = name
            self.points = points
            self.dashed = dashed
        }
    }

    public var title: String
    public var series: [Series]
    public var xLabel: String
    public var yLabel: String
    public var logarithmicX: Bool
    /// A fixed y range; fitted to the data when nil.
    public var yRange: (Double, Double)?
    public var size: (width: Double, height: Double) = (760, 460)

    public init(
        title: String, series: [Series], xLabel: String, yLabel: String, logarithmicX: Bool = false,
        yRange: (Double, Double)? = nil
    ) {
        self.title = title
        self.series = series
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.logarithmicX = logarithmicX
        self.yRange = yRange
    }

    public func draw(on canvas: Canvas) {
        drawTitle(title, on: canvas)
        let xs = series.flatMap { $0.points.map(\.x) }
        let ys = series.flatMap { $0.points.map(\.y) }
        let xScale =
            logarithmicX
            // A little room on both sides, so that the end points do not sit on the frame.
            ? Scale(lower: (xs.min() ?? 1) / 1.15, upper: (xs.max() ?? 10) * 1.15, logarithmic: true)
            : Scale.fitting(xs)
        let yScale = yRange.map { Scale(lower: $0.0, upper: $0.1) } ?? Scale.fitting(ys)
        let axes = Axes(x: 80, y: 50, width: size.width - 110, height: size.height - 110, xScale: xScale, yScale: yScale)
        axes.draw(on: canvas, xLabel: xLabel, yLabel: yLabel)
        let lines = series.map { $0.points.map { axes.point($0.x, $0.y) } }
        for (i, (s, points)) in zip(series, lines).enumerated() {
            let color = Color.category(i)
            canvas.line(points, color, lineWidth: 1.8, dashed: s.dashed)
            canvas.discs(points, radius: 3, color)
        }
        drawLegend(
            series.enumerated().map { ($1.name, Color.category($0)) }, on: canvas, in: axes,
            avoiding: lines)
    }
}
