internal import CImageCodecs
import Common
import Foundation

/// Decodes JPEG (libjpeg-turbo) and PNG (libpng) files to 8-bit RGB.
///
/// The format is detected from the first bytes, not the file name. Gray, CMYK and YCCK
/// JPEGs, and gray, gray+alpha, RGBA, palette and 16-bit PNGs all become RGB as Pillow's
/// `convert("RGB")` makes them (alpha dropped, 16-bit samples cut to their high byte, no
/// gamma correction). A damaged file is a `FileError` naming the path and the library's
/// own message.
public enum ImageDecoder {
    /// The file formats this decoder reads.
    public enum Format: String, Sendable {
        case jpeg = "JPEG"
        case png = "PNG"
    }

    /// The largest image accepted, in pixels (a guard against absurd header sizes).
    public static let maximumPixels = 1 << 28

    /// The format of `bytes` from its signature, or nil when it is neither JPEG nor PNG.
    public static func format(of bytes: [UInt8]) -> Format? {
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        return nil
    }

    /// Reads and decodes the image file at `path`.
    public static func decode(file path: String) throws -> RGBImage {
        try decode(FileBytes.load(path), path: path)
    }

    /// Decodes an in-memory JPEG or PNG; `path` only names the source in errors.
    public static func decode(_ bytes: [UInt8], path: String) throws -> RGBImage {
        let decoded = try decode(bytes, path: path, headerOnly: false)
        return RGBImage(width: decoded.width, height: decoded.height, pixels: decoded.pixels)
    }

    /// What a file's header tells without decoding pixels.
    public struct Header: Sendable {
        public let width: Int
        public let height: Int
        /// The size of the file in bytes.
        public let fileBytes: Int
    }

    /// Reads the header of an image file: the first 256 KiB, or the whole file when the
    /// header (large metadata) reaches further.
    public static func header(ofFile path: String) throws -> Header {
        let prefix = 1 << 18
        let (bytes, fileBytes) = try FileBytes.load(path, upTo: prefix)
        do {
            let header = try decode(bytes, path: path, headerOnly: true)
            return Header(width: header.width, height: header.height, fileBytes: fileBytes)
        } catch where fileBytes > prefix {
            let header = try decode(FileBytes.load(path), path: path, headerOnly: true)
            return Header(width: header.width, height: header.height, fileBytes: fileBytes)
        }
    }

    /// The size and, unless `headerOnly`, the RGB pixels of a JPEG or PNG.
    private static func decode(_ bytes: [UInt8], path: String, headerOnly: Bool) throws -> Decoded {
        switch format(of: bytes) {
        case .jpeg: return try decodeJPEG(bytes, path: path, headerOnly: headerOnly)
        case .png: return try decodePNG(bytes, path: path, headerOnly: headerOnly)
        case nil:
            if bytes.isEmpty { throw FileError(path, "empty file, not an image") }
            let start = bytes.prefix(4).map { String(format: "%02x", $0) }.joined(separator: " ")
            throw FileError(path, "not a JPEG or PNG file (starts with bytes \(start))")
        }
    }

    /// An image's size and its RGB pixels (empty when only the header was read).
    private typealias Decoded = (width: Int, height: Int, pixels: [UInt8])

    /// Decodes a JPEG or PNG through the C wrappers, which turn libjpeg's and libpng's
    /// longjmp errors into a status and a message.
    private static func decodeJPEG(_ bytes: [UInt8], path: String, headerOnly: Bool) throws -> Decoded {
        try decode(format: .jpeg, path: path) { result in
            bytes.withUnsafeBufferPointer { p2v_jpeg_decode($0.baseAddress, $0.count, headerOnly ? 1 : 0, &result) }
        }
    }

    private static func decodePNG(_ bytes: [UInt8], path: String, headerOnly: Bool) throws -> Decoded {
        try decode(format: .png, path: path) { result in
            bytes.withUnsafeBufferPointer { p2v_png_decode($0.baseAddress, $0.count, headerOnly ? 1 : 0, maximumPixels, &result) }
        }
    }

    /// Runs one C decode call and takes ownership of the pixels it returns.
    private static func decode(format: Format, path: String, _ call: (inout p2v_image_result) -> Int32) throws -> Decoded {
        var result = p2v_image_result()
        guard call(&result) == 0 else {
            let message = withUnsafeBytes(of: result.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            throw FileError(path, "corrupt \(format.rawValue): \(message)")
        }
        let width = Int(result.width), height = Int(result.height)
        guard let pixels = result.pixels else { return (width, height, []) }
        defer { free(pixels) }
        return (width, height, [UInt8](UnsafeBufferPointer(start: pixels, count: width * height * 3)))
    }
}
