/// Sizes of arrays declared by file headers, computed without overflow.
public enum ArrayShape {
    /// The bytes an array of `shape` with `elementSize`-byte elements holds, or nil when a
    /// dimension is negative or the product does not fit in an `Int` (a header declaring
    /// (2^32, 2^32) must be an error, not a trap or a wrapped-around size).
    public static func byteCount(_ shape: [Int], elementSize: Int) -> Int? {
        var total = elementSize
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (product, overflow) = total.multipliedReportingOverflow(by: dimension)
            guard !overflow else { return nil }
            total = product
        }
        return total
    }
}
