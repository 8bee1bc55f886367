public import Common

/// Rows an index is built from, read a range at a time so that they never need to be in
/// memory all at once (an in-memory `Matrix`, or `EmbeddingFiles` streamed from disk).
public protocol VectorSource {
    /// How many rows.
    var count: Int { get }
    /// Floats per row.
    var dimension: Int { get }
    /// Rows `range` (ids `range.lowerBound...`) as a matrix.
    func rows(_ range: Range<Int>) throws -> Matrix
}

extension VectorSource {
    /// The rows with ids `ids`, in that order.
    public func rows(at ids: [Int]) throws -> Matrix {
        var values = [Float]()
        values.reserveCapacity(ids.count * dimension)
        for id in ids { values += try rows(id..<id + 1).values }
        return Matrix(rows: ids.count, columns: dimension, values: values)
    }

    /// `size` row ids spread evenly over the source (`i * count / size`), or every id when
    /// `size >= count`: the same ids whether the rows come from one file or from shards.
    public func evenlySpreadIDs(_ size: Int) -> [Int] {
        guard size < count else { return Array(0..<count) }
        return (0..<size).map { $0 * count / size }
    }

    /// Calls `body` with the first id and the rows of consecutive batches of `size` rows.
    public func forEachBatch(size: Int, _ body: (Int, Matrix) throws -> Void) throws {
        precondition(size > 0, "batch size must be positive, got \(size)")
        for start in stride(from: 0, to: count, by: size) {
            try body(start, try rows(start..<min(start + size, count)))
        }
    }
}

extension Matrix: VectorSource {
    public var count: Int { rows }
    public var dimension: Int { columns }

    public func rows(_ range: Range<Int>) -> Matrix {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows, "rows \(range) outside 0..<\(rows)")
        return Matrix(
            rows: range.count, columns: columns, values: Array(values[range.lowerBound * columns..<range.upperBound * columns]))
    }
}
