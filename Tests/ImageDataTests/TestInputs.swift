import Foundation
import XCTest

/// Writes `bytes` to `path`, creating parent folders.
func write(_ bytes: [UInt8], to path: String) throws {
    try FileManager.default.createDirectory(
        atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)), "cannot write \(path)")
}

/// Builds tar archives (ustar) and gzip files (stored deflate blocks) for the tests.
enum TestArchive {
    /// One archive member: a regular file, a folder, or a symbolic link.
    enum Member {
        case file(String, [UInt8])
        case folder(String)
        case symlink(String, target: String)
    }

    /// The tar bytes of `members`, ending with two zero blocks.
    static func tar(_ members: [Member]) -> [UInt8] {
        var out: [UInt8] = []
        for member in members {
            switch member {
            case .file(let name, let content):
                out += header(name, size: content.count, type: "0")
                out += content + [UInt8](repeating: 0, count: (512 - content.count % 512) % 512)
            case .folder(let name): out += header(name, size: 0, type: "5")
            case .symlink(let name, let target): out += header(name, size: 0, type: "2", link: target)
            }
        }
        return out + [UInt8](repeating: 0, count: 1024)
    }

    private static func header(_ name: String, size: Int, type: Character, link: String = "") -> [UInt8] {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int) { for (i, byte) in text.utf8.enumerated() { block[offset + i] = byte } }
        put(name, at: 0)
        put("0000644", at: 100)
        put("0000000", at: 108)
        put("0000000", at: 116)
        put(String(format: "%011o", size), at: 124)
        put("00000000000", at: 136)
        put(String(type), at: 156)
        put(link, at: 157)
        put("ustar", at: 257)
        put("00", at: 263)
        put("        ", at: 148)
        put(String(format: "%06o", block.reduce(0) { $0 + Int($1) }), at: 148)
        return block
    }

    /// A gzip file holding `bytes` in stored (uncompressed) deflate blocks.
    static func gzip(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 255]
        var start = 0
        repeat {
            let end = min(bytes.count, start + 65535)
            let length = end - start
            out += [
                end == bytes.count ? 1 : 0, UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF),
                UInt8(~length >> 8 & 0xFF),
            ]
            out += bytes[start..<end]
            start = end
        } while start < bytes.count
        return out + littleEndian(crc32(bytes)) + littleEndian(UInt32(truncatingIfNeeded: bytes.count))
    }

    private static func littleEndian(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(value >> (8 * $0) & 0xFF) } }

    private static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? crc >> 1 ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}
