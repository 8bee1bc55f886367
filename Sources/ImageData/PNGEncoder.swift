import Common

/// Encodes RGB images as PNG in memory (the web page's thumbnails, test images).
///
/// An 8-bit truecolor PNG (ISO/IEC 15948): signature, IHDR, one IDAT holding the
/// zlib-deflated scanlines (filter type 0), IEND. Deflate and CRC-32 are the system zlib's.
public enum PNGEncoder {
    /// The PNG bytes of `image`.
    public static func encode(_ image: RGBImage) -> [UInt8] {
        let rowBytes = image.width * 3
        var scanlines: [UInt8] = []
        scanlines.reserveCapacity(image.height * (rowBytes + 1))
        for row in 0..<image.height {
            scanlines.append(0)
            scanlines += image.pixels[row * rowBytes..<(row + 1) * rowBytes]
        }
        var header: [UInt8] = []
        header += bigEndian(UInt32(image.width))
        header += bigEndian(UInt32(image.height))
        header += [8, 2, 0, 0, 0]  // 8-bit depth, truecolor, deflate, adaptive filtering, no interlace
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        png += chunk("IHDR", header)
        png += chunk("IDAT", Zlib.compress(scanlines))
        png += chunk("IEND", [])
        return png
    }

    /// One chunk: length, type, data, CRC-32 over type and data.
    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typed = Array(type.utf8) + data
        return bigEndian(UInt32(data.count)) + typed + bigEndian(Zlib.crc32(typed))
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }
}
