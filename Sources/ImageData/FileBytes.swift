import Common
import Foundation

/// Whole-file reads with POSIX calls (fast for many small images), errors naming the path.
enum FileBytes {
    /// The largest image file read whole (256 MiB): no JPEG or PNG within the pixel cap
    /// needs more, and a file with a huge (sparse) tail is refused instead of read.
    static let maximumImageBytes = 256 << 20
    /// The largest data file read whole (1 GiB): CIFAR-10 archives and batches are far smaller.
    static let maximumDataBytes = 1 << 30

    /// Reads a whole file into memory, refusing files larger than `maxBytes`.
    static func load(_ path: String, maxBytes: Int) throws -> [UInt8] {
        let (bytes, fileBytes) = try load(path, upTo: maxBytes)
        guard fileBytes <= maxBytes else {
            throw FileError(path, "is \(fileBytes) bytes, more than the \(maxBytes)-byte limit for this kind of file")
        }
        return bytes
    }

    /// Reads at most `limit` bytes from the start of a file; also returns the file's size.
    ///
    /// The file is opened non-blocking so that a FIFO or device named like an image is
    /// refused as "not a regular file" instead of blocking the open.
    static func load(_ path: String, upTo limit: Int) throws -> (bytes: [UInt8], fileBytes: Int) {
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
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
        guard filled == size else {
            throw FileError(path, "read \(filled) of \(size) bytes (\(String(cString: strerror(errno))))")
        }
        return (bytes, fileBytes)
    }
}
