internal import CImageCodecs
import Common
import Foundation

/// Decodes JPEG (libjpeg-turbo) and PNG (libpng) files to 8-bit RGB.
///
/// The format is detected from the first bytes, not the file name. Gray, CMYK and YCCK
/// JPEGs, and gray, gray+alpha, RGBA, palette and 16-bit PNGs all become RGB as Pillow's
/// `convert("RGB")` makes them (alpha dropped, 16-bit gray clipped to 255, other 16-bit
/// samples cut to their high byte, no gamma correction). A damaged file is a `FileError`
/// naming the path and the library's own message.
public enum ImageDecoder {
    /// The file formats this decoder reads.
    public enum Format: String, Sendable {
        case jpeg = "JPEG"
        case png = "PNG"
    }

    /// The largest image accepted from a file, in pixels (64 Mi): a guard against header
    /// sizes that would need gigabytes; callers with tighter budgets pass their own.
    public static let maximumPixels = 1 << 26

    /// The format of `bytes` from its signature, or nil when it is neither JPEG nor PNG.
    public static func format(of bytes: [UInt8]) -> Format? {
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        return nil
    }

    /// Reads and decodes the image file at `path` (see `decode(_:path:fitting:maxPixels:)`).
    public static func decode(file path: String, fitting side: Int? = nil, maxPixels: Int = maximumPixels) throws -> RGBImage {
        try decode(FileBytes.load(path, maxBytes: FileBytes.maximumImageBytes), path: path, fitting: side, maxPixels: maxPixels)
    }

    /// Decodes an in-memory JPEG or PNG; `path` only names the source in errors.
    ///
    /// An image declaring more than `maxPixels` pixels is refused before its pixels are
    /// allocated. With `side`, a JPEG larger than needed is decoded with DCT scaling at the
    /// smallest of 1/2, 1/4, 1/8 that keeps both sides at least `side` (Pillow's draft
    /// mode), so memory follows what a `side` x `side` network input needs. Exactly one
    /// copy of the decoded pixels is held.
    public static func decode(_ bytes: [UInt8], path: String, fitting side: Int? = nil, maxPixels: Int = maximumPixels) throws
        -> RGBImage
    {
        let codec = try Codec(bytes, path: path)
        let info = try codec.run(bytes, side: side ?? 0, maxPixels: maxPixels, into: nil, capacity: 0)
        let width = Int(info.output_width), height = Int(info.output_height)
        let count = width * height * 3
        var failure: FileError?
        let pixels = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            do throws(FileError) {
                _ = try codec.run(bytes, side: side ?? 0, maxPixels: maxPixels, into: buffer.baseAddress, capacity: count)
            } catch {
                failure = error
                buffer.initialize(repeating: 0)
            }
            initialized = count
        }
        if let failure { throw failure }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// What a file's header tells without decoding pixels.
    public struct Header: Sendable {
        public let width: Int
        public let height: Int
        /// The size of the file in bytes.
        public let fileBytes: Int
    }

    /// The declared size of an in-memory JPEG or PNG, refused beyond `maxPixels`.
    public static func header(of bytes: [UInt8], path: String, maxPixels: Int = maximumPixels) throws -> Header {
        let info = try Codec(bytes, path: path).run(bytes, side: 0, maxPixels: maxPixels, into: nil, capacity: 0)
        return Header(width: Int(info.width), height: Int(info.height), fileBytes: bytes.count)
    }

    /// Reads the header of an image file: the first 256 KiB, or the whole file when the
    /// header (large metadata) reaches further.
    public static func header(ofFile path: String) throws -> Header {
        let prefix = 1 << 18
        let (bytes, fileBytes) = try FileBytes.load(path, upTo: prefix)
        do {
            let header = try header(of: bytes, path: path)
            return Header(width: header.width, height: header.height, fileBytes: fileBytes)
        } catch  where fileBytes > prefix {
            let header = try header(of: FileBytes.load(path, maxBytes: FileBytes.maximumImageBytes), path: path)
            return Header(width: header.width, height: header.height, fileBytes: fileBytes)
        }
    }

    /// One of the two C decoders, chosen by the bytes' signature.
    private struct Codec {
        let format: Format
        let path: String

        init(_ bytes: [UInt8], path: String) throws {
            guard let format = ImageDecoder.format(of: bytes) else {
                if bytes.isEmpty { throw FileError(path, "empty file, not an image") }
                let start = bytes.prefix(4).map { String(format: "%02x", $0) }.joined(separator: " ")
                throw FileError(path, "not a JPEG or PNG file (starts with bytes \(start))")
            }
            self.format = format
            self.path = path
        }

        /// Reads the header (`pixels` nil) or decodes into `pixels`; libjpeg's and libpng's
        /// longjmp errors come back as a status and a message, thrown here as a `FileError`.
        func run(_ bytes: [UInt8], side: Int, maxPixels: Int, into pixels: UnsafeMutablePointer<UInt8>?, capacity: Int)
            throws(FileError) -> p2v_image_info
        {
            var info = p2v_image_info()
            let status = bytes.withUnsafeBufferPointer { data in
                switch format {
                case .jpeg:
                    p2v_jpeg_decode(data.baseAddress, data.count, Int32(clamping: side), maxPixels, pixels, capacity, &info)
                case .png:
                    p2v_png_decode(data.baseAddress, data.count, maxPixels, pixels, capacity, &info)
                }
            }
            guard status == 0 else {
                let message = withUnsafeBytes(of: info.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                throw status == -2 ? FileError(path, message) : FileError(path, "corrupt \(format.rawValue): \(message)")
            }
            return info
        }
    }
}
