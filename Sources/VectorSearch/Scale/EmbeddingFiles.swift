public import Common

/// Several float32 `.npy` embedding files read as one source of rows, in order, a range at a
/// time (the ids of a file's rows continue after the previous file's).
///
/// Every file must hold 2-D float32 rows of one dimension; rows read are checked to be
/// finite and optionally L2-normalized, and errors name the file and the row.
public final class EmbeddingFiles: VectorSource {
    /// The files, in order.
    public let files: [NPYRows]
    /// Whether rows are L2-normalized as they are read.
    public let normalize: Bool
    public let count: Int
    public let dimension: Int
    /// The id of each file's first row.
    private let starts: [Int]

    /// Opens `paths` (at least one); throws naming the first file that is empty, not a 2-D
    /// float32 `.npy`, or of another dimension than the first.
    public init(paths: [String], normalize: Bool) throws {
        precondition(!paths.isEmpty, "no embedding files")
        let files = try paths.map { try NPYRows(path: $0) }
        for file in files where file.rows == 0 || file.columns == 0 {
            throw FileError(file.path, "holds no embeddings (shape \(file.rows)x\(file.columns))", kind: .wrongShape)
        }
        for file in files.dropFirst() where file.columns != files[0].columns {
            throw FileError(
                file.path, "holds \(file.columns)-dimensional rows, \(files[0].path) \(files[0].columns)-dimensional",
                kind: .wrongShape)
        }
        var starts = [Int]()
        var total = 0
        for file in files {
            starts.append(total)
            total += file.rows
        }
        self.files = files
        self.normalize = normalize
        self.starts = starts
        self.count = total
        self.dimension = files[0].columns
    }

    public func rows(_ range: Range<Int>) throws -> Matrix {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "rows \(range) outside 0..<\(count)")
        var parts = [Matrix]()
        var id = range.lowerBound
        while id < range.upperBound {
            let f = starts.lastIndex { $0 <= id } ?? 0
            let local = id - starts[f]
            let end = min(files[f].rows, local + range.upperBound - id)
            let part = Matrix(rows: end - local, columns: dimension, values: try files[f].read(local..<end))
            try check(part, file: files[f], firstRow: local)
            parts.append(part)
            id += end - local
        }
        // Rows of one file are returned as read, without a second copy.
        let matrix =
            parts.count == 1 ? parts[0] : Matrix(rows: range.count, columns: dimension, values: parts.flatMap(\.values))
        return normalize ? matrix.l2Normalized() : matrix
    }

    /// Throws naming the file and row of the first non-finite value or overflowing row.
    private func check(_ part: Matrix, file: NPYRows, firstRow: Int) throws {
        if let bad = part.values.firstIndex(where: { !$0.isFinite }) {
            throw FileError(file.path, "row \(firstRow + bad / dimension) holds NaN or an infinite value")
        }
        if let row = part.firstRowWithUnboundedDistances {
            throw FileError(file.path, "row \(firstRow + row) is so large that its distances (and norm) overflow float32")
        }
    }
}
