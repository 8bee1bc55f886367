import Foundation

/// A data-to-page mapping for one axis: linear or base-10 logarithmic.
public struct Scale: Sendable {
    public var lower: Double
    public var upper: Double
    public var logarithmic: Bool

    public init(lower: Double, upper: Double, logarithmic: Bool = false) {
        precondition(!logarithmic || lower > 0, "a log scale needs a positive lower bound, got \(lower)")
        self.lower = lower
        self.upper = upper == lower ? lower + 1 : upper
        self.logarithmic = logarithmic
    }

    /// A linear scale over `values` rounded outward to tick steps (including `zero` if asked).
    public static func fitting(_ values: [Double], includingZero: Bool = false) -> Scale {
        var low = values.min() ?? 0
        var high = values.max() ?? 1
        if includingZero {
            low = min(low, 0)
            high = max(high, 0)
        }
        if low == high { high = low + 1 }
        let step = niceStep((high - low) / 5)
        return Scale(lower: (low / step).rounded(.down) * step, upper: (high / step).rounded(.up) * step)
    }

    /// Where `value` falls in [0, 1] between the bounds.
    public func fraction(_ value: Double) -> Double {
        logarithmic
            ? (log10(value) - log10(lower)) / (log10(upper) - log10(lower))
            : (value - lower) / (upper - lower)
    }

    /// Tick positions: nice round numbers (linear) or powers of ten and their 2x, 5x (log).
    public var ticks: [Double] {
        if logarithmic {
            var out: [Double] = []
            var decade = pow(10, log10(lower).rounded(.down))
            while decade <= upper * 1.0001 {
                for m in [1.0, 2, 5] where decade * m >= lower * 0.9999 && decade * m <= upper * 1.0001 {
                    out.append(decade * m)
                }
                decade *= 10
            }
            return out
        }
        let step = Scale.niceStep((upper - lower) / 5)
        var out: [Double] = []
        var t = (lower / step).rounded(.up) * step
        while t <= upper + step * 1e-6 {
            out.append(abs(t) < step * 1e-9 ? 0 : t)
            t += step
        }
        return out
    }

    /// A tick label with just enough decimals for this scale's step.
    public func label(_ value: Double) -> String {
        if logarithmic || value == value.rounded() && abs(value) >= 1 { return Self.integerLabel(value) }
        let step = Scale.niceStep((upper - lower) / 5)
        let decimals = max(0, Int(-log10(step).rounded(.down)))
        return String(format: "%.\(decimals)f", value)
    }

    private static func integerLabel(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%g", value)
    }

    /// The 1, 2 or 5 times a power of ten nearest above `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let power = pow(10, log10(raw).rounded(.down))
        let m = raw / power
        return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * power
    }
}

/// A rectangular plot area with an x and a y scale, its frame, grid, ticks and axis labels.
public struct Axes {
    public let x, y, width, height: Double
    public let xScale: Scale
    public let yScale: Scale

    public init(x: Double, y: Double, width: Double, height: Double, xScale: Scale, yScale: Scale) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
        self.xScale = xScale
        self.yScale = yScale
    }

    /// Page coordinates of a data point.
    public func point(_ dx: Double, _ dy: Double) -> (Double, Double) {
        (x + xScale.fraction(dx) * width, y + height - yScale.fraction(dy) * height)
    }

    /// Draws the grid, frame, numeric ticks (x ticks unless `xTicks` is false) and axis labels.
    public func draw(on canvas: Canvas, xLabel: String, yLabel: String, xTicks: Bool = true) {
        for t in yScale.ticks {
            let (_, py) = point(xScale.lower, t)
            canvas.line([(x, py), (x + width, py)], .lightGray, lineWidth: 0.6)
            canvas.text(yScale.label(t), x: x - 6, y: py + 3.5, size: 10, align: .right)
        }
        if xTicks {
            for t in xScale.ticks {
                let (px, _) = point(t, yScale.lower)
                canvas.line([(px, y), (px, y + height)], .lightGray, lineWidth: 0.6)
                canvas.text(xScale.label(t), x: px, y: y + height + 15, size: 10, align: .center)
            }
        }
        canvas.stroke(x: x, y: y, width: width, height: height, .gray, lineWidth: 0.8)
        canvas.text(xLabel, x: x + width / 2, y: y + height + 34, size: 11, align: .center)
        canvas.text(yLabel, x: x - 44, y: y + height / 2, size: 11, align: .center, rotated: true)
    }
}

/// Draws a figure title centered at the top.
func drawTitle(_ title: String, on canvas: Canvas) {
    // 14 pt, smaller (down to 6 pt) when the title would not fit the figure's width.
    let available = canvas.width - 24
    let size = max(6, min(14, 14 * available / max(1, canvas.textWidth(title, size: 14, bold: true))))
    canvas.text(title, x: canvas.width / 2, y: 26, size: size, align: .center, bold: true)
}

/// The size of the legend box of `entries`.
private func legendSize(_ entries: [(String, Color)], on canvas: Canvas) -> (width: Double, height: Double) {
    ((entries.map { canvas.textWidth($0.0, size: 10) }.max() ?? 0) + 30, Double(entries.count) * 16 + 8)
}

/// Draws the legend of `entries` in the corner of `axes` where it hides the least of `lines`
/// (canvas points, each series' polyline).
func drawLegend(_ entries: [(String, Color)], on canvas: Canvas, in axes: Axes, avoiding lines: [[(Double, Double)]]) {
    let (width, height) = legendSize(entries, on: canvas)
    let corner = legendCorner(width: width, height: height, in: axes, avoiding: lines)
    drawLegend(entries, on: canvas, right: corner.right, top: corner.top)
}

/// Where a `width` x `height` legend covers the fewest points of `lines` (sampled along their
/// segments): the top-right, bottom-right, top-left or bottom-left corner of `axes`, the first
/// of them on ties; returned as `drawLegend(_:on:right:top:)` takes it.
func legendCorner(width: Double, height: Double, in axes: Axes, avoiding lines: [[(Double, Double)]]) -> (
    right: Double, top: Double
) {
    var samples: [(Double, Double)] = []
    for line in lines {
        samples += line
        for (a, b) in zip(line, line.dropFirst()) {
            samples += (1..<10).map { t in (a.0 + (b.0 - a.0) * Double(t) / 10, a.1 + (b.1 - a.1) * Double(t) / 10) }
        }
    }
    let corners = [
        (right: axes.x + axes.width, top: axes.y), (right: axes.x + axes.width, top: axes.y + axes.height - height - 16),
        (right: axes.x + width + 16, top: axes.y), (right: axes.x + width + 16, top: axes.y + axes.height - height - 16),
    ]
    let hidden = { (corner: (right: Double, top: Double)) in
        samples.filter { p in
            p.0 >= corner.right - width - 12 && p.0 <= corner.right - 4 && p.1 >= corner.top + 4
                && p.1 <= corner.top + height + 12
        }.count
    }
    return corners.min { hidden($0) < hidden($1) } ?? corners[0]
}

/// Draws a legend box of colored squares and names whose top-right corner is at (`right`, `top`) of the axes.
func drawLegend(_ entries: [(String, Color)], on canvas: Canvas, right: Double, top: Double) {
    guard !entries.isEmpty else { return }
    let (width, height) = legendSize(entries, on: canvas)
    let left = right - width - 8
    canvas.fill(x: left, y: top + 8, width: width, height: height, Color.white.withAlpha(0.9))
    canvas.stroke(x: left, y: top + 8, width: width, height: height, .lightGray)
    for (i, entry) in entries.enumerated() {
        let rowY = top + 16 + Double(i) * 16
        canvas.fill(x: left + 8, y: rowY, width: 10, height: 10, entry.1)
        canvas.text(entry.0, x: left + 24, y: rowY + 9, size: 10)
    }
}
