import Foundation

/// The rows of a 2-D float32 `.npy` file, read a range at a time instead of all at once.
///
/// Opening reads only the header and checks the file is as long as its shape says; each
/// `read` seeks to the rows asked for, so a file larger than memory can be streamed.
public final class NPYRows {
    /// The file.
    public var path: String { file.path }
    /// How many rows the file holds.
    public let rows: Int
    /// Floats per row.
    public let columns: Int
    private let dataOffset: Int
    private let file: RegularFile

    /// Opens `path`; throws a `FileError` naming it unless it is a 2-D float32 `.npy` of the right length.
    public init(path: String) throws {
        let file = try RegularFile(path)
        let header = try NPY.Header(
            of: file, expected: NPY.Expected(.float32, shape: [nil, nil], meaning: "one embedding per row"))
        self.file = file
        self.rows = header.shape[0]
        self.columns = header.shape[1]
        self.dataOffset = header.dataOffset
    }

    /// The float values of rows `range`, row-major, read straight into the array.
    public func read(_ range: Range<Int>) throws -> [Float] {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows, "rows \(range) outside 0..<\(rows)")
        let count = range.count * columns
        return try [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            try file.read(
                into: UnsafeMutableRawBufferPointer(buffer),
                at: dataOffset + range.lowerBound * columns * MemoryLayout<Float>.size)
            initialized = count
        }
    }
}
