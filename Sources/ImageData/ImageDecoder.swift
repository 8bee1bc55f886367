internal import CJPEGDecode
internal import CPNG
import Common
import Foundation

/// Decodes JPEG (libjpeg-turbo) and PNG (libpng) files to 8-bit RGB.
///
/// The format is detected from the first bytes, not the file name. Gray, CMYK and YCCK
/// JPEGs, and gray, gray+alpha, RGBA, palette and 16-bit PNGs all become RGB; alpha is
/// dropped without compositing (as Pillow's `convert("RGB")` does). A damaged file is a
/// `FileError` naming the path and the library's own message.
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
        try decode(readFile(path), path: path)
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
        let (bytes, fileBytes) = try readFile(path, upTo: prefix)
        do {
            let header = try decode(bytes, path: path, headerOnly: true)
            return Header(width: header.width, height: header.height, fileBytes: fileBytes)
        } catch where fileBytes > prefix {
            let header = try decode(readFile(path), path: path, headerOnly: true)
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

    /// Reads a whole file into memory.
    static func readFile(_ path: String) throws -> [UInt8] {
        try readFile(path, upTo: .max).bytes
    }

    /// Reads at most `limit` bytes from the start of a file; also returns the file's size.
    static func readFile(_ path: String, upTo limit: Int) throws -> (bytes: [UInt8], fileBytes: Int) {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw FileError(path, "cannot open (\(String(cString: strerror(errno))))") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw FileError(path, "cannot stat (\(String(cString: strerror(errno))))")
        }
        guard status.st_mode & S_IFMT == S_IFREG else { throw FileError(path, "not a regular file") }
        let fileBytes = Int(status.st_size)
        let size = min(fileBytes, limit)
        var filled = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            while filled < size {
                let got = read(descriptor, buffer.baseAddress! + filled, size - filled)
                if got < 0 && errno == EINTR { continue }
                guard got > 0 else { break }
                filled += got
            }
            count = filled
        }
        guard filled == size else { throw FileError(path, "read \(filled) of \(size) bytes (\(String(cString: strerror(errno))))") }
        return (bytes, fileBytes)
    }

    /// Decodes a JPEG through the C wrapper.
    private static func decodeJPEG(_ bytes: [UInt8], path: String, headerOnly: Bool) throws -> Decoded {
        var result = p2v_jpeg_result()
        let status = bytes.withUnsafeBufferPointer { p2v_jpeg_decode($0.baseAddress, $0.count, headerOnly ? 1 : 0, &result) }
        guard status == 0 else {
            let message = withUnsafeBytes(of: result.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            throw FileError(path, "corrupt JPEG: \(message)")
        }
        let width = Int(result.width), height = Int(result.height)
        guard let pixels = result.pixels else { return (width, height, []) }
        defer { free(pixels) }
        return (width, height, [UInt8](UnsafeBufferPointer(start: pixels, count: width * height * 3)))
    }

    /// Decodes a PNG with libpng's simplified API, reading RGBA and dropping the alpha.
    private static func decodePNG(_ bytes: [UInt8], path: String, headerOnly: Bool) throws -> Decoded {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        defer { png_image_free(&image) }
        func failure() -> FileError {
            let message = withUnsafeBytes(of: image.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            return FileError(path, "corrupt PNG: \(message)")
        }
        return try bytes.withUnsafeBytes { source in
            guard png_image_begin_read_from_memory(&image, source.baseAddress, source.count) != 0 else { throw failure() }
            let width = Int(image.width), height = Int(image.height)
            guard width * height <= maximumPixels else {
                throw FileError(path, "image is \(width)x\(height), more than \(maximumPixels) pixels")
            }
            if headerOnly { return (width, height, []) }
            image.format = UInt32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA)
            var rgba = [UInt8](repeating: 0, count: width * height * 4)
            guard rgba.withUnsafeMutableBytes({ png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }) != 0 else {
                throw failure()
            }
            let rgb = [UInt8](unsafeUninitializedCapacity: width * height * 3) { buffer, count in
                for pixel in 0..<width * height {
                    buffer[3 * pixel] = rgba[4 * pixel]
                    buffer[3 * pixel + 1] = rgba[4 * pixel + 1]
                    buffer[3 * pixel + 2] = rgba[4 * pixel + 2]
                }
                count = width * height * 3
            }
            return (width, height, rgb)
        }
    }
}
