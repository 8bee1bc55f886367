/// A 2-D scatter plot of many points colored by group, with a legend; for t-SNE maps.
///
/// Points are small and semi-transparent so that density and structure show with 50,000 points.
public struct ScatterPlot: Figure {
    public var title: String
    /// n points as (x, y).
    public var points: [(x: Double, y: Double)]
    /// One group per point, an index into `groupNames`.
    public var groups: [Int]
    public var groupNames: [String]
    public var pointRadius: Double
    public var opacity: Double
    public var size: (width: Double, height: Double) = (860, 760)

    public init(
        title: String, points: [(x: Double, y: Double)], groups: [Int], groupNames: [String],
        pointRadius: Double = 0.9, opacity: Double = 0.45
    ) {
        precondition(points.count == groups.count, "\(points.count) points for \(groups.count) groups")
        self.title = title
        self.points = points
        self.groups = groups
        self.groupNames = groupNames
        self.pointRadius = pointRadius
        self.opacity = opacity
    }

    public func draw(on canvas: Canvas) {
        drawTitle(title, on: canvas)
        let legendWidth = (groupNames.map { canvas.textWidth($0, size: 10) }.max() ?? 0) + 40
        let axes = Axes(
            x: 60, y: 44, width: size.width - 80 - legendWidth, height: size.height - 100,
            xScale: Scale.fitting(points.map(\.x)), yScale: Scale.fitting(points.map(\.y)))
        axes.draw(on: canvas, xLabel: "t-SNE 1", yLabel: "t-SNE 2")
        for group in 0..<groupNames.count {
            let members = points.indices.filter { groups[$0] == group }.map { axes.point(points[$0].x, points[$0].y) }
            canvas.discs(members, radius: pointRadius, Color.category(group).withAlpha(opacity))
        }
        drawLegend(
            groupNames.enumerated().map { ($1, Color.category($0)) }, on: canvas, right: size.width - 10, top: axes.y - 8)
    }
}
