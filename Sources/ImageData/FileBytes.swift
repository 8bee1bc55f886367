import Common
import Foundation

/// Whole-file reads with POSIX calls (fast for many small images), errors naming the path.
enum FileBytes {
    /// Reads a whole file into memory.
    static func load(_ path: String) throws -> [UInt8] {
        try load(path, upTo: .max).bytes
    }

    /// Reads at most `limit` bytes from the start of a file; also returns the file's size.
    static func load(_ path: String, upTo limit: Int) throws -> (bytes: [UInt8], fileBytes: Int) {
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
}
