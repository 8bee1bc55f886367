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

    /// The float values of rows `range`, row-major.
    public func read(_ range: Range<Int>) throws -> [Float] {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows, "rows \(range) outside 0..<\(rows)")
        let byteCount = range.count * columns * MemoryLayout<Float>.size
        let data: Data
        do {
            try handle.seek(toOffset: UInt64(dataOffset + range.lowerBound * columns * MemoryLayout<Float>.size))
            data = try handle.read(upToCount: byteCount) ?? Data()
        } catch {
            throw FileError(path, "cannot read rows \(range): \(error.localizedDescription)")
        }
        guard data.count == byteCount else { throw FileError(path, "ended while reading rows \(range)") }
        return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }
}
