import Foundation

/// A regular file open for reading: the one way this project opens files that come from outside.
///
/// The file is opened non-blocking and checked with `fstat` before anything is read, so a
/// FIFO, device or folder named like a data file is refused as "not a regular file" instead of
/// blocking the open or never ending, and its size is known before any buffer is allocated.
/// Reads use `pread(2)` in a loop (resuming after short reads); every error names the file.
public final class RegularFile {
    /// The file, as given.
    public let path: String
    /// Its size in bytes when it was opened.
    public let size: Int
    private let descriptor: Int32

    /// `path` made absolute (from the current folder) and standardized.
    public static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }

    /// Opens `path`; throws a `FileError` naming it when it is missing, unreadable or not a
    /// regular file (symbolic links are followed).
    public init(_ path: String) throws(FileError) {
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else {
            guard errno != ENOENT else { throw FileError(path, "no such file", kind: .missing) }
            throw FileError(path, "cannot open (\(String(cString: strerror(errno))))", kind: .unreadable)
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw FileError(path, "cannot stat (\(reason))", kind: .unreadable)
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            close(descriptor)
            let kind = status.st_mode & S_IFMT == S_IFDIR ? "a folder" : "not a regular file (a FIFO, device or socket)"
            throw FileError(path, "is \(kind)", kind: .notARegularFile)
        }
        self.path = path
        self.size = Int(status.st_size)
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// Throws a `FileError` naming `path` unless it is a regular file that can be opened.
    public static func check(_ path: String) throws(FileError) { _ = try RegularFile(path) }

    /// The whole file at `path`, refusing (before reading) a file larger than `maxBytes`;
    /// `kind` names what the file should be in that message ("index description").
    public static func contents(_ path: String, maxBytes: Int, kind: String) throws -> [UInt8] {
        let file = try RegularFile(path)
        guard file.size <= maxBytes else {
            throw FileError(path, "is \(file.size) bytes, more than the \(maxBytes) bytes a \(kind) may take", kind: .tooLarge)
        }
        return try file.bytes(0..<file.size)
    }

    /// The bytes at `range` (which must lie inside the file).
    public func bytes(_ range: Range<Int>) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: range.count) { buffer, initialized in
            try read(into: UnsafeMutableRawBufferPointer(buffer), at: range.lowerBound)
            initialized = range.count
        }
    }

    /// Fills `buffer` from byte `offset` on; throws when the file ends first or a read fails.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws {
        guard offset >= 0, !offset.addingReportingOverflow(buffer.count).overflow else {
            throw FileError(path, "cannot read \(buffer.count) bytes at offset \(offset)", kind: .truncated)
        }
        var done = 0
        while done < buffer.count {
            let got = pread(descriptor, buffer.baseAddress! + done, min(buffer.count - done, 1 << 30), off_t(offset + done))
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else {
                let reason = got == 0 ? "the file ended" : String(cString: strerror(errno))
                throw FileError(
                    path, "cannot read bytes \(offset)..<\(offset + buffer.count): \(reason)",
                    kind: got == 0 ? .truncated : .unreadable)
            }
            done += got
        }
    }
}
