/// A dense row-major float32 matrix: one embedding (or point) per row.
public struct Matrix: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    /// `rows * columns` values, row after row.
    public var values: [Float]

    public init(rows: Int, columns: Int, values: [Float]) {
        precondition(values.count == rows * columns, "\(values.count) values for a \(rows)x\(columns) matrix")
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    /// Row `i` as an array.
    public func row(_ i: Int) -> ArraySlice<Float> { values[i * columns..<(i + 1) * columns] }

    /// The column means (accumulated in Double) and the values with them subtracted, row-major.
    public func centered() -> (mean: [Double], values: [Float]) {
        var mean = [Double](repeating: 0, count: columns)
        for i in 0..<rows { for j in 0..<columns { mean[j] += Double(values[i * columns + j]) } }
        for j in 0..<columns { mean[j] /= Double(max(rows, 1)) }
        var centered = values
        for i in 0..<rows { for j in 0..<columns { centered[i * columns + j] -= Float(mean[j]) } }
        return (mean, centered)
    }

    /// The Euclidean norm of every row.
    public var rowNorms: [Float] {
        (0..<rows).map { i in
            var sum: Float = 0
            for v in row(i) { sum += v * v }
            return sum.squareRoot()
        }
    }

    /// The largest squared row norm for which every squared distance between rows is
    /// finite in float32: |a - b|^2 <= 2|a|^2 + 2|b|^2 <= 4 x this.
    public static let maximumSquaredNorm = Double(Float.greatestFiniteMagnitude) / 4

    /// The first row so large (squared norm above `maximumSquaredNorm`, e.g. values near
    /// 1e19) that squared distances to it may overflow float32, or nil when none is.
    /// Distances that overflow become infinities that rank and calibrate as garbage.
    public var firstRowWithUnboundedDistances: Int? {
        (0..<rows).first { i in
            row(i).reduce(0.0) { $0 + Double($1) * Double($1) } > Self.maximumSquaredNorm
        }
    }

    /// Each row divided by its Euclidean norm (zero rows stay zero).
    public func l2Normalized() -> Matrix {
        var out = values
        for (i, norm) in rowNorms.enumerated() where norm > 0 {
            for j in i * columns..<(i + 1) * columns { out[j] /= norm }
        }
        return Matrix(rows: rows, columns: columns, values: out)
    }

    /// Reads a 2-D float32 `.npy` file.
    public static func read(npy path: String) throws -> Matrix {
        let array = try NPY.read(path, expected: NPY.Expected(.float32, shape: [nil, nil], meaning: "a 2-D float32 matrix"))
        return Matrix(rows: array.shape[0], columns: array.shape[1], values: array.floats)
    }

    /// Writes the matrix as a 2-D float32 `.npy` file, atomically.
    public func write(npy path: String) throws {
        try NPY.write(values, shape: [rows, columns], to: path)
    }
}
