import CompressNIO
import ImageData
import Hummingbird

/// Encodes RGB images as PNG in memory, for the web page's thumbnails.
///
/// An 8-bit truecolor PNG (ISO/IEC 15948): signature, IHDR, one IDAT holding the
/// zlib-deflated scanlines (filter type 0), IEND. Deflate is zlib's, through CompressNIO.
public enum PNGEncoder {
    /// The PNG bytes of `image`.
    public static func encode(_ image: RGBImage) throws(SearchError) -> [UInt8] {
        let rowBytes = image.width * 3
        var scanlines = ByteBufferAllocator().buffer(capacity: image.height * (rowBytes + 1))
        for row in 0..<image.height {
            scanlines.writeInteger(UInt8(0))
            scanlines.writeBytes(image.pixels[row * rowBytes..<(row + 1) * rowBytes])
        }
        let deflated: ByteBuffer
        do {
            deflated = try scanlines.compress(with: .zlib())
        } catch {
            throw .unavailable("cannot deflate a \(image.width)x\(image.height) PNG: \(error)")
        }
        var header: [UInt8] = []
        header += bigEndian(UInt32(image.width))
        header += bigEndian(UInt32(image.height))
        header += [8, 2, 0, 0, 0]  // 8-bit depth, truecolor, deflate, adaptive filtering, no interlace
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        png += chunk("IHDR", header)
        png += chunk("IDAT", Array(deflated.readableBytesView))
        png += chunk("IEND", [])
        return png
    }

    /// One chunk: length, type, data, CRC-32 over type and data.
    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typed = Array(type.utf8) + data
        return bigEndian(UInt32(data.count)) + typed + bigEndian(crc32(typed))
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    /// The CRC-32 (polynomial 0xEDB88320, reflected) that PNG chunks carry.
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc = crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
        }
        return crc ^ 0xFFFF_FFFF
    }

    static let crcTable: [UInt32] = (0..<256).map { n in
        (0..<8).reduce(UInt32(n)) { c, _ in c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    }
}
