import Common
import Foundation

/// Whole-file reads of images and data archives, with the size limits of each kind.
enum FileBytes {
    /// The largest image file read whole (256 MiB): no JPEG or PNG within the pixel cap
    /// needs more, and a file with a huge (sparse) tail is refused instead of read.
    static let maximumImageBytes = 256 << 20
    /// The largest data file read whole (1 GiB): CIFAR-10 archives and batches are far smaller.
    static let maximumDataBytes = 1 << 30

    /// Reads a whole file into memory, refusing files larger than `maxBytes`.
    static func load(_ path: String, maxBytes: Int) throws -> [UInt8] {
        try RegularFile.contents(path, maxBytes: maxBytes, kind: "file of this kind")
    }

    /// Reads at most `limit` bytes from the start of a file; also returns the file's size.
    static func load(_ path: String, upTo limit: Int) throws -> (bytes: [UInt8], fileBytes: Int) {
        let file = try RegularFile(path)
        return (try file.bytes(0..<min(file.size, limit)), file.size)
    }
}
