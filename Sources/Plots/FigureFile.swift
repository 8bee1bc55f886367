internal import CCairo
import Common
import Foundation

/// Something that can be drawn on a canvas of a fixed size in points.
public protocol Figure {
    /// The figure's size in points (1/72 inch).
    var size: (width: Double, height: Double) { get }
    /// Draws the whole figure, background included.
    func draw(on canvas: Canvas)
}

/// Writes figures to PNG (at 2 pixels per point) and PDF, each atomically.
public enum FigureFile {
    /// The PNG pixel density: pixels per point.
    public static let pixelsPerPoint = 2.0

    /// Writes `folder/name.png` and `folder/name.pdf`; returns the two paths.
    @discardableResult
    public static func write(_ figure: some Figure, name: String, folder: String) throws -> (png: String, pdf: String) {
        let png = folder + "/" + name + ".png"
        let pdf = folder + "/" + name + ".pdf"
        try writePNG(figure, to: png)
        try writePDF(figure, to: pdf)
        return (png, pdf)
    }

    static func writePNG(_ figure: some Figure, to path: String) throws {
        let (width, height) = figure.size
        guard
            let surface = cairo_image_surface_create(
                CAIRO_FORMAT_ARGB32, Int32((width * pixelsPerPoint).rounded()), Int32((height * pixelsPerPoint).rounded()))
        else { throw FileError(path, "cannot create an image surface") }
        defer { cairo_surface_destroy(surface) }
        try render(figure, on: surface, scale: pixelsPerPoint, path: path)
        try AtomicFile.write(to: path) { temporary in
            let status = cairo_surface_write_to_png(surface, temporary)
            guard status == CAIRO_STATUS_SUCCESS else {
                throw FileError(path, "cannot write PNG: \(String(cString: cairo_status_to_string(status)))", kind: .unwritable)
            }
        }
    }

    static func writePDF(_ figure: some Figure, to path: String) throws {
        let (width, height) = figure.size
        try AtomicFile.write(to: path) { temporary in
            guard let surface = cairo_pdf_surface_create(temporary, width, height) else {
                throw FileError(path, "cannot create a PDF surface")
            }
            defer { cairo_surface_destroy(surface) }
            try render(figure, on: surface, scale: 1, path: path)
            cairo_surface_finish(surface)
            let status = cairo_surface_status(surface)
            guard status == CAIRO_STATUS_SUCCESS else {
                throw FileError(path, "cannot write PDF: \(String(cString: cairo_status_to_string(status)))", kind: .unwritable)
            }
        }
    }

    private static func render(_ figure: some Figure, on surface: OpaquePointer, scale: Double, path: String) throws {
        let canvas = Canvas(surface: surface, width: figure.size.width, height: figure.size.height)
        cairo_scale(canvas.context, scale, scale)
        canvas.fill(x: 0, y: 0, width: canvas.width, height: canvas.height, .white)
        figure.draw(on: canvas)
        if let failure = canvas.failure { throw FileError(path, "drawing failed: \(failure)") }
    }
}
