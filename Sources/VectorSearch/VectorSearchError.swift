import Common

/// An error from an index, a search or a clustering run, with a message for the user.
public enum VectorSearchError: Error, Equatable, CustomStringConvertible {
    /// FAISS rejected a call; carries FAISS's own message and the operation that failed.
    case faiss(operation: String, message: String)
    /// The request does not fit the data (bad k, mismatched dimension, too few points).
    case invalidArgument(String)
    /// A row holds NaN or an infinity.
    case nonFinite(row: Int)
    /// A file cannot be read (missing, not a regular file, damaged).
    case file(FileError)

    public var description: String {
        switch self {
        case .faiss(let operation, let message): "FAISS \(operation) failed: \(message)"
        case .invalidArgument(let message): message
        case .nonFinite(let row): "row \(row) holds NaN or an infinite value"
        case .file(let error): error.description
        }
    }
}

extension Matrix {
    /// Throws if any value is NaN or infinite, or a row is so large that squared distances
    /// overflow float32, naming the first such row.
    func checkFinite() throws(VectorSearchError) {
        for (i, value) in values.enumerated() where !value.isFinite {
            throw .nonFinite(row: i / Swift.max(columns, 1))
        }
        if let row = firstRowWithUnboundedDistances {
            throw .invalidArgument(
                "row \(row) is so large (squared norm above \(Float(Matrix.maximumSquaredNorm))) that distances overflow float32")
        }
    }
}
