import TestSupport
import XCTest

@testable import ImageData

final class ImageDecoderTests: XCTestCase {
    /// Decodes a fixture and compares it with Pillow's pixels, allowing `tolerance` per byte.
    private func check(_ bytes: [UInt8], _ expected: [UInt8], tolerance: Int = 0, file: StaticString = #filePath, line: UInt = #line) throws {
        let image = try ImageDecoder.decode(bytes, path: "fixture")
        XCTAssertEqual(image.width, Fixtures.width, file: file, line: line)
        XCTAssertEqual(image.height, Fixtures.height, file: file, line: line)
        assertClose(image.pixels.map(Float.init), expected.map(Float.init), rtol: 0, atol: Float(tolerance), file: file, line: line)
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

    func testSixteenBitPNGsKeepTheHighByte() throws {
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
        assertThrows("cut.jpg", "corrupt JPEG") { try ImageDecoder.decode(Array(jpeg.prefix(jpeg.count * 2 / 3)), path: "cut.jpg") }
        assertThrows("header.jpg", "corrupt JPEG") { try ImageDecoder.decode(Array(jpeg.prefix(20)), path: "header.jpg") }
        assertThrows("cut.png", "corrupt PNG") { try ImageDecoder.decode(Array(png.prefix(png.count - 20)), path: "cut.png") }
        var flipped = png
        flipped[40] ^= 0xFF
        assertThrows("crc.png", "corrupt PNG") { try ImageDecoder.decode(flipped, path: "crc.png") }
        assertThrows("text.jpg", "not a JPEG or PNG", "68 65 6c 6c") { try ImageDecoder.decode(Array("hello".utf8), path: "text.jpg") }
        assertThrows("empty.png", "empty file") { try ImageDecoder.decode([], path: "empty.png") }
        assertThrows("/no/such.jpg", "cannot open") { try ImageDecoder.decode(file: "/no/such.jpg") }
    }
}
