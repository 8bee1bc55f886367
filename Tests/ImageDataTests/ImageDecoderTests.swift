import TestSupport
import XCTest

@testable import ImageData

final class ImageDecoderTests: XCTestCase {
    /// Decodes a fixture and compares it with Pillow's pixels, allowing `tolerance` per byte.
    private func check(
        _ bytes: [UInt8], _ expected: [UInt8], tolerance: Int = 0, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let image = try ImageDecoder.decode(bytes, path: "fixture")
        XCTAssertEqual(image.width, Fixtures.width, file: file, line: line)
        XCTAssertEqual(image.height, Fixtures.height, file: file, line: line)
        assertClose(
            image.pixels.map(Float.init), expected.map(Float.init), rtol: 0, atol: Float(tolerance), file: file, line: line)
    }

    func testJPEGsMatchPillow() throws {
        try check(Fixtures.rgbJPEG, Fixtures.rgbJPEGPixels, tolerance: 1)
        try check(Fixtures.progressiveJPEG, Fixtures.progressiveJPEGPixels, tolerance: 1)
    }

    func testGrayJPEGBecomesRGB() throws {
        try check(Fixtures.grayJPEG, Fixtures.grayJPEGPixels, tolerance: 1)
    }

    func testCMYKJPEGBecomesRGB() throws {
        try check(Fixtures.cmykJPEG, Fixtures.cmykJPEGPixels, tolerance: 3)
    }

    func testPNGsOfEveryColorTypeBecomeRGB() throws {
        try check(Fixtures.rgbPNG, Fixtures.rgbPNGPixels)
        try check(Fixtures.grayPNG, Fixtures.grayPNGPixels)
        try check(Fixtures.grayAlphaPNG, Fixtures.grayAlphaPNGPixels)
        try check(Fixtures.rgbaPNG, Fixtures.rgbaPNGPixels)
        try check(Fixtures.palettePNG, Fixtures.palettePNGPixels)
    }

    /// Pillow clips 16-bit gray to 255 (mode I;16) and keeps the high byte of 16-bit RGB.
    func testSixteenBitPNGsDecodeAsPillowDoes() throws {
        try check(Fixtures.rgb16PNG, Fixtures.rgb16PNGPixels)
        try check(Fixtures.gray16PNG, Fixtures.gray16PNGPixels)
    }

    func testHeaderGivesSizeWithoutDecoding() throws {
        let folder = try temporaryFolder()
        for (name, bytes) in [("a.jpg", Fixtures.rgbJPEG), ("b.png", Fixtures.rgbaPNG)] {
            try write(bytes, to: folder + "/" + name)
            let header = try ImageDecoder.header(ofFile: folder + "/" + name)
            XCTAssertEqual([header.width, header.height, header.fileBytes], [Fixtures.width, Fixtures.height, bytes.count])
        }
    }

    func testDamagedFilesAreErrorsNamingThePath() throws {
        let jpeg = Fixtures.rgbJPEG, png = Fixtures.rgbPNG
        assertThrows("cut.jpg", "corrupt JPEG") {
            try ImageDecoder.decode(Array(jpeg.prefix(jpeg.count * 2 / 3)), path: "cut.jpg")
        }
        assertThrows("header.jpg", "corrupt JPEG") { try ImageDecoder.decode(Array(jpeg.prefix(20)), path: "header.jpg") }
        assertThrows("cut.png", "corrupt PNG") { try ImageDecoder.decode(Array(png.prefix(png.count - 20)), path: "cut.png") }
        var flipped = png
        flipped[40] ^= 0xFF
        assertThrows("crc.png", "corrupt PNG") { try ImageDecoder.decode(flipped, path: "crc.png") }
        assertThrows("text.jpg", "not a JPEG or PNG", "68 65 6c 6c") {
            try ImageDecoder.decode(Array("hello".utf8), path: "text.jpg")
        }
        assertThrows("empty.png", "empty file") { try ImageDecoder.decode([], path: "empty.png") }
        assertThrows("/no/such.jpg", "no such file") { try ImageDecoder.decode(file: "/no/such.jpg") }
    }

    /// `jpeg` (a baseline JPEG) with its frame header (SOF0) declaring `width` x `height`.
    static func declaring(_ jpeg: [UInt8], width: Int, height: Int) -> [UInt8] {
        var bytes = jpeg
        guard let sof = (0..<bytes.count - 9).first(where: { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xC0 }) else {
            preconditionFailure("no SOF0 marker")
        }
        bytes[sof + 5] = UInt8(height >> 8)
        bytes[sof + 6] = UInt8(height & 0xFF)
        bytes[sof + 7] = UInt8(width >> 8)
        bytes[sof + 8] = UInt8(width & 0xFF)
        return bytes
    }

    /// `png` with its IHDR declaring `width` x `height` (and the chunk's CRC fixed).
    static func declaring(png: [UInt8], width: Int, height: Int) -> [UInt8] {
        var bytes = png
        for (offset, value) in [(16, width), (20, height)] {
            for i in 0..<4 { bytes[offset + i] = UInt8(value >> (24 - 8 * i) & 0xFF) }
        }
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes[12..<29] {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? crc >> 1 ^ 0xEDB8_8320 : crc >> 1 }
        }
        crc = ~crc
        for i in 0..<4 { bytes[29 + i] = UInt8(crc >> (24 - 8 * i) & 0xFF) }
        return bytes
    }

    /// An image bomb (a few hundred bytes declaring 20000x20000 pixels) is refused from its
    /// header, before any pixel memory is allocated.
    func testImageBombsAreRefusedBeforeDecoding() throws {
        let jpegBomb = Self.declaring(Fixtures.rgbJPEG, width: 20000, height: 20000)
        XCTAssertEqual(try ImageDecoder.header(of: jpegBomb, path: "x", maxPixels: .max).width, 20000)
        assertThrows("bomb.jpg", "20000x20000, more than the limit of \(ImageDecoder.maximumPixels) pixels") {
            try ImageDecoder.decode(jpegBomb, path: "bomb.jpg")
        }
        let pngBomb = Self.declaring(png: Fixtures.rgbPNG, width: 20000, height: 20000)
        assertThrows("bomb.png", "20000x20000, more than the limit") { try ImageDecoder.decode(pngBomb, path: "bomb.png") }
        // A caller's tighter cap applies to the declared size.
        assertThrows("small.jpg", "8x6, more than the limit of 47 pixels") {
            try ImageDecoder.decode(Fixtures.rgbJPEG, path: "small.jpg", maxPixels: 47)
        }
        XCTAssertEqual(try ImageDecoder.decode(Fixtures.rgbJPEG, path: "ok.jpg", maxPixels: 48).width, 8)
    }

    /// A large JPEG decoded for a small network input is DCT-scaled exactly as Pillow's
    /// `Image.draft` scales it; PNGs and JPEGs already small are decoded at full size.
    func testJPEGsAreDCTScaledLikePillowsDraft() throws {
        for (side, expected) in [
            (40, Fixtures.largeJPEGDraft40), (20, Fixtures.largeJPEGDraft20), (10, Fixtures.largeJPEGDraft10),
        ] {
            let image = try ImageDecoder.decode(Fixtures.largeJPEG, path: "large.jpg", fitting: side)
            XCTAssertEqual([image.width, image.height], [expected.width, expected.height], "side \(side)")
            assertClose(image.pixels.map(Float.init), expected.pixels.map(Float.init), rtol: 0, atol: 1)
        }
        XCTAssertEqual(try ImageDecoder.decode(Fixtures.largeJPEG, path: "large.jpg").width, 96)
        XCTAssertEqual(try ImageDecoder.decode(Fixtures.rgbJPEG, path: "small.jpg", fitting: 32).width, 8)
        XCTAssertEqual(try ImageDecoder.decode(Fixtures.rgbPNG, path: "small.png", fitting: 2).width, 8)
    }

    /// A FIFO named like an image is refused at once (opening it must not block).
    func testFIFOIsNotARegularFile() throws {
        let path = try temporaryFolder() + "/x.jpg"
        XCTAssertEqual(mkfifo(path, 0o600), 0)
        assertThrows("x.jpg", "not a regular file") { try ImageDecoder.decode(file: path) }
        assertThrows("x.jpg", "not a regular file") { try ImageDecoder.header(ofFile: path) }
    }

    /// A valid JPEG followed by a huge sparse tail is refused by its size, not read whole.
    func testHugeFileIsRefusedBySize() throws {
        let path = try temporaryFolder() + "/tail.jpg"
        try write(Fixtures.rgbJPEG, to: path)
        XCTAssertEqual(truncate(path, off_t(30) << 30), 0)
        XCTAssertEqual(try ImageDecoder.header(ofFile: path).width, Fixtures.width)
        assertThrows("tail.jpg", "more than the \(256 << 20) bytes") { try ImageDecoder.decode(file: path) }
    }
}
