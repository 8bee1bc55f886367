internal import CCairo
import Foundation

/// An RGBA color with components in [0, 1].
public struct Color: Sendable, Equatable {
    public var red, green, blue, alpha: Double

    public init(_ red: Double, _ green: Double, _ blue: Double, alpha: Double = 1) {
        self.red = red
        self.green = green
        self.blue = blue
        self.alpha = alpha
    }

    /// The same color with another opacity.
    public func withAlpha(_ alpha: Double) -> Color { Color(red, green, blue, alpha: alpha) }

    public static let black = Color(0, 0, 0)
    public static let white = Color(1, 1, 1)
    public static let gray = Color(0.45, 0.45, 0.45)
    public static let lightGray = Color(0.88, 0.88, 0.88)
    public static let red = Color(0.84, 0.15, 0.16)
    public static let green = Color(0.17, 0.63, 0.17)

    /// Ten distinguishable category colors (matplotlib's tab10), cycled beyond ten.
    public static func category(_ i: Int) -> Color {
        let table: [(Double, Double, Double)] = [
            (0.122, 0.467, 0.706), (1.000, 0.498, 0.055), (0.173, 0.627, 0.173), (0.839, 0.153, 0.157),
            (0.580, 0.404, 0.741), (0.549, 0.337, 0.294), (0.890, 0.467, 0.761), (0.498, 0.498, 0.498),
            (0.737, 0.741, 0.133), (0.090, 0.745, 0.812),
        ]
        let c = table[((i % table.count) + table.count) % table.count]
        return Color(c.0, c.1, c.2)
    }
}

/// How text is placed relative to its anchor point.
public enum TextAlignment: Sendable {
    case left, center, right
}

/// A drawing surface over one Cairo context, in points (1/72 inch), origin top left.
///
/// Owns the `cairo_t`; the surface it draws on is owned by `FigureFile`.
public final class Canvas {
    let context: OpaquePointer
    /// The drawable size in points.
    public let width: Double
    public let height: Double

    init(surface: OpaquePointer, width: Double, height: Double) {
        context = cairo_create(surface)
        self.width = width
        self.height = height
        cairo_select_font_face(context, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
    }

    deinit { cairo_destroy(context) }

    /// Cairo's status for this context, as an error message when not successful.
    var failure: String? {
        let status = cairo_status(context)
        return status == CAIRO_STATUS_SUCCESS ? nil : String(cString: cairo_status_to_string(status))
    }

    /// Fills a rectangle.
    public func fill(x: Double, y: Double, width: Double, height: Double, _ color: Color) {
        set(color)
        cairo_rectangle(context, x, y, width, height)
        cairo_fill(context)
    }

    /// Strokes a rectangle outline.
    public func stroke(x: Double, y: Double, width: Double, height: Double, _ color: Color, lineWidth: Double = 1) {
        set(color)
        cairo_set_line_width(context, lineWidth)
        cairo_rectangle(context, x, y, width, height)
        cairo_stroke(context)
    }

    /// Strokes a polyline through `points`.
    public func line(_ points: [(Double, Double)], _ color: Color, lineWidth: Double = 1, dashed: Bool = false) {
        guard let first = points.first else { return }
        set(color)
        cairo_set_line_width(context, lineWidth)
        if dashed {
            let dashes: [Double] = [4, 3]
            cairo_set_dash(context, dashes, 2, 0)
        }
        cairo_move_to(context, first.0, first.1)
        for p in points.dropFirst() { cairo_line_to(context, p.0, p.1) }
        cairo_stroke(context)
        cairo_set_dash(context, nil, 0, 0)
    }

    /// Fills many small discs of one color (one path, one fill: fast for large scatter plots).
    public func discs(_ centers: [(Double, Double)], radius: Double, _ color: Color) {
        set(color)
        for c in centers {
            cairo_new_sub_path(context)
            cairo_arc(context, c.0, c.1, radius, 0, 2 * Double.pi)
        }
        cairo_fill(context)
    }

    /// Draws text with its baseline at `y`; `bold` and `rotated` (90 degrees counter-clockwise) as asked.
    public func text(
        _ string: String, x: Double, y: Double, size: Double = 11, align: TextAlignment = .left,
        color: Color = .black, bold: Bool = false, rotated: Bool = false
    ) {
        cairo_save(context)
        cairo_select_font_face(
            context, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(context, size)
        set(color)
        let width = textWidth(string, size: size, bold: bold)
        let shift = align == .left ? 0 : align == .center ? -width / 2 : -width
        cairo_translate(context, x, y)
        if rotated { cairo_rotate(context, -Double.pi / 2) }
        cairo_move_to(context, shift, 0)
        cairo_show_text(context, string)
        cairo_restore(context)
    }

    /// The advance width of `string` at `size` points.
    public func textWidth(_ string: String, size: Double = 11, bold: Bool = false) -> Double {
        cairo_save(context)
        defer { cairo_restore(context) }
        cairo_select_font_face(
            context, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(context, size)
        var extents = cairo_text_extents_t()
        cairo_text_extents(context, string, &extents)
        return extents.x_advance
    }

    /// Draws an RGB image (HWC bytes) into a rectangle with nearest-neighbour scaling, so small
    /// images stay crisp when enlarged.
    public func image(pixels: [UInt8], width: Int, height: Int, x: Double, y: Double, side: Double) {
        precondition(pixels.count == width * height * 3, "\(pixels.count) bytes for a \(width)x\(height) RGB image")
        guard let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(width), Int32(height)) else { return }
        defer { cairo_surface_destroy(surface) }
        cairo_surface_flush(surface)
        let stride = Int(cairo_image_surface_get_stride(surface))
        guard let data = cairo_image_surface_get_data(surface) else { return }
        data.withMemoryRebound(to: UInt8.self, capacity: stride * height) { bytes in
            for row in 0..<height {
                for column in 0..<width {
                    let source = (row * width + column) * 3
                    let target = row * stride + column * 4
                    bytes[target] = pixels[source + 2]
                    bytes[target + 1] = pixels[source + 1]
                    bytes[target + 2] = pixels[source]
                    bytes[target + 3] = 255
                }
            }
        }
        cairo_surface_mark_dirty(surface)
        let scale = side / Double(max(width, height))
        cairo_save(context)
        cairo_translate(context, x, y)
        cairo_scale(context, scale, scale)
        cairo_set_source_surface(context, surface, 0, 0)
        cairo_pattern_set_filter(cairo_get_source(context), CAIRO_FILTER_NEAREST)
        cairo_rectangle(context, 0, 0, Double(width), Double(height))
        cairo_fill(context)
        cairo_restore(context)
    }

    private func set(_ color: Color) {
        cairo_set_source_rgba(context, color.red, color.green, color.blue, color.alpha)
    }
}
