import Foundation

/// The rows of a 2-D float32 `.npy` file, read a range at a time instead of all at once.
///
/// Opening reads only the header and checks the file is as long as its shape says; each
/// `read` seeks to the rows asked for, so a file larger than memory can be streamed.
public final class NPYRows {
    /// The file.
    public let path: String
    /// How many rows the file holds.
    public let rows: Int
    /// Floats per row.
    public let columns: Int
    private let dataOffset: Int
    private let handle: FileHandle

    /// Opens `path`; throws a `FileError` naming it unless it is a 2-D float32 `.npy` of the right length.
    public init(path: String) throws {
        try RegularFile.check(path)
        guard let handle = FileHandle(forReadingAtPath: path) else { throw FileError(path, "cannot read file") }
        let prefix: Data
        do {
            prefix = try handle.read(upToCount: NPY.Header.maximumLength) ?? Data()
        } catch {
            throw FileError(path, "cannot read file: \(error.localizedDescription)")
        }
        let header = try NPY.Header([UInt8](prefix), path: path)
        guard header.dtype == .float32, header.shape.count == 2 else {
            throw FileError(path, "expected a 2-D float32 array, found \(header.dtype.rawValue) with shape \(header.shape)")
        }
        let length: UInt64
        do {
            length = try handle.seekToEnd()
        } catch {
            throw FileError(path, "cannot read file: \(error.localizedDescription)")
        }
        guard length == UInt64(header.dataOffset + header.byteCount) else {
            throw FileError(
                path,
                "holds \(Int(length) - header.dataOffset) data bytes, shape \(header.shape) needs \(header.byteCount) (truncated?)"
            )
        }
        self.path = path
        self.handle = handle
        self.rows = header.shape[0]
        self.columns = header.shape[1]
        self.dataOffset = header.dataOffset
    }

    deinit { try? handle.close() }

    /// The float values of rows `range`, row-major, read straight into the array (`pread(2)`
    /// in a loop, which also resumes after short reads).
    public func read(_ range: Range<Int>) throws -> [Float] {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows, "rows \(range) outside 0..<\(rows)")
        let count = range.count * columns
        let start = dataOffset + range.lowerBound * columns * MemoryLayout<Float>.size
        var failure: String?
        let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            let bytes = UnsafeMutableRawBufferPointer(buffer)
            var done = 0
            while done < bytes.count {
                let got = pread(
                    handle.fileDescriptor, bytes.baseAddress! + done, min(bytes.count - done, 1 << 30), off_t(start + done))
                if got < 0 && errno == EINTR { continue }
                guard got > 0 else {
                    failure =
                        got == 0
                        ? "ended while reading rows \(range)" : "cannot read rows \(range): \(String(cString: strerror(errno)))"
                    bytes.initializeMemory(as: UInt8.self, repeating: 0)
                    break
                }
                done += got
            }
            initialized = count
        }
        if let failure { throw FileError(path, failure) }
        return values
    }
}
